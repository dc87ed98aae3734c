/**
 * SIPREC (RFC 7866): sipp as the recording client opens a session with two labelled streams and
 * rs-metadata. Stream label 10 is the agent's (sipp streams speech-en/0.wav on it); label 11 is
 * the caller's (sipp 3.6 plays one RTP stream per call, so this test sends it: speech-en/1.wav).
 * Both legs must arrive separately, labelled from the metadata, with their own audio.
 */
import dgram from 'node:dgram';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MULAW_DECODE_TABLE } from '../../../appliance/codecs/g711.js';
import { writeRtp } from '../../../appliance/rtp/packet.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import type { CallEndedEvent, CallStartedEvent } from '../../../appliance/telephony/types.js';
import { freePort, haveTool, prepareClip, runSipp, SCENARIOS, SHARED, udpPortFree, type Workdir } from './harness.js';

/** Send raw μ-law bytes as 20 ms PCMU packets, paced on an absolute schedule. */
async function streamUlaw(sock: dgram.Socket, ulaw: Buffer, port: number): Promise<number> {
  const start = performance.now();
  let n = 0;
  for (let off = 0; off + 160 <= ulaw.length; off += 160, n++) {
    const due = start + n * 20 - performance.now();
    if (due > 0) await new Promise((r) => setTimeout(r, due));
    const buf = Buffer.alloc(12 + 160); // one buffer per datagram: dgram sends asynchronously
    const len = writeRtp(
      buf,
      { marker: n === 0, payloadType: 0, sequence: (1000 + n) & 0xffff, timestamp: 5000 + n * 160, ssrc: 0x1234abcd },
      ulaw.subarray(off, off + 160),
    );
    sock.send(buf.subarray(0, len), port, '127.0.0.1');
  }
  return n;
}

describe('SIPREC recording session with two participant streams (sipp, multipart body)', () => {
  let agentClip: Workdir;
  let callerClip: Workdir;
  beforeAll(() => {
    if (!haveTool('sipp') || !haveTool('sox')) throw new Error('sipp (sip-tester) and sox are required: run make setup');
    agentClip = prepareClip(path.join(SHARED, 'datasets/speech-en/0.wav'));
    callerClip = prepareClip(path.join(SHARED, 'datasets/speech-en/1.wav'), 'caller.ulaw', ['trim', '0', '4']);
  });
  afterAll(() => {
    agentClip?.cleanup();
    callerClip?.cleanup();
  });

  it('labels the streams from rs-metadata and delivers each participant separately', async () => {
    const rtpBase = 40000 + 2 * Math.floor(Math.random() * 5000);
    const audio = new Map<string, Int16Array[]>();
    const server = new SipServer({
      port: 0,
      rtpPortMin: rtpBase,
      rtpPortMax: rtpBase + 19,
      sinkFactory: (leg) => {
        const frames: Int16Array[] = [];
        audio.set(leg.label, frames);
        return { onFrame: (pcm) => frames.push(Int16Array.from(pcm)), close: () => {} };
      },
    });
    const ended: CallEndedEvent[] = [];
    server.events.on('call.ended', (e) => ended.push(e));
    const stream2 = dgram.createSocket('udp4');
    await new Promise<void>((r) => stream2.bind(0, '127.0.0.1', () => r()));
    let sent = 0;
    let sending: Promise<void> = Promise.resolve();
    const started = new Promise<CallStartedEvent>((resolve) =>
      server.events.on('call.started', (e) => {
        const callerLeg = e.legs.find((l) => l.label === 'caller');
        if (callerLeg !== undefined) sending = streamUlaw(stream2, callerClip.ulaw, callerLeg.localRtpPort).then((n) => void (sent = n));
        resolve(e);
      }),
    );
    const sipPort = await server.listen();
    const r = await runSipp(
      [
        `127.0.0.1:${sipPort}`,
        '-sf',
        path.join(SCENARIOS, 'siprec-two-streams.xml'),
        '-m',
        '1',
        '-d',
        String(Math.ceil(agentClip.ulaw.length / 8) + 500),
        '-i',
        '127.0.0.1',
        '-p',
        String(await freePort()),
        '-mi',
        '127.0.0.1',
        '-mp',
        String(await freePort(true)),
        '-key',
        'stream2_port',
        String(stream2.address().port),
        '-timeout',
        '30s',
        '-timeout_error',
      ],
      agentClip.dir,
    );
    await sending;
    stream2.close();
    expect(r.code, r.stdout + r.stderr).toBe(0);

    const s = await started;
    expect(s.mode).toBe('siprec');
    expect(s.legs.map((l) => [l.label, l.participantId])).toEqual([
      ['agent', 'zSfPoSvdSDCmU3A3TRDxAw=='],
      ['caller', 'srfBElmCRp2QB23b7Mpk0w=='],
    ]);
    expect(s.pii.participants?.map((p) => p.aor).sort()).toEqual(['sip:+15550100@example.com', 'sip:agent42@pbx.example.com']);
    expect(ended.map((e) => e.reason)).toEqual(['remote_bye']);

    const join = (frames: Int16Array[] | undefined): Int16Array => {
      const out = new Int16Array((frames ?? []).reduce((n, f) => n + f.length, 0));
      let o = 0;
      for (const f of frames ?? []) {
        out.set(f, o);
        o += f.length;
      }
      return out;
    };
    const agent = join(audio.get('agent'));
    const caller = join(audio.get('caller'));
    const agentWant = Int16Array.from(agentClip.ulaw, (b) => MULAW_DECODE_TABLE[b]!);
    const callerWant = Int16Array.from(callerClip.ulaw.subarray(0, sent * 160), (b) => MULAW_DECODE_TABLE[b]!);
    expect(sent).toBe(200);
    expect(Array.from(agent.subarray(0, agentWant.length))).toEqual(Array.from(agentWant));
    expect(Array.from(caller)).toEqual(Array.from(callerWant));

    const q = Object.fromEntries(ended[0]!.legs.map((l) => [l.label, l]));
    expect(q['agent']!.packetsLost).toBe(0);
    expect(q['caller']!.packetsReceived).toBe(200);
    expect(server.resources()).toMatchObject({ calls: 0, rtpPortPairs: 0 });
    for (const leg of s.legs) expect(await udpPortFree(leg.localRtpPort)).toBe(true);
    await server.close();
  });
});
