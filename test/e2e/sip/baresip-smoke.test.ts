/**
 * baresip 1.0 as a real phone against the SipServer: it dials in (UDP + PCMU, TCP + G.722),
 * the call is established, its speech reaches the leg sink, and its BYE ends the call.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import type { CallEndedEvent, CallStartedEvent, LegInfo } from '../../../appliance/telephony/types.js';
import {
  haveBaresip,
  makeBaresipWav,
  startBaresip,
  type BaresipCodec,
  type BaresipControl,
  type BaresipTransport,
} from '../../helpers/baresip.js';
import { rms, SHARED } from './harness.js';

const CLIP = path.join(SHARED, 'datasets/speech-en/0.wav');

describe.skipIf(!haveBaresip())('baresip 1.0 calling the SipServer', () => {
  let workDir = '';
  let wav = '';
  const open: Array<{ close(): Promise<unknown> }> = [];
  beforeAll(() => {
    workDir = mkdtempSync(path.join(tmpdir(), 'evx-baresip-clip-'));
    // 6.6 s of speech + 10 s of silence: baresip hangs up by itself when the file ends
    wav = makeBaresipWav(CLIP, path.join(workDir, 'speech-8k.wav'), 10);
  });
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
  });
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it.each<[BaresipTransport, BaresipCodec, number]>([
    ['udp', 'PCMU', 8000],
    ['tcp', 'G722', 16000],
  ])('over %s with %s: established, speech reaches the sink, baresip hangs up (remote_bye)', async (transport, codec, rate) => {
    const rtpBase = 40000 + 2 * Math.floor(Math.random() * 5000);
    const frames: Int16Array[] = [];
    const legs: LegInfo[] = [];
    const sinkClosed: string[] = [];
    const server = new SipServer({
      port: 0,
      rtpPortMin: rtpBase,
      rtpPortMax: rtpBase + 19,
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
    open.push(server);

    const phone: BaresipControl = await startBaresip({ wav, transport, codecs: [codec] });
    open.push(phone);
    const why = (): string => phone.describe();

    await phone.dial(`sip:edgevox@127.0.0.1:${sipPort}`);
    const est = await phone.waitForType('CALL_ESTABLISHED');
    expect(est.direction).toBe('outgoing');
    // baresip appends the account URI's ;transport= to what it dials
    expect(est.peeruri).toBe(`sip:edgevox@127.0.0.1:${sipPort}${transport === 'udp' ? '' : `;transport=${transport}`}`);

    // ~2 s of speech (the clip starts at once: no leading silence to wait out)
    const deadline = Date.now() + 10_000;
    const loud = (): number => frames.filter((f) => rms(f) > 300).length;
    while (loud() < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(started, why()).toHaveLength(1);
    expect(started[0]!.transport).toBe(transport);
    expect(legs[0]).toMatchObject({ label: 'caller', codec, sampleRateHz: rate, frameMs: 20 });
    expect(frames[0]?.length).toBe((rate / 1000) * 20);
    expect(loud(), why()).toBeGreaterThan(0);

    await phone.hangup();
    const closed = await phone.waitForType('CALL_CLOSED');
    expect(closed.id).toBe(est.id);
    const t0 = Date.now();
    while (ended.length === 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
    expect(ended, why()).toHaveLength(1);
    expect(ended[0]!.reason).toBe('remote_bye');
    expect(sinkClosed).toEqual(['remote_bye']);
    expect(ended[0]!.legs[0]!.packetsReceived).toBeGreaterThan(50);
  });
});
