/**
 * Supervisor alerts: an angry or escalating caller (with a suggested de-escalation script), a
 * caller talking of a complaint, a manager, a lawyer or the press (phrases in the final's language,
 * alerts/phrases.ts), a queue waiting too long, an intent spiking above its rolling baseline. Each alert is stored, published
 * as an `alert` event (which metrics counts as edgevox_alerts_total) and de-duplicated: one per call
 * and kind (an angry alert may be upgraded to critical once), one per group while its queue stays
 * long, one per intent per bucket. A call that ended stays ended: a late result for it (an emotion
 * analysis finishing past the call's analysis drain) raises nothing and brings no state back.
 */
import type { ApplianceEvent, EventBus } from '../events/appEvents.js';
import { isEdgeVoxError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Script } from '../routing/schemas.js';
import type { RoutingRules } from '../routing/types.js';
import type { AlertsRepo, AlertSeverity } from './repo.js';
import { emotionAlert, IntentSpikeDetector, QueueWaitWatch, type SpikeOptions } from './detectors.js';
import { complaintCategories, complaintRisk, type ComplaintCategory } from './phrases.js';
import { selectScript } from './scripts.js';
import type { SpeechLanguage } from '../asr/language.js';

type AlertEvent = Extract<ApplianceEvent, { type: 'alert' }>;

interface CallContext {
  groupId: string | null;
  agentId: string | null;
  intent: string | null;
  /** The language of the caller's latest final (absent: English); picks phrase lists and scripts. */
  language: SpeechLanguage | undefined;
  /** Complaint-risk categories heard so far on the call (refund included). */
  complaint: Set<ComplaintCategory>;
  raised: Map<string, AlertSeverity>;
}

export interface AlertServiceDeps {
  repo: AlertsRepo;
  bus: EventBus;
  logger: Logger;
  rules: () => RoutingRules;
  scripts: () => readonly Script[];
  /** Oldest wait per group with queued calls (from the routing service). */
  queueWaits: () => ReadonlyMap<string, number>;
  spike: SpikeOptions;
  queueCheckMs: number;
  now?: () => number;
}

const MAX_TRACKED_CALLS = 10_000;

export class AlertService {
  private readonly calls = new Map<string, CallContext>();
  /** Calls seen to end (call.ended), whose late events are ignored; bounded like `calls`, oldest out first. */
  private readonly ended = new Set<string>();
  private readonly spikes: IntentSpikeDetector;
  private readonly queueWatch = new QueueWaitWatch();
  private readonly timer: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private closed = false;
  readonly counters = { raised: 0, storeErrors: 0 };

  constructor(private readonly deps: AlertServiceDeps) {
    this.spikes = new IntentSpikeDetector(deps.spike);
    this.unsubscribe = deps.bus.subscribe((e) => this.onEvent(e));
    this.timer = setInterval(() => this.checkQueues(), deps.queueCheckMs);
    this.timer.unref();
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** The call's context, made on its first event; null once the call ended. */
  private ctx(callId: string): CallContext | null {
    if (this.ended.has(callId)) return null;
    let c = this.calls.get(callId);
    if (c === undefined) {
      if (this.calls.size >= MAX_TRACKED_CALLS) this.calls.delete(this.calls.keys().next().value!);
      c = { groupId: null, agentId: null, intent: null, language: undefined, complaint: new Set(), raised: new Map() };
      this.calls.set(callId, c);
    }
    return c;
  }

  private onEvent(e: ApplianceEvent): void {
    switch (e.type) {
      case 'intent': {
        if (e.speaker !== 'caller' || e.intent === null || e.outOfScope) return;
        const c = this.ctx(e.callId);
        if (c !== null) c.intent = e.intent;
        // the spike detector counts intents, not calls: a late one still counts
        const spike = this.spikes.add(e.intent, e.at);
        if (spike !== null) {
          this.raise({
            callId: null,
            kind: 'intent_spike',
            severity: 'warning',
            message: 'intent spiking above its baseline',
            details: {
              intent: spike.intent,
              count: spike.count,
              baselinePerBucket: Math.round(spike.baseline * 100) / 100,
              ratio: Math.round(spike.ratio * 10) / 10,
              bucketStart: spike.bucketStart,
              bucketMs: this.deps.spike.bucketMs,
            },
          });
        }
        return;
      }
      case 'route.decision': {
        const c = this.ctx(e.callId);
        if (c === null) return;
        c.groupId = e.groupId ?? e.requestedGroupId;
        c.agentId = e.agentId;
        return;
      }
      case 'emotion': {
        if (e.speaker !== 'caller' || this.ended.has(e.callId)) return;
        const rules = this.deps.rules();
        const hit = emotionAlert(
          { category: e.category, angryScore: e.scores['angry'] ?? 0, trend: e.trend, agitation: e.agitation },
          rules.angerThreshold,
        );
        if (hit === null) return;
        const c = this.ctx(e.callId);
        if (c === null) return;
        const prev = c.raised.get(hit.kind);
        if (prev === 'critical' || prev === hit.severity) return;
        // an escalating alert after an angry one adds nothing
        if (hit.kind === 'caller_escalating' && c.raised.has('caller_angry')) return;
        c.raised.set(hit.kind, hit.severity);
        const script = selectScript(this.deps.scripts(), { kind: hit.kind, groupId: c.groupId, intent: c.intent, language: c.language });
        this.raise({
          callId: e.callId,
          kind: hit.kind,
          severity: hit.severity,
          message: hit.kind === 'caller_angry' ? 'caller sounds angry' : 'caller is getting more upset',
          details: {
            emotion: {
              category: e.category,
              angry: e.scores['angry'] ?? 0,
              arousal: e.arousal,
              valence: e.valence,
              agitation: e.agitation,
              trend: e.trend,
            },
            utteranceId: e.utteranceId,
            groupId: c.groupId,
            agentId: c.agentId,
            intent: c.intent,
            script: script === null ? null : { id: script.id, title: script.title, steps: script.steps },
          },
        });
        return;
      }
      case 'asr.final': {
        if (e.speaker !== 'caller') return;
        const c = this.ctx(e.callId);
        if (c === null) return;
        c.language = e.language;
        this.checkComplaint(e.callId, c, e.text, e.utteranceId);
        return;
      }
      case 'call.ended':
        this.calls.delete(e.callId);
        if (this.ended.size >= MAX_TRACKED_CALLS) this.ended.delete(this.ended.values().next().value!);
        this.ended.add(e.callId);
        return;
      default:
        return;
    }
  }

  /**
   * A complaint-risk alert when the caller's words (not stored in the alert: only the categories)
   * ask for a manager or to complain (warning) or threaten a lawyer or the press (critical); once
   * per call, upgraded to critical once.
   */
  private checkComplaint(callId: string, c: CallContext, text: string, utteranceId: number | null): void {
    const found = complaintCategories(text, c.language ?? 'en');
    if (found.length === 0) return;
    for (const k of found) c.complaint.add(k);
    const severity = complaintRisk([...c.complaint]);
    if (severity === null) return;
    const kind = 'caller_complaint_risk';
    const prev = c.raised.get(kind);
    if (prev === 'critical' || prev === severity) return;
    c.raised.set(kind, severity);
    const script = selectScript(this.deps.scripts(), { kind, groupId: c.groupId, intent: c.intent, language: c.language });
    this.raise({
      callId,
      kind,
      severity,
      message: severity === 'critical' ? 'caller mentions legal action or the press' : 'caller asks for a manager or to complain',
      details: {
        categories: [...c.complaint],
        language: c.language ?? 'en',
        utteranceId,
        groupId: c.groupId,
        agentId: c.agentId,
        intent: c.intent,
        script: script === null ? null : { id: script.id, title: script.title, steps: script.steps },
      },
    });
  }

  /** Check queue waits now (also runs every queueCheckMs). */
  checkQueues(): void {
    if (this.closed) return;
    const threshold = this.deps.rules().queueAlertWaitMs;
    for (const { groupId, waitMs } of this.queueWatch.check(this.deps.queueWaits(), threshold)) {
      this.raise({
        callId: null,
        kind: 'queue_wait',
        severity: 'warning',
        message: 'queue wait above threshold',
        details: { groupId, oldestWaitMs: Math.round(waitMs), thresholdMs: threshold },
      });
    }
  }

  private raise(a: Omit<AlertEvent, 'type' | 'at'>): void {
    if (this.closed) return;
    const at = this.now();
    let id: number | null = null;
    try {
      id = this.deps.repo.insert({ at, callId: a.callId, kind: a.kind, severity: a.severity, message: a.message, details: a.details });
    } catch (err) {
      if (!isEdgeVoxError(err)) throw err;
      this.counters.storeErrors++;
      this.deps.logger.warn({ code: err.code, kind: a.kind }, 'alert not stored');
    }
    this.counters.raised++;
    this.deps.logger.info({ kind: a.kind, severity: a.severity, callId: a.callId, alertId: id }, 'alert raised');
    this.deps.bus.publish({ type: 'alert', at, ...a, details: { ...a.details, alertId: id } });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.unsubscribe();
    this.calls.clear();
    this.ended.clear();
  }
}
