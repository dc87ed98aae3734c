/**
 * The SIP interop matrix: third-party phones (baresip 1.0 and linphonec 5.1 from Debian: two
 * independent SIP, RTP and SRTP stacks) call the SipServer over {UDP, TCP, TLS} x {RTP, SRTP} x {PCMU, PCMA, G.722}. A cell
 * passes when the call is established, the agreed codec is the one asked for, the caller's speech
 * reaches the leg sink (non-silent frames), the leg is encrypted exactly when SRTP was asked for,
 * the box sends media back, and the phone's hang-up ends the call (remote_bye). Prints the matrix.
 *
 *   make interop-sip
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SipServer } from '../../appliance/telephony/sip-server.js';
import type { CallEndedEvent, CallStartedEvent } from '../../appliance/telephony/types.js';
import { haveBaresip, makeBaresipWav, startBaresip, type BaresipCodec, type BaresipTransport } from '../helpers/baresip.js';
import { haveLinphone, startLinphone } from '../helpers/linphone.js';
import { makeBenchCertificate } from '../../tools/telephony/callerProcess.js';
import { rms, SHARED } from '../e2e/sip/harness.js';

const TRANSPORTS: readonly BaresipTransport[] = ['udp', 'tcp', 'tls'];
const CODECS: readonly BaresipCodec[] = ['PCMU', 'PCMA', 'G722'];
const MEDIA = ['rtp', 'srtp'] as const;

interface Cell {
  phone: string;
  transport: BaresipTransport;
  media: (typeof MEDIA)[number];
  codec: BaresipCodec;
  result: string;
}

describe.skipIf(!haveBaresip())('SIP interop matrix', () => {
  let work = '';
  let wav = '';
  let server: SipServer;
  let frames: Int16Array[] = [];
  const started: CallStartedEvent[] = [];
  const ended: CallEndedEvent[] = [];
  const cells: Cell[] = [];

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'evx-interop-'));
    wav = makeBaresipWav(path.join(SHARED, 'datasets/speech-en/0.wav'), path.join(work, 'speech-8k.wav'), 10);
    const pem = makeBenchCertificate(work);
    const material = { cert: readFileSync(pem.certFile, 'utf8'), key: readFileSync(pem.keyFile, 'utf8') };
    const rtpBase = 40000 + 2 * Math.floor(Math.random() * 5000);
    server = new SipServer({
      port: 0,
      tlsPort: 0,
      transports: ['udp', 'tcp', 'tls'],
      tls: { certificate: () => material },
      rtpPortMin: rtpBase,
      rtpPortMax: rtpBase + 39,
      sinkFactory: () => ({ onFrame: (pcm) => frames.push(Int16Array.from(pcm)), close: () => {} }),
    });
    server.events.on('call.started', (e) => started.push(e));
    server.events.on('call.ended', (e) => ended.push(e));
    await server.listen();
  });

  afterAll(async () => {
    await server?.close();
    rmSync(work, { recursive: true, force: true });
    const lines = ['', 'SIP interop matrix (phone x transport x media x codec): ok, or why not', ''];
    const header = ['phone', 'transport', 'media', ...CODECS];
    const rows = new Map<string, Cell[]>();
    for (const c of cells)
      rows.set(`${c.phone}|${c.transport}|${c.media}`, [...(rows.get(`${c.phone}|${c.transport}|${c.media}`) ?? []), c]);
    lines.push(`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`);
    for (const [key, row] of rows) {
      const [phone, transport, media] = key.split('|');
      lines.push(
        `| ${phone} | ${transport} | ${media} | ${CODECS.map((k) => row.find((c) => c.codec === k)?.result ?? '-').join(' | ')} |`,
      );
    }
    console.log(lines.join('\n'));
  });

  /** What a phone driver must do for one cell. */
  interface Phone {
    call(uri: string): Promise<void>;
    hangup(): Promise<void>;
    close(): Promise<unknown>;
  }

  async function baresip(transport: BaresipTransport, media: 'rtp' | 'srtp', codec: BaresipCodec): Promise<Phone> {
    const phone = await startBaresip({ wav, transport, codecs: [codec], mediaEnc: media === 'srtp' ? 'srtp-mand' : 'none' });
    return {
      call: async (uri) => {
        await phone.dial(uri);
        await phone.waitForType('CALL_ESTABLISHED', 8000);
      },
      hangup: async () => {
        await phone.hangup();
        await phone.waitForType('CALL_CLOSED', 5000);
      },
      close: () => phone.close(),
    };
  }

  async function linphone(transport: BaresipTransport, media: 'rtp' | 'srtp', codec: BaresipCodec): Promise<Phone> {
    const phone = await startLinphone({ wav, transport, codecs: [codec], mediaEnc: media === 'srtp' ? 'srtp-mand' : 'none' });
    let id = 0;
    return {
      call: async (uri) => {
        id = await phone.dial(uri);
        await phone.waitEstablished(id);
      },
      hangup: async () => {
        await phone.hangup(id);
      },
      close: () => phone.close(),
    };
  }

  async function cell(
    start: (t: BaresipTransport, m: 'rtp' | 'srtp', c: BaresipCodec) => Promise<Phone>,
    transport: BaresipTransport,
    media: 'rtp' | 'srtp',
    codec: BaresipCodec,
  ): Promise<string> {
    frames = [];
    const before = { started: started.length, ended: ended.length };
    let phone: Phone | undefined;
    try {
      phone = await start(transport, media, codec);
      const port = transport === 'tls' ? server.tlsPort : server.port;
      await phone.call(`sip:edgevox@127.0.0.1:${port}`);
      const deadline = Date.now() + 8000;
      while (frames.filter((f) => rms(f) > 300).length < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const call = started[before.started];
      if (call === undefined) return 'no call on the server';
      const problems: string[] = [];
      if (call.transport !== transport) problems.push(`transport ${call.transport}`);
      if (call.legs[0]!.codec !== codec) problems.push(`codec ${call.legs[0]!.codec}`);
      const loud = frames.filter((f) => rms(f) > 300).length;
      if (loud < 50) problems.push(`${loud} speech frames`);
      const leg = server.leg(call.callId, 'leg0');
      if (leg.rtp.encrypted !== (media === 'srtp')) problems.push(`encrypted=${leg.rtp.encrypted}`);
      if (leg.rtp.counters.packetsSent === 0) problems.push('box sent nothing');
      if (leg.rtp.counters.srtpAuthFailures > 0) problems.push(`${leg.rtp.counters.srtpAuthFailures} SRTP auth failures`);
      await phone.hangup();
      const t0 = Date.now();
      while (ended.length === before.ended && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 50));
      const end = ended[before.ended];
      if (end?.reason !== 'remote_bye') problems.push(`ended: ${end?.reason ?? 'never'}`);
      return problems.length === 0 ? 'ok' : problems.join('; ');
    } catch (err) {
      return `failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
    } finally {
      await phone?.close();
    }
  }

  it('baresip 1.0', async () => {
    for (const transport of TRANSPORTS) {
      for (const media of MEDIA) {
        for (const codec of CODECS) {
          const result = await cell(baresip, transport, media, codec);
          cells.push({ phone: 'baresip 1.0.0', transport, media, codec, result });
        }
      }
    }
    expect(cells.filter((c) => c.phone.startsWith('baresip') && c.result !== 'ok')).toEqual([]);
  });

  it.skipIf(!haveLinphone())('linphonec 5.1', async () => {
    for (const transport of TRANSPORTS) {
      for (const media of MEDIA) {
        for (const codec of CODECS) {
          const result = await cell(linphone, transport, media, codec);
          cells.push({ phone: 'linphonec 5.1.65', transport, media, codec, result });
        }
      }
    }
    expect(cells.filter((c) => c.phone.startsWith('linphonec') && c.result !== 'ok')).toEqual([]);
  });
});
