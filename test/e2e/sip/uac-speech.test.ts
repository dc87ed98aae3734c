/**
 * sipp calls the SipServer and streams speech-en/0.wav as PCMU; the audio reaching the leg sink
 * must be the clip (same duration, same samples), and BYE must release every socket.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MULAW_DECODE_TABLE } from '../../../appliance/codecs/g711.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import type { CallEndedEvent, CallStartedEvent, LegInfo } from '../../../appliance/telephony/types.js';
import { freePort, haveTool, prepareClip, rms, runSipp, SCENARIOS, SHARED, tcpPortFree, udpPortFree, type Workdir } from './harness.js';

const CLIP = path.join(SHARED, 'datasets/speech-en/0.wav');
describe('sipp UAC streaming speech (PCMU) into the SipServer', () => {
  let work: Workdir;
  beforeAll(() => {
    if (!haveTool('sipp') || !haveTool('sox')) throw new Error('sipp (sip-tester) and sox are required: run make setup');
    work = prepareClip(CLIP);
  });
  afterAll(() => work?.cleanup());

  it.each([
    ['UDP', 'u1'],
    ['TCP', 't1'],
  ])('over %s: answers, delivers the clip to the sink, ends on BYE and releases every resource', async (_name, sippTransport) => {
    const rtpBase = 40000 + 2 * Math.floor(Math.random() * 5000);
    const frames: Int16Array[] = [];
    const sinkClosed: string[] = [];
    const legs: LegInfo[] = [];
    const server = new SipServer({
      port: 0,
      rtpPortMin: rtpBase,
      rtpPortMax: rtpBase + 19,
      qualityIntervalMs: 1000,
      sinkFactory: (leg) => {
        legs.push(leg);
        return { onFrame: (pcm) => frames.push(Int16Array.from(pcm)), close: (reason) => sinkClosed.push(reason) };
      },
    });
    const started: CallStartedEvent[] = [];
    const ended: CallEndedEvent[] = [];
    server.events.on('call.started', (e) => started.push(e));
    server.events.on('call.ended', (e) => ended.push(e));
    const sipPort = await server.listen();
    const localPort = await freePort();
    const mediaPort = await freePort(true);
    const durationMs = Math.ceil(work.ulaw.length / 8) + 500;

    const r = await runSipp(
      [
        `127.0.0.1:${sipPort}`,
        '-sf',
        path.join(SCENARIOS, 'uac-pcmu-speech.xml'),
        '-m',
        '1',
        '-d',
        String(durationMs),
        '-t',
        sippTransport,
        '-i',
        '127.0.0.1',
        '-p',
        String(localPort),
        '-mi',
        '127.0.0.1',
        '-mp',
        String(mediaPort),
        '-timeout',
        '30s',
        '-timeout_error',
      ],
      work.dir,
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);

    // answered: one call, one leg labelled caller, PCMU at 8 kHz
    expect(started).toHaveLength(1);
    expect(started[0]!.legs).toHaveLength(1);
    expect(legs[0]).toMatchObject({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000, frameMs: 20 });
    expect(started[0]!.pii.remoteAddress).toBe('127.0.0.1');
    expect(started[0]!.transport).toBe(sippTransport === 't1' ? 'tcp' : 'udp');

    // BYE ended it; the sink was flushed and closed once
    expect(ended).toHaveLength(1);
    expect(ended[0]!.reason).toBe('remote_bye');
    expect(sinkClosed).toEqual(['remote_bye']);

    // the audio: the clip's duration (sipp pads the last 20 ms packet) and exactly its samples
    const total = frames.reduce((n, f) => n + f.length, 0);
    const clipSamples = work.ulaw.length;
    expect(total).toBeGreaterThanOrEqual(clipSamples);
    expect(total).toBeLessThan(clipSamples + 160);
    const got = new Int16Array(total);
    let o = 0;
    for (const f of frames) {
      got.set(f, o);
      o += f.length;
    }
    const want = Int16Array.from(work.ulaw, (b) => MULAW_DECODE_TABLE[b]!);
    const q = ended[0]!.legs[0]!;
    expect(q.packetsReceived).toBe(Math.ceil(clipSamples / 160));
    expect(q.packetsLost).toBe(0);
    expect(q.concealedFrames).toBe(0);
    expect(q.mos).toBeGreaterThan(4);
    expect(Array.from(got.subarray(0, clipSamples))).toEqual(Array.from(want));
    expect(rms(got)).toBeGreaterThan(500); // speech, not silence
    expect(Math.abs(rms(got, 0, clipSamples) - rms(want)) / rms(want)).toBeLessThan(0.001);

    // every call resource is gone after BYE: RTP sockets closed (the ports bind again)
    await new Promise((res) => setTimeout(res, 50));
    expect(server.resources()).toMatchObject({ calls: 0, pendingInvites: 0, rtpPortPairs: 0, clientTransactions: 0 });
    expect(await udpPortFree(legs[0]!.localRtpPort)).toBe(true);
    expect(await udpPortFree(legs[0]!.localRtpPort + 1)).toBe(true);

    // close() releases the SIP sockets and the remaining (UDP wait-state) transactions
    await server.close();
    await server.close(); // idempotent
    expect(server.resources()).toEqual({
      calls: 0,
      pendingInvites: 0,
      rtpPortPairs: 0,
      serverTransactions: 0,
      clientTransactions: 0,
      tcpConnections: 0,
    });
    expect(await udpPortFree(sipPort)).toBe(true);
    expect(await tcpPortFree(sipPort)).toBe(true);
  });
});
