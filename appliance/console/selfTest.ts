/**
 * The commissioning self-test: the appliance places a SIP call to its own SIP listener over
 * loopback UDP (INVITE with a PCMU offer, digest auth when accounts are configured, ACK), streams a
 * read-speech clip with a known transcript as paced 20 ms RTP packets, hangs up with BYE and then
 * reads the transcript the real pipeline (SIP → RTP → jitter buffer → G.711 → ASR → store) wrote.
 *
 * The clip is from Debian's pocketsphinx-testdata (LibriVox read speech with reference
 * transcripts), a package the appliance image installs; there is no bundled audio.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWav } from '../audio/wav.js';
import { StreamingResampler } from '../audio/resample.js';
import { encodeMulaw } from '../codecs/g711.js';
import type { CallerHasher } from '../calls/callerHash.js';
import { evxError } from '../errors.js';
import type { EventBus } from '../events/appEvents.js';
import { digestResponse } from '../sip/auth.js';
import { parseSipMessage } from '../sip/parser.js';
import type { SipResponse } from '../sip/message.js';
import type { Store } from '../store/database.js';
import { countWordEdits } from '../text/wordEdits.js';

export const SELF_TEST_CLIP_DIR = '/usr/share/pocketsphinx/test/data/librivox';
const CLIP_ID = 'sense_and_sensibility_01_austen_64kb-0880';

export interface SelfTestClip {
  id: string;
  reference: string;
  /** 8 kHz μ-law bytes. */
  ulaw: Uint8Array;
}

export interface SelfTestResult {
  ok: boolean;
  callId: string;
  sipStatus: number;
  reference: string;
  transcript: string;
  wordErrors: number;
  audioMs: number;
  /** From the last packet carrying speech (before the trailing silence) to the transcript being stored. */
  finalLatencyMs: number | null;
  steps: { name: string; ok: boolean; detail: string }[];
}

/** Load the self-test clip and its reference transcript. */
export function loadSelfTestClip(dir = SELF_TEST_CLIP_DIR, id = CLIP_ID): SelfTestClip {
  const wavPath = join(dir, `${id}.wav`);
  if (!existsSync(wavPath)) {
    throw evxError('EVX_ERR_SELF_TEST', `self-test audio ${wavPath} is missing (apt-get install pocketsphinx-testdata)`, {
      details: { step: 'clip' },
    });
  }
  const transcription = readFileSync(join(dir, 'transcription'), 'utf8');
  const line = transcription.split('\n').find((l) => l.includes(`(${id})`));
  const reference = (line ?? '')
    .replace(/<\/?s>/g, '')
    .replace(/\(.*\)/, '')
    .trim();
  const wav = parseWav(readFileSync(wavPath), wavPath);
  const resampler = new StreamingResampler(wav.sampleRateHz, 8000);
  const float = Float32Array.from(wav.samples, (s) => s / 32768);
  const out = new Float32Array(resampler.maxOutput(float.length) + resampler.maxOutput(0) + 64);
  let n = resampler.process(float, out);
  n += resampler.flush(out.subarray(n));
  const lin = Int16Array.from(out.subarray(0, n), (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32768))));
  const ulaw = new Uint8Array(lin.length);
  encodeMulaw(lin, ulaw);
  return { id, reference, ulaw };
}

/** Word-level edit distance (the self-test's accuracy figure). */
export function wordErrorCount(reference: string, hypothesis: string): number {
  const norm = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9' ]/g, ' ')
      .split(/\s+/)
      .filter(Boolean);
  return countWordEdits(norm(reference), norm(hypothesis)).total;
}

export interface SelfTestDeps {
  sipHost: string;
  sipPort: number;
  accounts: readonly { username: string; password: string }[];
  bus: EventBus;
  store: Store;
  hasher: CallerHasher;
  clip: SelfTestClip;
  /** How long to wait for the call to be released and its transcript stored after BYE. */
  settleMs?: number;
}

/** Place the loopback call and report every step. Throws EVX_ERR_SELF_TEST only when no call could be set up. */
export async function runSelfTest(deps: SelfTestDeps): Promise<SelfTestResult> {
  const steps: SelfTestResult['steps'] = [];
  const host = deps.sipHost === '0.0.0.0' || deps.sipHost === '' ? '127.0.0.1' : deps.sipHost;
  const caller = `selftest-${randomBytes(4).toString('hex')}`;
  // The call manager hashes whatever identity the SIP layer hands it (today the whole From header
  // value): accept either form so the self-test finds its call without knowing which.
  const callerHashes = new Set([deps.hasher.hash(caller)]);
  const sip = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const rtp = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const responses: SipResponse[] = [];
  const waiters: (() => void)[] = [];
  sip.on('message', (buf) => {
    const r = parseSipMessage(buf);
    if (r.ok && r.message.kind === 'response') {
      responses.push(r.message);
      for (const w of waiters.splice(0)) w();
    } else if (r.ok && r.message.kind === 'request') {
      // A BYE or re-INVITE from the appliance is answered 200 so the dialog ends cleanly.
      const m = r.message;
      const lines = [
        `SIP/2.0 200 OK`,
        ...['via', 'from', 'to', 'call-id', 'cseq'].flatMap((h) =>
          m.headers.getAll(h).map((v) => `${h === 'call-id' ? 'Call-ID' : h === 'cseq' ? 'CSeq' : h[0]!.toUpperCase() + h.slice(1)}: ${v}`),
        ),
        'Content-Length: 0',
        '',
        '',
      ];
      sip.send(Buffer.from(lines.join('\r\n')), sipRemotePort(), host);
    }
  });
  rtp.on('message', () => {
    // The appliance may send prompts or comfort noise; the self-test does not listen.
  });
  const sipRemotePort = () => deps.sipPort;
  const bind = (s: dgram.Socket) => new Promise<void>((resolve, reject) => s.once('error', reject).bind(0, host, () => resolve()));
  // Calls started while the self-test runs; ours is the one whose stored caller hash matches.
  // (Store writes may be deferred, so the match is made by polling, not inside the event.)
  const started: string[] = [];
  const offStarted = deps.bus.subscribe((e) => {
    if (e.type === 'call.started') started.push(e.callId);
  });
  const findCall = async (timeoutMs: number): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const hit = started.find((id) => callerHashes.has(deps.store.calls.get(id)?.callerHash ?? ''));
      if (hit !== undefined) return hit;
      await new Promise((r) => setTimeout(r, 50));
    }
    return '';
  };
  const ended = (callId: string) =>
    new Promise<void>((resolve) => {
      const off = deps.bus.subscribe((e) => {
        if (e.type === 'call.ended' && e.callId === callId) {
          off();
          resolve();
        }
      });
      setTimeout(() => {
        off();
        resolve();
      }, deps.settleMs ?? 10_000).unref();
    });
  try {
    await bind(sip);
    await bind(rtp);
    const localSip = sip.address().port;
    const localRtp = rtp.address().port;
    const sipCallId = `${randomBytes(8).toString('hex')}@edgevox-selftest`;
    const fromTag = randomBytes(4).toString('hex');
    const fromHeader = `<sip:${caller}@${host}:${localSip}>;tag=${fromTag}`;
    callerHashes.add(deps.hasher.hash(fromHeader));
    const uri = `sip:edgevox@${host.includes(':') ? `[${host}]` : host}:${deps.sipPort}`;
    let cseq = 1;
    const sdp = [
      'v=0',
      `o=selftest 1 1 IN IP4 ${host}`,
      's=EdgeVox self-test',
      `c=IN IP4 ${host}`,
      't=0 0',
      `m=audio ${localRtp} RTP/AVP 0`,
      'a=rtpmap:0 PCMU/8000',
      'a=sendonly',
      '',
    ].join('\r\n');
    const request = (method: string, opts: { toTag?: string; body?: string; extra?: string[]; cseqNo?: number } = {}) => {
      const body = opts.body ?? '';
      const lines = [
        `${method} ${uri} SIP/2.0`,
        `Via: SIP/2.0/UDP ${host}:${localSip};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
        'Max-Forwards: 70',
        `From: ${fromHeader}`,
        `To: <${uri}>${opts.toTag ? `;tag=${opts.toTag}` : ''}`,
        `Call-ID: ${sipCallId}`,
        `CSeq: ${opts.cseqNo ?? cseq++} ${method}`,
        `Contact: <sip:${caller}@${host}:${localSip}>`,
        'User-Agent: EdgeVox self-test',
        ...(opts.extra ?? []),
        ...(body ? ['Content-Type: application/sdp'] : []),
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ];
      sip.send(Buffer.from(lines.join('\r\n')), deps.sipPort, host);
    };
    const waitFinal = async (method: string, cseqNo: number, timeoutMs = 8000): Promise<SipResponse> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = responses.find((r) => r.status >= 200 && r.headers.get('cseq') === `${cseqNo} ${method}`);
        if (hit) return hit;
        if (Date.now() > deadline)
          throw evxError('EVX_ERR_SELF_TEST', `no final response to ${method} from the SIP listener at ${host}:${deps.sipPort}`, {
            details: { step: 'sip' },
          });
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200).unref();
        });
      }
    };

    let inviteCseq = cseq;
    request('INVITE', { body: sdp });
    let answer = await waitFinal('INVITE', inviteCseq);
    if ((answer.status === 401 || answer.status === 407) && deps.accounts.length > 0) {
      request('ACK', { toTag: tagOf(answer.headers.get('to')), cseqNo: inviteCseq });
      const challenge = answer.headers.get(answer.status === 401 ? 'www-authenticate' : 'proxy-authenticate') ?? '';
      const param = (k: string) => new RegExp(`${k}="?([^",]+)"?`, 'i').exec(challenge)?.[1];
      const account = deps.accounts[0]!;
      const realm = param('realm') ?? '';
      const nonce = param('nonce') ?? '';
      const algorithm = (param('algorithm') ?? 'MD5').toUpperCase() === 'SHA-256' ? 'SHA-256' : 'MD5';
      const qop = /qop="?[^"]*auth/i.test(challenge) ? 'auth' : undefined;
      const cnonce = randomBytes(4).toString('hex');
      const response = digestResponse({
        algorithm,
        username: account.username,
        realm,
        password: account.password,
        method: 'INVITE',
        uri,
        nonce,
        qop,
        nc: '00000001',
        cnonce,
      });
      const header = `Digest username="${account.username}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=${algorithm}${qop ? `, qop=auth, nc=00000001, cnonce="${cnonce}"` : ''}`;
      inviteCseq = cseq;
      request('INVITE', { body: sdp, extra: [`${answer.status === 401 ? 'Authorization' : 'Proxy-Authorization'}: ${header}`] });
      answer = await waitFinal('INVITE', inviteCseq);
      steps.push({ name: 'sip-auth', ok: answer.status === 200, detail: `digest as the first configured account: ${answer.status}` });
    }
    const toTag = tagOf(answer.headers.get('to'));
    if (answer.status !== 200) {
      request('ACK', { toTag, cseqNo: inviteCseq });
      steps.push({ name: 'sip-invite', ok: false, detail: `INVITE answered ${answer.status} ${answer.reason}` });
      return {
        ok: false,
        callId: '',
        sipStatus: answer.status,
        reference: deps.clip.reference,
        transcript: '',
        wordErrors: -1,
        audioMs: 0,
        finalLatencyMs: null,
        steps,
      };
    }
    request('ACK', { toTag, cseqNo: inviteCseq });
    const remote = parseSdpAudio(answer.body.toString('utf8'));
    steps.push({ name: 'sip-invite', ok: true, detail: `200 OK, media at ${remote.host}:${remote.port}` });
    const callId = await findCall(5000);
    steps.push({
      name: 'call-started',
      ok: callId !== '',
      detail: callId !== '' ? 'the call manager started the call' : 'no call.started event for the self-test call',
    });

    // Paced RTP: 160 bytes (20 ms) per packet, with a second of trailing silence so the endpointer fires.
    const silence = new Uint8Array(8000).fill(0xff);
    const audio = new Uint8Array(deps.clip.ulaw.length + silence.length);
    audio.set(deps.clip.ulaw);
    audio.set(silence, deps.clip.ulaw.length);
    const ssrc = randomBytes(4).readUInt32BE();
    const started = performance.now();
    let seq = randomBytes(2).readUInt16BE();
    let ts = 0;
    let packets = 0;
    let speechEndAt = 0;
    for (let off = 0; off < audio.length; off += 160) {
      if (speechEndAt === 0 && off >= deps.clip.ulaw.length) speechEndAt = Date.now();
      const payload = audio.subarray(off, Math.min(audio.length, off + 160));
      const pkt = Buffer.alloc(12 + payload.length);
      pkt[0] = 0x80;
      pkt[1] = packets === 0 ? 0x80 : 0x00;
      pkt.writeUInt16BE(seq & 0xffff, 2);
      pkt.writeUInt32BE(ts >>> 0, 4);
      pkt.writeUInt32BE(ssrc, 8);
      pkt.set(payload, 12);
      rtp.send(pkt, remote.port, remote.host);
      seq++;
      ts += payload.length;
      packets++;
      const due = started + packets * 20;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const audioMs = Math.round((audio.length / 8000) * 1000);
    steps.push({ name: 'rtp', ok: true, detail: `${packets} PCMU packets (${audioMs} ms) sent` });
    const byeCseq = cseq;
    const endedP = callId !== '' ? ended(callId) : Promise.resolve();
    request('BYE', { toTag });
    const bye = await waitFinal('BYE', byeCseq).catch(() => null);
    steps.push({ name: 'sip-bye', ok: bye?.status === 200, detail: bye === null ? 'no answer to BYE' : `BYE answered ${bye.status}` });
    await endedP;
    const utterances = callId !== '' ? deps.store.utterances.listByCall(callId) : [];
    const transcript = utterances
      .map((u) => u.text)
      .join(' ')
      .trim();
    const lastStored = utterances.reduce((m, u) => Math.max(m, u.createdAt), 0);
    const wordErrors = wordErrorCount(deps.clip.reference, transcript);
    const refWords = deps.clip.reference.split(/\s+/).filter(Boolean).length;
    const ok = transcript !== '' && wordErrors <= Math.ceil(refWords / 2);
    steps.push({
      name: 'transcript',
      ok,
      detail:
        transcript === ''
          ? 'no transcript stored (is speech recognition running?)'
          : `${wordErrors} word errors against ${refWords} reference words`,
    });
    return {
      ok: ok && steps.every((s) => s.ok),
      callId,
      sipStatus: answer.status,
      reference: deps.clip.reference,
      transcript,
      wordErrors,
      audioMs,
      finalLatencyMs: lastStored > 0 && speechEndAt > 0 ? lastStored - speechEndAt : null,
      steps,
    };
  } finally {
    offStarted();
    sip.close();
    rtp.close();
  }
}

function tagOf(header: string | undefined): string | undefined {
  return header === undefined ? undefined : /;\s*tag=([^;\s]+)/i.exec(header)?.[1];
}

function parseSdpAudio(sdp: string): { host: string; port: number } {
  const c = /^c=IN IP[46] (\S+)/m.exec(sdp)?.[1];
  const m = /^m=audio (\d+)/m.exec(sdp)?.[1];
  if (c === undefined || m === undefined)
    throw evxError('EVX_ERR_SELF_TEST', 'the 200 OK carried no usable SDP answer', { details: { step: 'sdp' } });
  return { host: c, port: Number(m) };
}
