/**
 * A small audio conference of RTP sessions (a bridged caller and agent, and a supervisor): each
 * party's packets are decoded to PCM at the mix rate (16 kHz when any party speaks G.722, else
 * 8 kHz) into its own bounded FIFO from the socket handler; a 20 ms clock then takes one frame from
 * every FIFO and sends each party the saturating int16 sum of the parties it may hear (the matrix),
 * encoded to its own codec. Modes of supervision (`SUPERVISION_MATRIX`): listen, whisper, barge.
 *
 * Jitter: a party whose frame is not there at the tick (late, lost, or not sending) contributes
 * silence to that frame and is counted `missing`; the others are never held back. A FIFO holds at
 * most `maxBufferedMs`: beyond it the oldest audio is dropped and counted (`droppedSamples`), so a
 * fast or bursty sender cannot grow the delay without bound, and a level that stands in a FIFO for a
 * whole second (jitter queued a frame or two and nothing drained it) is skipped once, counted
 * (`trimmedSamples`): the delay comes back down to what the jitter needs. RFC 4733 telephone-events are relayed
 * at once to the parties that hear their sender, under each listener's own clock.
 *
 * Delay: for every frame of a party that reached a listener, the time from the arrival of its oldest
 * sample in the socket handler to the return of the last send of that tick (FIFO wait, decoding,
 * mixing and encoding included), as p50/p95/max. Unlike the plain relay (bridge.ts, which sends from
 * the socket handler), the mixer waits for its clock: 0-20 ms more, plus whatever a party's jitter
 * has queued.
 *
 * Lifecycle: the constructor takes the sessions' taps (each must be free: unbridge them first),
 * `start()` starts the clock, `close()` is final and idempotent (taps released, clock stopped); a
 * session that closes closes the conference with reason `leg_closed` and its party's name.
 */
import { evxError } from '../errors.js';
import { TypedEmitter } from '../events/typedEmitter.js';
import type { BridgeSide } from './bridge.js';
import { createDecoder, createEncoder, type PayloadDecoder, type PayloadEncoder } from './codec.js';
import { DelayStats, type DelaySummary } from './delayStats.js';
import type { RtpPacket } from './packet.js';
import type { RtpTap } from './session.js';
import { PcmResampler } from './transcode.js';

/** Who may hear whom: `hears[listener]` lists the talkers a listener receives (never itself). */
export type HearingMatrix = Readonly<Record<string, readonly string[]>>;

export type SupervisionMode = 'listen' | 'whisper' | 'barge';
export const SUPERVISION_MODES: readonly SupervisionMode[] = ['listen', 'whisper', 'barge'];

/** The three parties of a supervised call, by mode. */
export const SUPERVISION_MATRIX: Readonly<Record<SupervisionMode, HearingMatrix>> = {
  // the supervisor hears both; nobody hears the supervisor
  listen: { caller: ['agent'], agent: ['caller'], supervisor: ['caller', 'agent'] },
  // the supervisor hears both; only the agent hears the supervisor
  whisper: { caller: ['agent'], agent: ['caller', 'supervisor'], supervisor: ['caller', 'agent'] },
  // everyone hears everyone else
  barge: { caller: ['agent', 'supervisor'], agent: ['caller', 'supervisor'], supervisor: ['caller', 'agent'] },
};

export interface ConferenceParty {
  readonly name: string;
  readonly side: BridgeSide;
}

export interface ConferenceOptions {
  /** Frame length of the mix clock (default 20). */
  readonly frameMs?: number;
  /** Most audio one party's FIFO holds before its oldest is dropped (default 100). */
  readonly maxBufferedMs?: number;
}

/** Counters of one party. */
export interface ConferencePartyCounters {
  /** Audio packets received from the party. */
  packetsIn: number;
  /** Ticks that found a whole frame of the party's audio. */
  framesMixed: number;
  /** Ticks that found none (late, lost, or not sending): silence in its place. */
  framesMissing: number;
  /** Samples dropped from the front of the FIFO because it was full (bounded delay). */
  droppedSamples: number;
  /** Samples skipped because the FIFO never ran below them for a whole window (delay brought back down). */
  trimmedSamples: number;
  /** Mixed frames sent to the party. */
  framesSent: number;
  /** Mixed frames not sent (the party holds the call or is closed). */
  sendsRefused: number;
  /** Packets not taken: larger than 120 ms. */
  oversized: number;
  /** Telephone-events relayed from the party / not relayed (a listener without telephone-event). */
  eventsRelayed: number;
  eventsDropped: number;
}

export interface ConferenceStats {
  readonly state: 'created' | 'running' | 'closed';
  readonly mixRateHz: number;
  readonly frameMs: number;
  /** Ticks of the mix clock (frames mixed for everyone). */
  readonly ticks: number;
  /** Frames the clock skipped after an event-loop stall longer than the FIFOs hold (their audio is gone anyway). */
  readonly ticksSkipped: number;
  readonly parties: Readonly<Record<string, Readonly<ConferencePartyCounters>>>;
  /** Socket in → mixed frame sent, per party frame heard by someone, all parties. */
  readonly delay: DelaySummary;
}

export type ConferenceCloseReason = 'closed' | 'leg_closed';

export interface ConferenceEvents {
  /** `party`: the one whose session closed (reason leg_closed). */
  closed: { readonly reason: ConferenceCloseReason; readonly party: string | undefined };
}

/** Largest payload taken: 120 ms of G.722. */
const MAX_PAYLOAD_SAMPLES = 1920;
/** RTP clock of every codec we carry. */
const RTP_CLOCK_HZ = 8000;
/** Arrival marks kept per party (one per packet in the FIFO). */
const MARKS = 64;
/** Ticks over which a party's lowest FIFO level is watched before the standing part of it is skipped. */
const TRIM_WINDOW_TICKS = 50;

/** out[i] = saturate(sum of inputs[k][i]): the mix of the frames given (none: silence). */
export function mixFrames(out: Int16Array, inputs: readonly Int16Array[], acc: Int32Array = new Int32Array(out.length)): void {
  acc.fill(0, 0, out.length);
  for (const frame of inputs) for (let i = 0; i < out.length; i++) acc[i]! += frame[i]!;
  for (let i = 0; i < out.length; i++) {
    const v = acc[i]!;
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
}

class Party implements RtpTap {
  readonly counters: ConferencePartyCounters = {
    packetsIn: 0,
    framesMixed: 0,
    framesMissing: 0,
    droppedSamples: 0,
    trimmedSamples: 0,
    framesSent: 0,
    sendsRefused: 0,
    oversized: 0,
    eventsRelayed: 0,
    eventsDropped: 0,
  };
  /** This tick's frame at the mix rate, and whether it was there. */
  readonly frame: Int16Array;
  present = false;
  /** Arrival (performance.now()) of the oldest sample of this tick's frame. */
  frameArrivedAtMs = 0;
  /** Talkers this party hears (set by the matrix). */
  hears: Party[] = [];
  private readonly decoder: PayloadDecoder;
  private readonly encoder: PayloadEncoder;
  private readonly up: PcmResampler | undefined;
  private readonly down: PcmResampler | undefined;
  private readonly decoded = new Int16Array(MAX_PAYLOAD_SAMPLES);
  private readonly upsampled: Int16Array;
  private readonly downsampled: Int16Array;
  private readonly encoded = new Uint8Array(MAX_PAYLOAD_SAMPLES);
  // FIFO at the mix rate: absolute sample indexes, `read` <= `write`, write - read <= capacity
  private readonly fifo: Int16Array;
  private read = 0;
  private write = 0;
  // where each packet's audio starts in the FIFO and when it arrived (a ring of MARKS)
  private readonly markAt = new Float64Array(MARKS);
  private readonly markArrivedMs = new Float64Array(MARKS);
  private marksHead = 0;
  private marksCount = 0;
  // the lowest FIFO level after a take in the current trim window
  private lowest = Infinity;
  private windowTicks = 0;
  // the outgoing stream: our own timestamps, continuous from the first frame
  private outTs = 0;
  private sentAny = false;
  /** Source timestamp of the telephone-event being relayed → the timestamp each listener got for it. */
  private relayedEvent: { source: number; out: Map<Party, number> } | undefined;

  constructor(
    readonly name: string,
    readonly side: BridgeSide,
    private readonly mixRateHz: number,
    private readonly frameSamples: number,
    maxBufferedSamples: number,
    private readonly onEvent: (from: Party, p: RtpPacket) => void,
    private readonly onSideClosed: (party: Party) => void,
  ) {
    this.decoder = createDecoder(side.codec);
    this.encoder = createEncoder(side.codec);
    const up = new PcmResampler(this.decoder.sampleRateHz, mixRateHz, MAX_PAYLOAD_SAMPLES);
    const down = new PcmResampler(mixRateHz, this.encoder.sampleRateHz, frameSamples);
    this.up = up.passthrough ? undefined : up;
    this.down = down.passthrough ? undefined : down;
    this.upsampled = new Int16Array(up.maxOutput);
    this.downsampled = new Int16Array(down.maxOutput);
    this.frame = new Int16Array(frameSamples);
    this.fifo = new Int16Array(Math.max(maxBufferedSamples, frameSamples));
  }

  get buffered(): number {
    return this.write - this.read;
  }

  onPacket(p: RtpPacket, arrivedAtMs: number): void {
    if (p.payloadType === this.side.telephoneEventPt) {
      this.onEvent(this, p);
      return;
    }
    const samplesIn = this.decoder.sampleRateHz === 16000 ? p.payload.length * 2 : p.payload.length;
    if (samplesIn > MAX_PAYLOAD_SAMPLES) {
      this.counters.oversized++;
      return;
    }
    this.counters.packetsIn++;
    const n = this.decoder.decode(p.payload, this.decoded);
    let pcm: Int16Array = this.decoded.subarray(0, n);
    if (this.up !== undefined) pcm = this.upsampled.subarray(0, this.up.process(pcm, this.upsampled));
    this.push(pcm, arrivedAtMs);
  }

  onClose(): void {
    this.onSideClosed(this);
  }

  /** Append to the FIFO; when full, the oldest audio goes (counted). */
  private push(pcm: Int16Array, arrivedAtMs: number): void {
    const cap = this.fifo.length;
    let src = pcm;
    if (src.length > cap) {
      this.counters.droppedSamples += src.length - cap;
      src = src.subarray(src.length - cap);
    }
    const overflow = this.buffered + src.length - cap;
    if (overflow > 0) {
      this.read += overflow;
      this.counters.droppedSamples += overflow;
    }
    this.addMark(this.write, arrivedAtMs);
    const at = this.write % cap;
    const first = Math.min(src.length, cap - at);
    this.fifo.set(src.subarray(0, first), at);
    if (first < src.length) this.fifo.set(src.subarray(first), 0);
    this.write += src.length;
  }

  private addMark(sampleIndex: number, arrivedAtMs: number): void {
    const slot = (this.marksHead + this.marksCount) % MARKS;
    this.markAt[slot] = sampleIndex;
    this.markArrivedMs[slot] = arrivedAtMs;
    if (this.marksCount < MARKS) this.marksCount++;
    else this.marksHead = (this.marksHead + 1) % MARKS;
  }

  /** Take this tick's frame (or mark it missing), then keep the FIFO's standing level down. */
  take(): void {
    this.takeFrame();
    this.trim();
  }

  /**
   * Jitter grows a party's FIFO (a late packet, then two at once) and nothing drains it: after a
   * window in which it never ran below `lowest`, that much (less a 5 ms margin) was delay without
   * use, and is skipped once (at most a few frames' audio, counted) when it is at least half a frame.
   */
  private trim(): void {
    this.lowest = Math.min(this.lowest, this.buffered);
    if (++this.windowTicks < TRIM_WINDOW_TICKS) return;
    const skip = this.lowest - this.frameSamples / 4;
    if (skip >= this.frameSamples / 2) {
      this.read += skip;
      this.counters.trimmedSamples += skip;
    }
    this.lowest = Infinity;
    this.windowTicks = 0;
  }

  private takeFrame(): void {
    if (this.buffered < this.frameSamples) {
      this.present = false;
      this.counters.framesMissing++;
      return;
    }
    // the arrival of the packet holding the frame's first sample: drop the marks before it
    while (this.marksCount > 1 && this.markAt[(this.marksHead + 1) % MARKS]! <= this.read) {
      this.marksHead = (this.marksHead + 1) % MARKS;
      this.marksCount--;
    }
    this.frameArrivedAtMs = this.markArrivedMs[this.marksHead]!;
    const cap = this.fifo.length;
    const at = this.read % cap;
    const first = Math.min(this.frameSamples, cap - at);
    this.frame.set(this.fifo.subarray(at, at + first), 0);
    if (first < this.frameSamples) this.frame.set(this.fifo.subarray(0, this.frameSamples - first), first);
    this.read += this.frameSamples;
    this.present = true;
    this.counters.framesMixed++;
  }

  /** Encode `mixed` (one frame at the mix rate) and send it on this party's stream. */
  send(mixed: Int16Array, frameMs: number): void {
    let pcm = mixed;
    if (this.down !== undefined) pcm = this.downsampled.subarray(0, this.down.process(mixed, this.downsampled));
    const len = this.encoder.encode(pcm, this.encoded);
    const marker = !this.sentAny;
    if (this.sentAny) this.outTs = (this.outTs + (RTP_CLOCK_HZ * frameMs) / 1000) >>> 0;
    if (this.side.sendPayload(this.encoded.subarray(0, len), 0, this.outTs, marker)) {
      this.sentAny = true;
      this.counters.framesSent++;
    } else {
      this.counters.sendsRefused++;
    }
  }

  /** Relay a telephone-event of `from` to this party: every packet of one event keeps one timestamp. */
  relayEvent(from: Party, p: RtpPacket): void {
    let ts = from.relayedEvent?.source === p.timestamp ? from.relayedEvent.out.get(this) : undefined;
    if (ts === undefined) {
      ts = this.outTs;
      if (from.relayedEvent?.source !== p.timestamp) from.relayedEvent = { source: p.timestamp, out: new Map() };
      from.relayedEvent.out.set(this, ts);
    }
    if (this.side.sendEvent(p.payload, ts, p.marker)) from.counters.eventsRelayed++;
    else from.counters.eventsDropped++;
  }

  /** Our tap, if the session still has it. */
  release(): void {
    if (this.side.currentTap === this) this.side.setTap(undefined);
  }
}

export class Conference {
  readonly events = new TypedEmitter<ConferenceEvents>();
  readonly mixRateHz: number;
  readonly frameMs: number;
  private readonly parties: Party[];
  private readonly mixed: Int16Array;
  private readonly acc: Int32Array;
  private readonly inputs: Int16Array[] = [];
  private readonly delay = new DelayStats();
  private state: ConferenceStats['state'] = 'created';
  private timer: NodeJS.Timeout | undefined;
  private originMs = 0;
  private ticks = 0;
  private ticksSkipped = 0;
  /**
   * A late clock (the event loop stalled) mixes every frame it owes, up to what a FIFO holds: the
   * packets queued in the socket meanwhile arrive together, and mixing them at once sends them on
   * as the plain relay would, rather than leaving them standing in the FIFOs as added delay.
   */
  private readonly catchUpFrames: number;
  private matrix: HearingMatrix;

  /**
   * Take the taps of every party's session. Throws EVX_ERR_SIP_CLOSED when a session is closed,
   * EVX_ERR_BAD_REQUEST when one is tapped already (bridged elsewhere), appears twice, or the
   * matrix names a party that is not there.
   */
  constructor(parties: readonly ConferenceParty[], matrix: HearingMatrix, opts: ConferenceOptions = {}) {
    this.frameMs = opts.frameMs ?? 20;
    this.mixRateHz = parties.some((p) => p.side.codec === 'G722') ? 16000 : 8000;
    const frameSamples = (this.mixRateHz * this.frameMs) / 1000;
    const maxBufferedMs = opts.maxBufferedMs ?? 100;
    const maxBuffered = Math.round((this.mixRateHz * maxBufferedMs) / 1000);
    this.catchUpFrames = Math.max(1, Math.ceil(maxBufferedMs / this.frameMs));
    const sides = new Set(parties.map((p) => p.side));
    if (sides.size !== parties.length || new Set(parties.map((p) => p.name)).size !== parties.length)
      throw evxError('EVX_ERR_BAD_REQUEST', 'a conference party appears twice');
    for (const p of parties) {
      if (p.side.isClosed) throw evxError('EVX_ERR_SIP_CLOSED', 'a conference leg is closed', { details: { party: p.name } });
      if (p.side.currentTap !== undefined)
        throw evxError('EVX_ERR_BAD_REQUEST', 'the leg is already bridged elsewhere', { details: { party: p.name } });
    }
    this.parties = parties.map(
      (p) =>
        new Party(
          p.name,
          p.side,
          this.mixRateHz,
          frameSamples,
          maxBuffered,
          (from, packet) => this.relayEvent(from, packet),
          (party) => this.close('leg_closed', party.name),
        ),
    );
    this.mixed = new Int16Array(frameSamples);
    this.acc = new Int32Array(frameSamples);
    this.matrix = matrix;
    this.setMatrix(matrix);
    for (const p of this.parties) p.side.setTap(p);
  }

  /** Who hears whom from the next frame on. Throws EVX_ERR_BAD_REQUEST on an unknown party. */
  setMatrix(matrix: HearingMatrix): void {
    const byName = new Map(this.parties.map((p) => [p.name, p]));
    const resolved = this.parties.map((listener) =>
      (matrix[listener.name] ?? []).map((name) => {
        const talker = byName.get(name);
        if (talker === undefined || talker === listener)
          throw evxError('EVX_ERR_BAD_REQUEST', 'the hearing matrix names an unknown party', { details: { party: name } });
        return talker;
      }),
    );
    this.parties.forEach((p, i) => (p.hears = resolved[i]!));
    this.matrix = matrix;
  }

  get hearing(): HearingMatrix {
    return this.matrix;
  }

  /** Start the mix clock (a frame every frameMs, on the wall clock; no drift). */
  start(): void {
    if (this.state !== 'created') return;
    this.state = 'running';
    this.originMs = performance.now();
    this.schedule();
  }

  private schedule(): void {
    const dueMs = this.originMs + (this.ticks + this.ticksSkipped + 1) * this.frameMs;
    // mixed from setImmediate: after a stall, the packets queued in the socket meanwhile are read
    // (poll phase) before the frames they belong to are mixed, instead of just after
    this.timer = setTimeout(() => setImmediate(() => this.onTimer()), Math.max(0, dueMs - performance.now()));
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.state !== 'running') return;
    let due = Math.floor((performance.now() - this.originMs) / this.frameMs) - this.ticks - this.ticksSkipped;
    if (due > this.catchUpFrames) {
      // the event loop stalled longer than a FIFO holds: what was due before is lost anyway
      this.ticksSkipped += due - this.catchUpFrames;
      due = this.catchUpFrames;
    }
    for (let i = 0; i < due && this.state === 'running'; i++) this.mixFrame();
    if (this.state === 'running') this.schedule();
  }

  /** Mix and send one frame now (the clock calls it; tests drive it directly). */
  mixFrame(): void {
    if (this.state === 'closed') return;
    this.ticks++;
    for (const p of this.parties) p.take();
    for (const listener of this.parties) {
      this.inputs.length = 0;
      for (const talker of listener.hears) if (talker.present) this.inputs.push(talker.frame);
      mixFrames(this.mixed, this.inputs, this.acc);
      listener.send(this.mixed, this.frameMs);
    }
    const sentAtMs = performance.now();
    for (const talker of this.parties) {
      if (talker.present && this.parties.some((l) => l.hears.includes(talker))) this.delay.record(sentAtMs - talker.frameArrivedAtMs);
    }
  }

  private relayEvent(from: Party, p: RtpPacket): void {
    if (this.state === 'closed') return;
    for (const listener of this.parties) if (listener.hears.includes(from)) listener.relayEvent(from, p);
  }

  /** Final: release the taps, stop the clock, emit `closed` once. Idempotent. */
  close(reason: ConferenceCloseReason = 'closed', party?: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const p of this.parties) p.release();
    this.events.emit('closed', { reason, party });
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  stats(): ConferenceStats {
    const parties: Record<string, ConferencePartyCounters> = {};
    for (const p of this.parties) parties[p.name] = { ...p.counters };
    return {
      state: this.state,
      mixRateHz: this.mixRateHz,
      frameMs: this.frameMs,
      ticks: this.ticks,
      ticksSkipped: this.ticksSkipped,
      parties,
      delay: this.delay.summary(),
    };
  }
}
