/**
 * baresip (Debian's, a phone someone else wrote) calls the whole appliance over SIP over TLS with
 * SRTP required (`mediaenc=srtp-mand`): the call is transcribed, and a capture of the loopback
 * shows neither readable SIP nor any of the clip's G.711 bytes. The same capture check run on a
 * plain UDP/RTP call does find the clip's bytes, so the check can fail. Over the same TLS call,
 * hold and resume reach the event bus and no 200 is resent after its ACK; the phone's own REFER
 * gets a final NOTIFY.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch } from '../../helpers/auth.js';
import { haveBaresip, makeBaresipWav, startBaresip, type BaresipControl } from '../../helpers/baresip.js';
import { SHARED_DIR } from '../../helpers/paths.js';
import { speechClip, wordErrors } from '../../helpers/speech.js';
import { haveTool } from './harness.js';

const CLIP = path.join(SHARED_DIR, 'datasets', 'speech-en', '0.wav');
const CLIP_SECONDS = 6.6;

/** tcpdump on the loopback for the box's SIP and RTP ports, written to a pcap file. */
async function capture(file: string, filter: string): Promise<{ stop(): Promise<Buffer> }> {
  const child: ChildProcess = spawn('tcpdump', ['-i', 'lo', '-U', '-s', '0', '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`tcpdump exited ${code}: ${err}`)));
  });
  return {
    async stop() {
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGINT');
      await new Promise((r) => child.once('exit', r));
      return readFileSync(file);
    },
  };
}

/** How many distinct 40-byte (5 ms) stretches of the clip's G.711 bytes appear in the capture. */
function clipStretchesIn(pcap: Buffer, ulaw: Buffer): number {
  let found = 0;
  for (let at = 0; at + 40 <= ulaw.length; at += 400) {
    const stretch = ulaw.subarray(at, at + 40);
    if (new Set(stretch).size < 8) continue; // near-silence repeats everywhere; only speech counts
    if (pcap.includes(stretch)) found++;
  }
  return found;
}

describe.skipIf(!haveBaresip() || !haveTool('tcpdump'))('baresip over TLS + SRTP into the appliance', () => {
  let app: Appliance;
  let work = '';
  let wav = '';
  let ulaw: Buffer;
  const events: ApplianceEvent[] = [];
  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'evx-baresip-secure-'));
    wav = makeBaresipWav(CLIP, path.join(work, 'speech-8k.wav'), 4);
    // the bytes a PCMU phone sends for this clip (no dither: G.711 of the same samples)
    execFileSync('sox', [wav, '-D', '-t', 'ul', path.join(work, 'speech.ulaw')]);
    ulaw = readFileSync(path.join(work, 'speech.ulaw'));
    ({ app } = await startTestAppliance({ sip: { transports: ['udp', 'tcp', 'tls'], tlsPort: 0, srtp: 'optional' } }));
    app.bus.subscribe((e) => events.push(e));
  });
  afterAll(async () => {
    await app?.close();
    rmSync(work, { recursive: true, force: true });
  });

  async function endedCall(): Promise<{ utterances: { text: string }[]; legs: { codec: string; quality: Record<string, number> }[] }> {
    for (let i = 0; i < 200 && app.calls.activeCount > 0; i++) await new Promise((r) => setTimeout(r, 50));
    const list = (await (await authedFetch(app)('/api/v1/calls?limit=1')).json()) as { calls: { id: string }[] };
    return (await (await authedFetch(app)(`/api/v1/calls/${list.calls[0]!.id}`)).json()) as Awaited<ReturnType<typeof endedCall>>;
  }

  function ports(): string {
    const { rtpPortMin, rtpPortMax } = app.config.sip;
    return `(tcp port ${app.sip!.tlsPort} or udp port ${app.sip!.port} or udp portrange ${rtpPortMin}-${rtpPortMax + 1})`;
  }

  async function talk(phone: BaresipControl, uri: string, seconds: number): Promise<void> {
    await phone.dial(uri);
    await phone.waitForType('CALL_ESTABLISHED', 10_000);
    await new Promise((r) => setTimeout(r, seconds * 1000));
  }

  it('a plain UDP/RTP call: the capture shows SIP and the clip (the check below can fail)', async () => {
    const cap = await capture(path.join(work, 'plain.pcap'), ports());
    const phone = await startBaresip({ wav, transport: 'udp', codecs: ['PCMU'], mediaEnc: 'none' });
    try {
      await talk(phone, `sip:edgevox@127.0.0.1:${app.sip!.port}`, 3);
      await phone.hangup();
      await phone.waitForType('CALL_CLOSED', 5000);
    } finally {
      await phone.close();
    }
    const pcap = await cap.stop();
    expect(pcap.includes(Buffer.from('SIP/2.0'))).toBe(true);
    expect(clipStretchesIn(pcap, ulaw)).toBeGreaterThan(5);
    await endedCall();
  }, 60_000);

  it('a TLS + SRTP call is transcribed; the capture has no readable SIP and none of the clip', async () => {
    const cap = await capture(path.join(work, 'secure.pcap'), ports());
    const phone = await startBaresip({ wav, transport: 'tls', codecs: ['PCMU'], mediaEnc: 'srtp-mand' });
    let menc = '';
    try {
      await talk(phone, `sip:edgevox@127.0.0.1:${app.sip!.tlsPort};transport=tls`, CLIP_SECONDS + 2);
      menc = phone.events.find((e) => e.type === 'CALL_MENC')?.param ?? '';
      await phone.hangup();
      await phone.waitForType('CALL_CLOSED', 5000);
    } finally {
      await phone.close();
    }
    const pcap = await cap.stop();
    expect(menc).toContain('AES_CM_128_HMAC_SHA1_80');
    expect(pcap.includes(Buffer.from('SIP/2.0'))).toBe(false);
    expect(pcap.includes(Buffer.from('INVITE'))).toBe(false);
    expect(pcap.includes(Buffer.from('m=audio'))).toBe(false);
    expect(clipStretchesIn(pcap, ulaw)).toBe(0);
    const call = await endedCall();
    expect(call.legs[0]!.codec).toBe('PCMU');
    expect(call.legs[0]!.quality['packetsReceived']).toBeGreaterThan(300);
    const text = call.utterances.map((u) => u.text).join(' ');
    expect(wordErrors(speechClip('0.wav').reference, text), text).toBeLessThanOrEqual(4);
  }, 60_000);

  it('hold and resume over TLS reach the event bus, each 200 is sent once; the phone REFER gets a final NOTIFY', async () => {
    const phone = await startBaresip({ wav, transport: 'tls', codecs: ['G722'], mediaEnc: 'srtp-mand' });
    try {
      const from = events.length;
      await talk(phone, `sip:edgevox@127.0.0.1:${app.sip!.tlsPort};transport=tls`, 1);
      await phone.hold();
      await phone.waitForType('CALL_REMOTE_SDP', 5000);
      await new Promise((r) => setTimeout(r, 500));
      await phone.resume();
      await phone.waitForType('CALL_REMOTE_SDP', 5000);
      await new Promise((r) => setTimeout(r, 2500)); // 0.5 + 1 s: when a resent 200 would have come
      const holds = events.slice(from).filter((e) => e.type === 'call.hold');
      expect(holds.map((e) => (e as { held: boolean }).held)).toEqual([true, false]);
      // every 200 to an INVITE reached the phone once (its SIP trace lists what it received)
      const oks = [...phone.log().matchAll(/SIP\/2\.0 200 OK[\s\S]*?CSeq: (\d+) INVITE/g)].map((m) => m[1]);
      expect(oks.length).toBe(3);
      expect(new Set(oks).size).toBe(3);
      // the phone asks the box to transfer it: nothing on the box carries that out, so a final 603
      await phone.transfer('sip:agent7@127.0.0.1');
      const failed = await phone.waitForType('TRANSFER_FAILED', 10_000);
      expect(failed.param).toContain('603');
    } finally {
      await phone.close();
    }
    await endedCall();
  }, 60_000);
});
