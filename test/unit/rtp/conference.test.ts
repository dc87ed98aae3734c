/**
 * The conference mixer's logic, driven frame by frame on fake sessions: exact saturating sums
 * through μ-law (decoded values add exactly, the sum is re-encoded), the listen / whisper / barge
 * matrix (who hears whom), a party's missing frame is silence and never holds the others, a switch
 * of mode takes effect on the next frame, the per-party FIFO is bounded (oldest dropped, counted),
 * G.722 parties mix at 16 kHz, telephone-events follow the matrix, and close releases every tap.
 */
import { describe, expect, it } from 'vitest';
import { decodeMulaw, encodeMulaw } from '../../../appliance/codecs/g711.js';
import { G722Decoder, G722Encoder } from '../../../appliance/codecs/g722.js';
import type { BridgeSide } from '../../../appliance/rtp/bridge.js';
import {
  Conference,
  mixFrames,
  SUPERVISION_MATRIX,
  type ConferenceOptions,
  type HearingMatrix,
} from '../../../appliance/rtp/conference.js';
import type { RtpPacket } from '../../../appliance/rtp/packet.js';
import type { RtpTap } from '../../../appliance/rtp/session.js';
import type { CodecName } from '../../../appliance/sdp/offer-answer.js';

class FakeSide implements BridgeSide {
  readonly sent: { payload: Buffer; timestamp: number; marker: boolean }[] = [];
  readonly events: { payload: Buffer; timestamp: number }[] = [];
  isClosed = false;
  currentTap: RtpTap | undefined;
  accepts = true;
  private seq = 0;
  private ts = 1000;
  constructor(
    readonly codec: CodecName = 'PCMU',
    readonly telephoneEventPt: number | undefined = 101,
  ) {}
  setTap(tap: RtpTap | undefined): void {
    this.currentTap = tap;
  }
  sendPayload(payload: Uint8Array, _sequence: number, timestamp: number, marker: boolean): boolean {
    if (!this.accepts) return false;
    this.sent.push({ payload: Buffer.from(payload), timestamp, marker });
    return true;
  }
  sendEvent(payload: Uint8Array, timestamp: number): boolean {
    if (this.telephoneEventPt === undefined) return false;
    this.events.push({ payload: Buffer.from(payload), timestamp });
    return true;
  }
  /** The peer sends one packet (as it arrives in the socket handler). */
  deliver(payload: Uint8Array, opts: { payloadType?: number; timestamp?: number } = {}): void {
    const p: RtpPacket = {
      marker: false,
      payloadType: opts.payloadType ?? (this.codec === 'G722' ? 9 : 0),
      sequence: this.seq++,
      timestamp: opts.timestamp ?? (this.ts += 160),
      ssrc: 1,
      csrcCount: 0,
      payload,
    };
    this.currentTap!.onPacket(p, performance.now());
  }
  /** The last frame sent to this side, decoded. */
  lastHeard(): Int16Array {
    const last = this.sent.at(-1)!.payload;
    const out = new Int16Array(last.length);
    decodeMulaw(last, out);
    return out;
  }
}

/** A μ-law payload of 160 copies of `byte`, and the exact value it decodes to. */
function constant(value: number): { payload: Uint8Array; decoded: number } {
  const enc = new Uint8Array(1);
  encodeMulaw(Int16Array.of(value), enc);
  const dec = new Int16Array(1);
  decodeMulaw(enc, dec);
  return { payload: new Uint8Array(160).fill(enc[0]!), decoded: dec[0]! };
}

/** The μ-law byte of `v` saturated to int16, decoded back: what a listener hears of the exact sum. */
function heardOf(v: number): number {
  const enc = new Uint8Array(1);
  encodeMulaw(Int16Array.of(Math.max(-32768, Math.min(32767, v))), enc);
  const dec = new Int16Array(1);
  decodeMulaw(enc, dec);
  return dec[0]!;
}

function threeParties(matrix: HearingMatrix = SUPERVISION_MATRIX.barge, codecs: CodecName[] = ['PCMU', 'PCMU', 'PCMU']) {
  const caller = new FakeSide(codecs[0]);
  const agent = new FakeSide(codecs[1]);
  const supervisor = new FakeSide(codecs[2]);
  const conf = new Conference(
    [
      { name: 'caller', side: caller },
      { name: 'agent', side: agent },
      { name: 'supervisor', side: supervisor },
    ],
    matrix,
  );
  return { caller, agent, supervisor, conf };
}

/** A caller and an agent who hear each other. */
function twoParties(opts: ConferenceOptions = {}) {
  const caller = new FakeSide();
  const agent = new FakeSide();
  const parties = [
    { name: 'caller', side: caller },
    { name: 'agent', side: agent },
  ];
  return { caller, agent, conf: new Conference(parties, { caller: ['agent'], agent: ['caller'] }, opts) };
}

const C = constant(1000);
const A = constant(-3000);
const S = constant(200);

describe('mixFrames', () => {
  it('adds exactly and saturates at the int16 limits', () => {
    const out = new Int16Array(4);
    mixFrames(out, [Int16Array.of(1, -1, 30000, -30000), Int16Array.of(2, -2, 30000, -30000), Int16Array.of(3, 0, 10, -10)]);
    expect([...out]).toEqual([6, -3, 32767, -32768]);
    mixFrames(out, []);
    expect([...out]).toEqual([0, 0, 0, 0]);
    mixFrames(out, [Int16Array.of(32767, -32768, 5, 7)]);
    expect([...out]).toEqual([32767, -32768, 5, 7]);
  });
});

describe('Conference', () => {
  it('barge: each party hears the exact sum of the other two, never itself', () => {
    const { caller, agent, supervisor, conf } = threeParties();
    caller.deliver(C.payload);
    agent.deliver(A.payload);
    supervisor.deliver(S.payload);
    conf.mixFrame();
    expect(new Set(caller.lastHeard())).toEqual(new Set([heardOf(A.decoded + S.decoded)]));
    expect(new Set(agent.lastHeard())).toEqual(new Set([heardOf(C.decoded + S.decoded)]));
    expect(new Set(supervisor.lastHeard())).toEqual(new Set([heardOf(C.decoded + A.decoded)]));
    expect(conf.stats().parties['caller']).toMatchObject({ packetsIn: 1, framesMixed: 1, framesMissing: 0, framesSent: 1 });
  });

  it('saturates a loud sum instead of wrapping around', () => {
    const { caller, agent, supervisor, conf } = threeParties();
    const loud = constant(30000);
    caller.deliver(loud.payload);
    agent.deliver(loud.payload);
    supervisor.deliver(constant(-30000).payload);
    conf.mixFrame();
    expect(loud.decoded * 2).toBeGreaterThan(32767);
    expect(new Set(supervisor.lastHeard())).toEqual(new Set([heardOf(32767)]));
    expect(supervisor.lastHeard()[0]).toBeGreaterThan(30000);
  });

  it('the mode matrix: listen, whisper and barge decide who hears the supervisor', () => {
    const heard = (matrix: HearingMatrix) => {
      const { caller, agent, supervisor, conf } = threeParties(matrix);
      caller.deliver(C.payload);
      agent.deliver(A.payload);
      supervisor.deliver(S.payload);
      conf.mixFrame();
      return { caller: caller.lastHeard()[0], agent: agent.lastHeard()[0], supervisor: supervisor.lastHeard()[0] };
    };
    const both = heardOf(C.decoded + A.decoded);
    expect(heard(SUPERVISION_MATRIX.listen)).toEqual({ caller: heardOf(A.decoded), agent: heardOf(C.decoded), supervisor: both });
    expect(heard(SUPERVISION_MATRIX.whisper)).toEqual({
      caller: heardOf(A.decoded),
      agent: heardOf(C.decoded + S.decoded),
      supervisor: both,
    });
    expect(heard(SUPERVISION_MATRIX.barge)).toEqual({
      caller: heardOf(A.decoded + S.decoded),
      agent: heardOf(C.decoded + S.decoded),
      supervisor: both,
    });
  });

  it('switching the mode mid-call takes effect on the next frame', () => {
    const { caller, agent, supervisor, conf } = threeParties(SUPERVISION_MATRIX.listen);
    const frame = () => {
      caller.deliver(C.payload);
      agent.deliver(A.payload);
      supervisor.deliver(S.payload);
      conf.mixFrame();
      return [caller.lastHeard()[0], agent.lastHeard()[0]];
    };
    expect(frame()).toEqual([heardOf(A.decoded), heardOf(C.decoded)]);
    conf.setMatrix(SUPERVISION_MATRIX.whisper);
    expect(frame()).toEqual([heardOf(A.decoded), heardOf(C.decoded + S.decoded)]);
    conf.setMatrix(SUPERVISION_MATRIX.barge);
    expect(frame()).toEqual([heardOf(A.decoded + S.decoded), heardOf(C.decoded + S.decoded)]);
    conf.setMatrix(SUPERVISION_MATRIX.listen);
    expect(frame()).toEqual([heardOf(A.decoded), heardOf(C.decoded)]);
    // one continuous stream per party: marker on the first frame only, timestamps 160 apart
    expect(caller.sent.map((s) => s.marker)).toEqual([true, false, false, false]);
    expect(caller.sent.map((s) => s.timestamp - caller.sent[0]!.timestamp)).toEqual([0, 160, 320, 480]);
    expect(() => conf.setMatrix({ caller: ['nobody'] })).toThrow(/unknown party/);
    expect(() => conf.setMatrix({ caller: ['caller'] })).toThrow(/unknown party/);
  });

  it('a missing frame is silence for that party only; nobody stalls, and late audio is used on the next frame', () => {
    const { caller, agent, supervisor, conf } = threeParties();
    caller.deliver(C.payload);
    supervisor.deliver(S.payload);
    conf.mixFrame(); // the agent's packet is late
    expect(caller.lastHeard()[0]).toBe(heardOf(S.decoded));
    expect(supervisor.lastHeard()[0]).toBe(heardOf(C.decoded));
    expect(agent.lastHeard()[0]).toBe(heardOf(C.decoded + S.decoded));
    agent.deliver(A.payload); // arrives now, with the next one
    agent.deliver(A.payload);
    conf.mixFrame(); // caller and supervisor sent nothing this time
    expect(caller.lastHeard()[0]).toBe(heardOf(A.decoded));
    expect(agent.lastHeard()[0]).toBe(heardOf(0));
    conf.mixFrame();
    expect(caller.lastHeard()[0]).toBe(heardOf(A.decoded)); // the second (queued) agent frame
    conf.mixFrame();
    expect(caller.lastHeard()[0]).toBe(heardOf(0)); // nothing left: silence, still a frame
    const s = conf.stats();
    expect(s.ticks).toBe(4);
    expect(s.parties['agent']).toMatchObject({ framesMixed: 2, framesMissing: 2, framesSent: 4 });
    expect(s.parties['caller']).toMatchObject({ framesMixed: 1, framesMissing: 3, framesSent: 4 });
    expect(s.delay.samples).toBe(4);
  });

  it('bounds each party’s FIFO: a burst beyond maxBufferedMs drops the oldest audio and counts it', () => {
    const { caller, agent, conf } = twoParties({ maxBufferedMs: 60 });
    const values = [100, 200, 300, 400, 500].map(constant);
    for (const v of values) caller.deliver(v.payload); // 100 ms at once: 40 ms too much
    expect(conf.stats().parties['caller']!.droppedSamples).toBe(320);
    const heard: number[] = [];
    for (let i = 0; i < 4; i++) {
      conf.mixFrame();
      heard.push(agent.lastHeard()[0]!);
    }
    // the two oldest frames went; the newest three play in order, then silence
    expect(heard).toEqual([values[2]!.decoded, values[3]!.decoded, values[4]!.decoded, 0].map(heardOf));
  });

  it('skips a standing FIFO level once it has lasted a whole window (jitter-queued delay comes back down)', () => {
    const { caller, conf } = twoParties();
    // a burst queued two frames ahead, then one packet per tick: 40 ms standing in the FIFO
    caller.deliver(C.payload);
    caller.deliver(C.payload);
    for (let i = 0; i < 49; i++) {
      caller.deliver(C.payload);
      conf.mixFrame();
    }
    expect(conf.stats().parties['caller']!.trimmedSamples).toBe(0);
    caller.deliver(C.payload);
    conf.mixFrame(); // the 50th tick: 320 samples stood all along; all but a 5 ms margin go
    expect(conf.stats().parties['caller']!.trimmedSamples).toBe(280);
    for (let i = 0; i < 60; i++) {
      caller.deliver(C.payload);
      conf.mixFrame();
    }
    // nothing missing before or after, and no second trim (40 samples stand now, under half a frame)
    expect(conf.stats().parties['caller']).toMatchObject({ framesMissing: 0, trimmedSamples: 280 });
  });

  it('mixes at 16 kHz when a party speaks G.722 and encodes each party to its own codec', () => {
    const { caller, agent, supervisor, conf } = threeParties(SUPERVISION_MATRIX.barge, ['PCMU', 'G722', 'PCMU']);
    expect(conf.mixRateHz).toBe(16000);
    const enc = new G722Encoder();
    const tone = Int16Array.from({ length: 320 }, (_, i) => Math.round(6000 * Math.sin((2 * Math.PI * 1000 * i) / 16000)));
    const g722 = new Uint8Array(160);
    for (let f = 0; f < 10; f++) {
      enc.encode(tone, g722);
      agent.deliver(g722);
      caller.deliver(C.payload);
      conf.mixFrame();
    }
    expect(agent.sent.at(-1)!.payload.length).toBe(160); // 20 ms of G.722
    expect(caller.sent.at(-1)!.payload.length).toBe(160); // 20 ms of μ-law
    const dec = new G722Decoder();
    const pcm = new Int16Array(320);
    for (const s of agent.sent) dec.decode(s.payload, pcm);
    // the agent hears the caller's constant (through the resamplers), not its own tone
    const mean = pcm.reduce((a, b) => a + b, 0) / pcm.length;
    expect(Math.abs(mean - C.decoded)).toBeLessThan(80);
    expect(Math.max(...pcm.map((v) => Math.abs(v - mean)))).toBeLessThan(400);
    // the supervisor hears the agent's tone (±6000) on top of the caller's constant
    const sup = supervisor.lastHeard();
    expect(Math.max(...sup) - Math.min(...sup)).toBeGreaterThan(9000);
  });

  it('relays telephone-events to the parties that hear the sender, one timestamp per event', () => {
    const { caller, agent, supervisor, conf } = threeParties(SUPERVISION_MATRIX.whisper);
    const ev = Uint8Array.of(5, 10, 0, 160);
    conf.mixFrame();
    supervisor.deliver(ev, { payloadType: 101, timestamp: 7777 });
    supervisor.deliver(ev, { payloadType: 101, timestamp: 7777 });
    expect(agent.events).toHaveLength(2);
    expect(caller.events).toHaveLength(0); // whisper: the caller does not hear the supervisor
    expect(agent.events[0]!.timestamp).toBe(agent.events[1]!.timestamp);
    caller.deliver(ev, { payloadType: 101, timestamp: 9000 });
    expect(agent.events).toHaveLength(3);
    expect(supervisor.events).toHaveLength(1);
    expect(conf.stats().parties['supervisor']).toMatchObject({ eventsRelayed: 2, packetsIn: 0 });
  });

  it('refuses a tapped or closed leg; close releases its taps once; a leg closing closes it', () => {
    const busy = new FakeSide();
    busy.setTap({ onPacket: () => undefined, onClose: () => undefined });
    expect(() => new Conference([{ name: 'a', side: busy }], {})).toThrow(/already bridged/);
    const closed = new FakeSide();
    closed.isClosed = true;
    expect(() => new Conference([{ name: 'a', side: closed }], {})).toThrow(/closed/);

    const { caller, agent, supervisor, conf } = threeParties();
    const closes: unknown[] = [];
    conf.events.on('closed', (e) => closes.push(e));
    supervisor.currentTap!.onClose();
    expect(closes).toEqual([{ reason: 'leg_closed', party: 'supervisor' }]);
    expect([caller.currentTap, agent.currentTap, supervisor.currentTap]).toEqual([undefined, undefined, undefined]);
    conf.close();
    conf.mixFrame();
    expect(closes).toHaveLength(1);
    expect(caller.sent).toHaveLength(0);
  });

  it('counts frames a party refuses (held) and keeps mixing for the others', () => {
    const { caller, agent, supervisor, conf } = threeParties();
    caller.accepts = false;
    agent.deliver(A.payload);
    conf.mixFrame();
    expect(conf.stats().parties['caller']).toMatchObject({ sendsRefused: 1, framesSent: 0 });
    expect(supervisor.lastHeard()[0]).toBe(heardOf(A.decoded));
  });

  it('runs on its own clock: about one frame per 20 ms, with the delay it adds measured', async () => {
    const { caller, agent, conf } = threeParties(SUPERVISION_MATRIX.listen);
    conf.start();
    const timer = setInterval(() => agent.deliver(A.payload), 20);
    await new Promise((r) => setTimeout(r, 400));
    clearInterval(timer);
    conf.close();
    const s = conf.stats();
    expect(s.ticks + s.ticksSkipped).toBeGreaterThanOrEqual(17);
    expect(s.ticks + s.ticksSkipped).toBeLessThanOrEqual(21);
    expect(caller.sent.length).toBe(s.ticks);
    expect(s.delay.samples).toBeGreaterThan(10);
    expect(s.delay.maxMs).toBeLessThan(100);
  });
});
