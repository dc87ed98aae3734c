/**
 * When to route: listens to the caller's utterances on the event bus and asks the routing service
 * for a decision once the call has an in-scope intent (or after `maxUtterancesBeforeDefault` caller
 * utterances without one: default group). The emotion of the same utterance is waited for up to
 * `emotionWaitMs` when one is coming (the utterance is long enough and emotion analysis is on), so
 * an angry caller reaches a senior agent. Latency is measured from the final utterance's event.
 *
 * A call that ended stays ended: a late result for it (an emotion or intent analysis finishing past
 * the call's analysis drain) neither brings its state back nor routes it.
 *
 * SIPREC sessions (`call.started` with source `siprec`: recordings of calls another PBX handles) are
 * observed and analysed elsewhere but never routed here: no decision, no queue entry, no REFER.
 */
import type { ApplianceEvent, EventBus } from '../events/appEvents.js';
import { isEdgeVoxError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { groupForIntent } from './engine.js';
import type { RoutingService } from './routingService.js';
import type { RouteEmotion, RouteIntent, RouteProfile } from './types.js';

export interface CallRouterOptions {
  readonly speakers: readonly string[];
  /** Emotion analysis runs for these speakers (empty when the emotion model is not active). */
  readonly emotionSpeakers: readonly string[];
  readonly minEmotionAudioMs: number;
  readonly emotionWaitMs: number;
  readonly maxUtterancesBeforeDefault: number;
}

interface Pending {
  intent: RouteIntent;
  utteranceKey: string;
  timer: NodeJS.Timeout | null;
}

interface CallState {
  utterances: number;
  /** performance.now() of each caller final, by utterance key (bounded: the last few). */
  finals: Map<string, { at: number; expectEmotion: boolean }>;
  emotions: Map<string, RouteEmotion>;
  lastEmotion: RouteEmotion | null;
  pending: Pending | null;
  routed: boolean;
}

const MAX_CALLS = 10_000;
const MAX_UTTERANCES_KEPT = 8;

type Final = Extract<ApplianceEvent, { type: 'asr.final' }>;

export class CallRouter {
  private readonly calls = new Map<string, CallState>();
  /** Calls that are only observed (SIPREC sessions, agents' consult calls: `observe`): never routed. Bounded like `calls`. */
  private readonly observeOnly = new Set<string>();
  /** Calls seen to end (call.ended), so late events for them are ignored; bounded like `calls`, oldest out first. */
  private readonly ended = new Set<string>();
  private readonly unsubscribe: () => void;
  private closed = false;
  /** Final-to-decision latencies (ms) of the last decisions, for the bench figures. */
  readonly latencies: number[] = [];

  constructor(
    private readonly deps: {
      bus: EventBus;
      service: RoutingService;
      profileOf: (callId: string) => RouteProfile | null;
      logger: Logger;
      options: CallRouterOptions;
    },
  ) {
    this.unsubscribe = deps.bus.subscribe((e) => this.onEvent(e));
  }

  private state(callId: string): CallState {
    let s = this.calls.get(callId);
    if (s === undefined) {
      if (this.calls.size >= MAX_CALLS) this.drop(this.calls.keys().next().value!);
      s = { utterances: 0, finals: new Map(), emotions: new Map(), lastEmotion: null, pending: null, routed: false };
      this.calls.set(callId, s);
    }
    return s;
  }

  private onEvent(e: ApplianceEvent): void {
    if (this.closed) return;
    if (e.type === 'call.started' && e.source === 'siprec') {
      this.drop(e.callId);
      if (this.observeOnly.size >= MAX_CALLS) this.observeOnly.delete(this.observeOnly.values().next().value!);
      this.observeOnly.add(e.callId);
      return;
    }
    if (e.type !== 'call.ended' && 'callId' in e && e.callId !== null && (this.observeOnly.has(e.callId) || this.ended.has(e.callId)))
      return;
    switch (e.type) {
      case 'asr.final':
        if (this.deps.options.speakers.includes(e.speaker)) this.onFinal(e);
        return;
      case 'emotion': {
        if (!this.deps.options.speakers.includes(e.speaker)) return;
        const s = this.state(e.callId);
        const emotion: RouteEmotion = {
          category: e.category,
          angry: e.scores['angry'] ?? 0,
          arousal: e.arousal,
          valence: e.valence,
          trend: e.trend,
        };
        s.lastEmotion = emotion;
        const key = keyOf(e.legId, e.utteranceId, null);
        remember(s.emotions, key, emotion);
        if (s.pending !== null && s.pending.utteranceKey === key) this.decide(e.callId, s);
        return;
      }
      case 'intent': {
        if (!this.deps.options.speakers.includes(e.speaker)) return;
        const s = this.state(e.callId);
        if (s.routed || this.deps.service.isRouted(e.callId) || !this.deps.service.configured) return;
        s.utterances++;
        const intent: RouteIntent = { intent: e.intent, confidence: e.confidence, outOfScope: e.outOfScope, top: e.top };
        const why = groupForIntent(
          { callId: e.callId, intent, emotion: null, profile: null },
          this.deps.service.groupList(),
          this.deps.service.rules(),
        ).reason.code;
        const usable = why === 'intent.group' || why === 'intent.group-mass';
        if (!usable && s.utterances < this.deps.options.maxUtterancesBeforeDefault) return;
        const key = keyOf(e.legId, e.utteranceId, null);
        if (s.pending?.timer) clearTimeout(s.pending.timer);
        s.pending = { intent, utteranceKey: key, timer: null };
        const final = s.finals.get(key);
        if (final?.expectEmotion && !s.emotions.has(key) && this.deps.options.emotionWaitMs > 0) {
          s.pending.timer = setTimeout(() => this.decide(e.callId, s), this.deps.options.emotionWaitMs);
          s.pending.timer.unref();
          return;
        }
        this.decide(e.callId, s);
        return;
      }
      case 'call.ended':
        this.drop(e.callId);
        if (this.ended.size >= MAX_CALLS) this.ended.delete(this.ended.values().next().value!);
        this.ended.add(e.callId);
        return;
      default:
        return;
    }
  }

  private onFinal(e: Final): void {
    const s = this.state(e.callId);
    const o = this.deps.options;
    const expectEmotion = o.emotionSpeakers.includes(e.speaker) && e.endMs - e.startMs >= o.minEmotionAudioMs;
    remember(s.finals, keyOf(e.legId, e.utteranceId, null), { at: performance.now(), expectEmotion });
  }

  private decide(callId: string, s: CallState): void {
    const p = s.pending;
    if (p === null || s.routed || this.closed) return;
    if (p.timer) clearTimeout(p.timer);
    s.pending = null;
    s.routed = true;
    const finalAt = s.finals.get(p.utteranceKey)?.at ?? null;
    try {
      this.deps.service.route(
        { callId, intent: p.intent, emotion: s.emotions.get(p.utteranceKey) ?? s.lastEmotion, profile: this.deps.profileOf(callId) },
        finalAt,
      );
      if (finalAt !== null) {
        this.latencies.push(performance.now() - finalAt);
        if (this.latencies.length > 1000) this.latencies.shift();
      }
    } catch (err) {
      if (!isEdgeVoxError(err)) throw err;
      this.deps.logger.warn({ callId, code: err.code }, 'routing failed');
    }
  }

  private drop(callId: string): void {
    const s = this.calls.get(callId);
    if (s?.pending?.timer) clearTimeout(s.pending.timer);
    this.calls.delete(callId);
    this.observeOnly.delete(callId);
  }

  /** Never route `callId` from its words (an agent's consult call, acd/consultCalls.ts); forgotten with the call. */
  observe(callId: string): void {
    this.drop(callId);
    if (this.observeOnly.size >= MAX_CALLS) this.observeOnly.delete(this.observeOnly.values().next().value!);
    this.observeOnly.add(callId);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    for (const id of [...this.calls.keys()]) this.drop(id);
    this.ended.clear();
  }
}

function keyOf(legId: string, utteranceId: number | null, fallback: string | null): string {
  return `${legId}|${utteranceId ?? fallback ?? 'none'}`;
}

function remember<V>(m: Map<string, V>, key: string, v: V): void {
  m.set(key, v);
  if (m.size > MAX_UTTERANCES_KEPT) m.delete(m.keys().next().value!);
}
