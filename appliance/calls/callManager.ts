/**
 * Calls, independent of where their media comes from (SIP, SIPREC, WebRTC).
 *
 * CallManager admits or rejects new calls (capacity and real-time lag), creates CallSessions and
 * ends them all on drain/close. A CallSession owns its CallLegs; a CallLeg owns the leg's stages
 * (legTranscript.ts: recognition, redaction, stored finals; legAnalysis.ts: intent, emotion).
 * Close cascade: manager.close() → session.end() → leg.end() → transcript.close() (transcriber
 * flushed, held finals released) → leg stored → analysis.drain().
 * Each level is idempotent and a child that ends tells its parent to forget it.
 *
 * Storage failures (disk full) are counted and logged but never stop a call: the media path and
 * the live events keep going, and what could not be stored is reported by the store's events.
 */
import { randomUUID } from 'node:crypto';
import type { LanguageChoice, LanguageDecision, SpeechLanguage } from '../asr/language.js';
import { isEdgeVoxError } from '../errors.js';
import type { ApplianceEvent, EventBus } from '../events/appEvents.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/database.js';
import type { PcmSink } from '../audio/pcmSink.js';
import type { JoinedRedactor } from '../privacy/legRedaction.js';
import type { CallSource } from '../store/repos/calls.js';
import { withheldCaller, type CallerHasher } from './callerHash.js';
import type { CallLanguage } from './callLanguage.js';
import type { TranscriberFactory } from './transcriber.js';
import type { UtteranceAnalyser } from './analysis.js';
import { LegAnalysis } from './legAnalysis.js';
import type { LegContext } from './legContext.js';
import { LegTranscript } from './legTranscript.js';
import { DeferredWrites } from './deferredWrites.js';

/** How long ending a leg waits for its last utterances' analyses. */
const ANALYSIS_DRAIN_MS = 5000;

export type { CallSource } from '../store/repos/calls.js';

export interface CallLimits {
  /** Calls beyond this are rejected (SIP 503 + Retry-After). */
  maxConcurrentCalls: number;
  /** New calls are rejected while any leg's transcriber lags real time by more than this. */
  maxLagMs: number;
  /** Suggested Retry-After for rejected calls. */
  retryAfterS: number;
}

export type Admission = { ok: true } | { ok: false; reason: 'capacity' | 'overload' | 'draining'; retryAfterS: number };

export interface CallManagerDeps {
  store: Store;
  bus: EventBus;
  hasher: CallerHasher;
  logger: Logger;
  limits: CallLimits;
  /** Creates the per-leg speech pipeline; null when ASR is not available (calls still work). */
  transcribers: TranscriberFactory | null;
  /** Run after every final utterance (intent, emotion, ...); results are stored and published. */
  analysers?: readonly UtteranceAnalyser[];
  /**
   * Redacts transcripts (finals and partials) before they are stored or published; the analysers
   * still get the unredacted text, in memory only. Absent: transcripts pass through unchanged.
   * A final that ends open (digits, a name or e-mail cue) is held for the next one (the next
   * utterance must start within `holdMs`; no final waits over `maxHoldMs`), so values split across
   * utterances are redacted as one (privacy/legRedaction.ts).
   */
  redactor?: JoinedRedactor & { readonly holdMs: number; readonly maxHoldMs?: number };
  /** How much of each leg's audio is kept for analysers (bounded memory per leg). */
  audioHistoryMs?: number;
  /** Store writes kept for retry while the store fails (disk full), and the retry interval. */
  maxDeferredWrites?: number;
  deferredRetryMs?: number;
  /** The site's speech language (asr.language): calls started without one of their own take it. */
  defaultLanguage?: LanguageChoice;
  now?: () => number;
}

export class CallManager {
  private readonly calls = new Map<string, CallSession>();
  private draining = false;
  private closed = false;
  readonly counters = {
    admitted: 0,
    rejected: { capacity: 0, overload: 0, draining: 0 },
    storeErrors: 0,
    /** Legs whose recognition failed mid-call. */
    asrFailures: 0,
    /** Totals over ended legs, from their transcribers. */
    asrDroppedFrames: 0,
    asrDecodedMs: 0,
    asrSkippedMs: 0,
  };

  private readonly deferred: DeferredWrites;

  constructor(readonly deps: CallManagerDeps) {
    this.deferred = new DeferredWrites(
      deps.maxDeferredWrites ?? 50_000,
      deps.deferredRetryMs ?? 2000,
      (err) => isEdgeVoxError(err) && err.retryable,
    );
  }

  now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** Decide whether a new call may start, before any media resources are allocated for it. */
  admit(): Admission {
    const decision = this.availability();
    if (decision.ok) this.counters.admitted++;
    else this.counters.rejected[decision.reason]++;
    return decision;
  }

  /** What admit() would decide now, without counting it (SIP OPTIONS health probes ask this). */
  availability(): Admission {
    const { limits } = this.deps;
    if (this.draining || this.closed) return { ok: false, reason: 'draining', retryAfterS: limits.retryAfterS };
    if (this.calls.size >= limits.maxConcurrentCalls) return { ok: false, reason: 'capacity', retryAfterS: limits.retryAfterS };
    if (this.maxLagMs() > limits.maxLagMs) return { ok: false, reason: 'overload', retryAfterS: limits.retryAfterS };
    return { ok: true };
  }

  /** Start a call (admission is the caller's job: call admit() first). */
  startCall(opts: {
    source: CallSource;
    callerNumber?: string | undefined;
    meta?: Record<string, unknown>;
    callId?: string;
    /** outbound: the box placed it (a callback); default inbound. */
    direction?: 'inbound' | 'outbound';
    /** The call's speech language (calls/callLanguage.ts); absent = the site's default. */
    language?: CallLanguage;
  }): CallSession {
    const id = opts.callId ?? randomUUID();
    const language = opts.language ?? { choice: this.deps.defaultLanguage ?? 'en', from: 'site' };
    const session = new CallSession(this, id, opts.source, this.now(), language);
    this.calls.set(id, session);
    this.persist('calls.create', () =>
      this.deps.store.calls.create({
        id,
        source: opts.source,
        // a withheld number is nobody's: no hash, or all anonymous callers would be one caller
        callerHash: opts.callerNumber && !withheldCaller(opts.callerNumber) ? this.deps.hasher.hash(opts.callerNumber) : null,
        startedAt: session.startedAt,
        meta: opts.meta ?? {},
        ...(opts.direction === undefined ? {} : { direction: opts.direction }),
        language,
      }),
    );
    this.publish({ type: 'call.started', at: session.startedAt, callId: id, source: opts.source, legs: [], language: language.choice });
    return session;
  }

  get(id: string): CallSession | undefined {
    return this.calls.get(id);
  }

  active(): CallSession[] {
    return [...this.calls.values()];
  }

  get activeCount(): number {
    return this.calls.size;
  }

  /** Worst real-time lag over every active leg (ms of audio waiting to be processed). */
  maxLagMs(): number {
    let max = 0;
    for (const call of this.calls.values()) for (const leg of call.legs()) max = Math.max(max, leg.lagMs());
    return max;
  }

  /** Stop admitting calls; wait up to graceMs for active calls to end, then end the rest. */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    const deadline = this.now() + graceMs;
    while (this.calls.size > 0 && this.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await this.endAll('shutdown');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.draining = true;
    await this.endAll('shutdown');
    // Last chance for writes deferred by a full disk; what still fails is reported, not hidden.
    this.deferred.flush();
    this.deferred.close();
    if (this.deferred.pending > 0) this.deps.logger.error({ pending: this.deferred.pending }, 'call data not stored at shutdown');
  }

  private async endAll(reason: string): Promise<void> {
    await Promise.allSettled([...this.calls.values()].map((c) => c.end(reason)));
  }

  /** @internal called by a session once it has ended. */
  forget(id: string): void {
    this.calls.delete(id);
  }

  /** @internal */
  publish(event: ApplianceEvent): void {
    this.deps.bus.publish(event);
  }

  /** @internal run a store write; a failure is counted and logged, never thrown into the media path. */
  persist<T>(operation: string, write: () => T): T | undefined {
    if (this.deferred.pending > 0) {
      // Keep order behind writes that are waiting for the store to recover.
      this.deferred.add({ operation, run: write });
      return undefined;
    }
    try {
      return write();
    } catch (err) {
      if (!isEdgeVoxError(err)) throw err;
      this.counters.storeErrors++;
      if (err.retryable) {
        this.deferred.add({ operation, run: write });
        this.deps.logger.warn({ operation, code: err.code, pending: this.deferred.pending }, 'call data write deferred');
      } else {
        this.deps.logger.warn({ operation, code: err.code }, 'call data not stored');
      }
      return undefined;
    }
  }

  /** Writes waiting for the store to accept them again (disk full), and how many were lost. */
  deferredWrites(): { pending: number; dropped: number; replayed: number } {
    return { pending: this.deferred.pending, dropped: this.deferred.dropped, replayed: this.deferred.replayed };
  }
}

export class CallSession {
  private readonly legMap = new Map<string, CallLeg>();
  private ending: Promise<void> | undefined;
  answeredAt: number | null = null;
  endedAt: number | null = null;
  endReason: string | null = null;
  /** What `auto` decided (the first leg to decide speaks for the call); undefined otherwise. */
  decidedLanguage: LanguageDecision | undefined;

  constructor(
    readonly manager: CallManager,
    readonly id: string,
    readonly source: CallSource,
    readonly startedAt: number,
    readonly language: CallLanguage,
  ) {}

  /** The language spoken: the one asked for, or `auto`'s decision; null while `auto` has not decided. */
  get spokenLanguage(): SpeechLanguage | null {
    return this.language.choice === 'auto' ? (this.decidedLanguage?.language ?? null) : this.language.choice;
  }

  /** The language a leg added now is transcribed in: once `auto` decided, later legs (the agent's) take the decision. */
  legLanguage(): LanguageChoice {
    return this.decidedLanguage?.language ?? this.language.choice;
  }

  /** @internal a leg's `auto` decided its language: the first decision is the call's (stored, published). */
  languageDecided(decision: LanguageDecision): void {
    if (this.language.choice !== 'auto' || this.decidedLanguage !== undefined) return;
    this.decidedLanguage = decision;
    const m = this.manager;
    m.persist('calls.language', () => m.deps.store.calls.decideAutoLanguage(this.id, decision.language, decision.confidence));
    m.publish({ type: 'call.language', at: m.now(), callId: this.id, language: decision.language, confidence: decision.confidence });
  }

  get ended(): boolean {
    return this.ending !== undefined;
  }

  legs(): CallLeg[] {
    return [...this.legMap.values()];
  }

  answer(): void {
    if (this.answeredAt !== null || this.ended) return;
    this.answeredAt = this.manager.now();
    this.manager.persist('calls.answer', () => this.manager.deps.store.calls.markAnswered(this.id, this.answeredAt!));
    this.manager.publish({ type: 'call.answered', at: this.answeredAt, callId: this.id });
  }

  /** The far end put the call on hold or resumed it. */
  setHeld(held: boolean): void {
    if (this.ended) return;
    this.manager.publish({ type: 'call.hold', at: this.manager.now(), callId: this.id, held });
  }

  /** Add a media leg (caller, agent, or a SIPREC participant) with its own transcriber. */
  addLeg(opts: { label: string; codec: string | null; sampleRateHz: number; legId?: string; hotwords?: readonly string[] }): CallLeg {
    const legId = opts.legId ?? `${this.id}:${opts.label}:${this.legMap.size + 1}`;
    const leg = new CallLeg(this, legId, opts.label, opts.codec, opts.sampleRateHz, opts.hotwords ?? []);
    this.legMap.set(legId, leg);
    this.manager.persist('calls.addLeg', () =>
      this.manager.deps.store.calls.addLeg({ id: legId, callId: this.id, label: opts.label, codec: opts.codec, startedAt: leg.startedAt }),
    );
    this.manager.publish({ type: 'call.leg.added', at: leg.startedAt, callId: this.id, legId, label: opts.label, codec: opts.codec });
    return leg;
  }

  /** End the call once: end every leg (flushing their transcripts), then store and announce the end. */
  end(reason: string): Promise<void> {
    this.ending ??= (async () => {
      await Promise.allSettled(this.legs().map((l) => l.end()));
      this.endedAt = this.manager.now();
      this.endReason = reason;
      this.manager.persist('calls.end', () => this.manager.deps.store.calls.end(this.id, this.endedAt!, reason));
      this.manager.forget(this.id);
      this.manager.publish({ type: 'call.ended', at: this.endedAt, callId: this.id, reason, durationMs: this.endedAt - this.startedAt });
    })();
    return this.ending;
  }

  /** @internal */
  forgetLeg(legId: string): void {
    this.legMap.delete(legId);
  }
}

/**
 * One media leg of a call: takes the leg's decoded audio and hands it to its stages — the
 * transcript (recognition, redaction, stored finals) and the analysis (intent, emotion on each
 * final) — keeps the leg's quality figures, and ends once, in order: transcript flushed, leg stored,
 * last analyses awaited (bounded).
 */
export class CallLeg implements PcmSink {
  readonly startedAt: number;
  /** Samples received on this leg (at the leg's rate). */
  samplesIn = 0;
  private readonly transcript: LegTranscript;
  private readonly analysis: LegAnalysis | null;
  private ending: Promise<void> | undefined;
  private quality: Record<string, number> = {};
  private endedAt: number | null = null;

  constructor(
    readonly call: CallSession,
    readonly id: string,
    readonly label: string,
    readonly codec: string | null,
    readonly sampleRateHz: number,
    hotwords: readonly string[],
  ) {
    const manager = call.manager;
    const deps = manager.deps;
    this.startedAt = manager.now();
    const context: LegContext = {
      callId: call.id,
      legId: id,
      speaker: label,
      sampleRateHz,
      store: deps.store,
      logger: deps.logger,
      now: () => manager.now(),
      publish: (e) => manager.publish(e),
      persist: (operation, write) => manager.persist(operation, write),
    };
    const analysers = deps.analysers ?? [];
    this.analysis = analysers.length > 0 ? new LegAnalysis(context, analysers, deps.audioHistoryMs ?? 30_000) : null;
    this.transcript = new LegTranscript(context, {
      factory: deps.transcribers,
      redactor: deps.redactor,
      hotwords,
      language: call.legLanguage(),
      onLanguage: (decision) => call.languageDecided(decision),
      onStored: (t, utteranceId) => this.analysis?.analyse(t, utteranceId),
      onFailed: () => manager.counters.asrFailures++,
    });
  }

  /** PcmSink: decoded PCM from the media layer. */
  write(samples: Int16Array, sampleRateHz: number): void {
    if (this.ending !== undefined) return;
    this.samplesIn += samples.length;
    this.analysis?.write(samples);
    this.transcript.write(samples, sampleRateHz);
  }

  /** PcmSink: the media layer is done with this leg. */
  close(): void {
    void this.end();
  }

  dtmf(digit: string, durationMs: number): void {
    this.call.manager.publish({ type: 'dtmf', at: this.call.manager.now(), callId: this.call.id, legId: this.id, digit, durationMs });
  }

  /** Latest RTP quality figures; after the leg has ended they update its stored record. */
  setQuality(quality: Record<string, number>): void {
    this.quality = { ...this.quality, ...quality };
    if (this.endedAt !== null) this.storeEnd(this.endedAt);
  }

  lagMs(): number {
    return this.transcript.lagMs();
  }

  /** End once: flush the transcript (its last final is stored), store the leg, await its analyses. Never rejects. */
  end(): Promise<void> {
    this.ending ??= (async () => {
      try {
        const { stats, quality } = await this.transcript.close();
        this.quality = { ...this.quality, ...quality };
        if (stats !== null) {
          const c = this.call.manager.counters;
          // Counters only grow: a transcriber's figures are clamped at zero (the VAD pre-roll is
          // decoded twice, so "skipped" derived from processed - decoded can dip below zero).
          c.asrDroppedFrames += Math.max(0, stats.droppedFrames);
          c.asrDecodedMs += Math.max(0, stats.decodedMs);
          c.asrSkippedMs += Math.max(0, stats.skippedMs);
        }
      } catch (err) {
        // A flush that fails (its recognition worker restarting, the stream torn down) loses the
        // leg's last words, not the leg: this promise is also the media layer's `void close()`,
        // where a rejection is unhandled and would take the process, every call on it, down.
        this.call.manager.deps.logger.warn(
          { callId: this.call.id, legId: this.id, code: isEdgeVoxError(err) ? err.code : 'EVX_ERR_INTERNAL' },
          'call leg transcript not flushed',
        );
      } finally {
        const at = this.call.manager.now();
        this.endedAt = at;
        this.storeEnd(at);
        if (Object.keys(this.quality).length > 0)
          this.call.manager.publish({ type: 'call.quality', at, callId: this.call.id, legId: this.id, quality: this.quality });
        this.call.forgetLeg(this.id);
      }
      // The last utterance's analyses (emotion, intent) finish before the call is announced ended,
      // so QA and the trend registry see them; an analyser that hangs cannot hold the call open.
      await this.analysis?.drain(ANALYSIS_DRAIN_MS);
    })();
    return this.ending;
  }

  private storeEnd(at: number): void {
    const m = this.call.manager;
    m.persist('calls.endLeg', () => m.deps.store.calls.endLeg(this.id, at, this.quality));
  }
}
