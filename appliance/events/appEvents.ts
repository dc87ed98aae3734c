/**
 * The appliance's typed event stream: what `/api/v1/events` streams to the console, what metrics,
 * QA and routing subscribe to. A discriminated union on `type`. Events carry call ids and analysis
 * results, never caller numbers; transcript text is marked so redaction (and the privacy tests) can
 * find every place it travels.
 */
import type { LanguageChoice, SpeechLanguage } from '../language.js';
import { TypedEmitter } from './typedEmitter.js';

export interface WordTimingEvent {
  word: string;
  startMs: number;
  endMs: number;
}

/** One scope (a skill group, or overall) of the contact-centre wallboard: aggregates only, times in seconds. */
export interface AcdWallboardFigures {
  waiting: number;
  /** The oldest current wait; null when nobody waits. */
  longestWaitingS: number | null;
  /** Logged-in agents by state. */
  agents: { available: number; ringing: number; 'on-call': number; 'wrap-up': number; away: number };
  /** The current interval so far (docs/kpis.md). */
  offered: number;
  answered: number;
  abandoned: number;
  shortAbandoned: number;
  overflowedOut: number;
  serviceLevel: number | null;
  averageSpeedOfAnswerS: number | null;
  averageAbandonTimeS: number | null;
  averageHandleTimeS: number | null;
  occupancy: number | null;
}

export type ApplianceEvent =
  | {
      type: 'call.started';
      at: number;
      callId: string;
      source: string;
      legs: { legId: string; label: string; codec: string | null }[];
      /** The speech language the call asked for (its queue, number, trunk or the site default); absent = en. */
      language?: LanguageChoice;
    }
  /** A call transcribed with language `auto` decided its language (once per call). */
  | { type: 'call.language'; at: number; callId: string; language: SpeechLanguage; confidence: number }
  | { type: 'call.answered'; at: number; callId: string }
  | { type: 'call.leg.added'; at: number; callId: string; legId: string; label: string; codec: string | null }
  | { type: 'call.ended'; at: number; callId: string; reason: string; durationMs: number }
  /** The caller put the call on hold (held) or took it off (re-INVITE / UPDATE direction). */
  | { type: 'call.hold'; at: number; callId: string; held: boolean }
  | {
      type: 'asr.partial';
      at: number;
      callId: string;
      legId: string;
      speaker: string;
      text: string;
      /** From the arrival of the audio that completed this result to the result (null: not measured). */
      latencyMs: number | null;
    }
  | {
      type: 'asr.final';
      at: number;
      callId: string;
      legId: string;
      speaker: string;
      utteranceId: number | null;
      text: string;
      words: WordTimingEvent[];
      startMs: number;
      endMs: number;
      confidence: number;
      latencyMs: number;
      /** The language of the text; absent = en. */
      language?: SpeechLanguage;
      /** Mandarin: tonal pinyin of the text (left out when redaction changed the text). */
      pinyin?: string;
    }
  | { type: 'asr.keyword'; at: number; callId: string; legId: string; speaker: string; phrase: string; startMs: number; score: number }
  | {
      /** Result of an utterance analyser (intent, emotion, ...), also stored with the utterance. */
      type: 'analysis';
      at: number;
      callId: string;
      legId: string;
      speaker: string;
      utteranceId: number | null;
      name: string;
      result: Record<string, unknown>;
    }
  | { type: 'dtmf'; at: number; callId: string; legId: string; digit: string; durationMs: number }
  | {
      /** Intent of a final utterance; also stored as the utterance's analysis.intent. */
      type: 'intent';
      at: number;
      callId: string;
      legId: string;
      speaker: string;
      utteranceId: number | null;
      intent: string | null;
      confidence: number;
      outOfScope: boolean;
      top: { intent: string; confidence: number }[];
      latencyMs: number;
    }
  | {
      /** Emotion of a final utterance from the voice, with the call's rolling trend. */
      type: 'emotion';
      at: number;
      callId: string;
      legId: string;
      speaker: string;
      utteranceId: number | null;
      category: string;
      confidence: number;
      arousal: number;
      valence: number;
      scores: Record<string, number>;
      agitation: number;
      trend: 'escalating' | 'calming' | 'steady' | 'unknown';
      audioMs: number;
      latencyMs: number;
    }
  | {
      /** A routing decision with its explanation; agent ids only, never URIs or numbers. */
      type: 'route.decision';
      at: number;
      callId: string;
      decisionId: number | null;
      trigger: 'utterance' | 'dequeue';
      action: 'agent' | 'queue' | 'callback' | 'self-service' | 'none';
      requestedGroupId: string | null;
      groupId: string | null;
      agentId: string | null;
      priority: number;
      needsSenior: boolean;
      estimatedWaitMs: number | null;
      overflow: { from: string; action: string } | null;
      reasons: { code: string; text: string }[];
      summary: string;
      /** Final utterance (asr.final) to decision, ms; decideMs is the decision function alone. */
      latencyMs: number | null;
      decideMs: number;
    }
  | {
      type: 'route.transfer';
      at: number;
      callId: string;
      agentId: string | null;
      state: 'requested' | 'accepted' | 'completed' | 'failed';
      status: number | null;
    }
  /**
   * An agent's state changed (acd/agentState.ts): from, to, why, who. Agent ids only: never SIP
   * usernames, contact addresses or numbers.
   */
  | {
      type: 'agent.state';
      at: number;
      agentId: string;
      from: 'available' | 'ringing' | 'on-call' | 'wrap-up' | 'away' | 'logged-out';
      to: 'available' | 'ringing' | 'on-call' | 'wrap-up' | 'away' | 'logged-out';
      reason: string;
      /** The away reason (break, lunch, no-answer, ...) when `to` is away; null otherwise. */
      awayReason: string | null;
      by: 'system' | 'agent' | 'supervisor';
      callId: string | null;
    }
  /** An agent's registered SIP contacts changed (telephony/registrar.ts); a count, never the contacts. */
  | {
      type: 'agent.registration';
      at: number;
      agentId: string;
      change: 'registered' | 'refreshed' | 'unregistered' | 'expired';
      contacts: number;
    }
  /** The agent set the disposition code of a call they handled (acd/dispositions.ts). */
  | { type: 'agent.disposition'; at: number; agentId: string; callId: string; code: string }
  /**
   * A supervisor joined a call bridged to a SIP agent's phone (listen, whisper, barge), changed
   * mode, or the supervision ended (acd/supervision.ts). Ids only.
   */
  | {
      type: 'supervision.started' | 'supervision.mode';
      at: number;
      callId: string;
      supervisorId: string;
      mode: 'listen' | 'whisper' | 'barge';
    }
  | { type: 'supervision.ended'; at: number; callId: string; supervisorId: string; mode: 'listen' | 'whisper' | 'barge'; reason: string }
  /**
   * A caller asked to be called back (pressed 1 at the ACD's offer), or a supervisor cancelled such a
   * request (acd/callbacks.ts). Ids and the group only: never the caller's number.
   */
  | { type: 'callback.requested'; at: number; id: string; callId: string | null; groupId: string }
  | { type: 'callback.cancelled'; at: number; id: string; callId: string | null; groupId: string }
  /** A callback was placed and the customer answered (completed), or it was closed unanswered / refused (failed). */
  | {
      type: 'callback.completed' | 'callback.failed';
      at: number;
      id: string;
      callId: string | null;
      groupId: string;
      attempts: number;
      reason: string | null;
    }
  | { type: 'call.quality'; at: number; callId: string; legId: string; quality: Record<string, number> }
  | {
      type: 'alert';
      at: number;
      callId: string | null;
      kind: string;
      severity: 'info' | 'warning' | 'critical';
      message: string;
      details: Record<string, unknown>;
    }
  /** A supervisor acknowledged, assigned or resolved an alert (alerts/lifecycle.ts); `by` is the console user. */
  | {
      type: 'alert.updated';
      at: number;
      alertId: number;
      callId: string | null;
      kind: string;
      severity: 'info' | 'warning' | 'critical';
      action: 'acknowledge' | 'assign' | 'resolve';
      state: 'open' | 'acknowledged' | 'resolved';
      assignedTo: string | null;
      by: string;
    }
  /**
   * Contact-centre figures for the wallboard, per skill group and overall: sent every acd.publishS
   * while they change. No call or agent ids.
   */
  | {
      type: 'acd.kpis';
      at: number;
      interval: { start: number; end: number };
      groups: Record<string, AcdWallboardFigures>;
      overall: AcdWallboardFigures;
    }
  /**
   * Agent assist: knowledge and next-best-action cards for a call's agent, picked from the caller's
   * recent finals, intent and emotion (assist/cardService.ts). Article text only, never the caller's.
   */
  | {
      type: 'assist.cards';
      at: number;
      callId: string;
      /** The caller's final (its asr.final `at`) that led to these cards, and from it to this push. */
      utteranceId: number | null;
      finalAt: number;
      latencyMs: number;
      cards: AssistCard[];
    }
  /** The agent marked a card of the call useful or not (`by`: the agent or console user). */
  | { type: 'assist.feedback'; at: number; callId: string; cardId: string; useful: boolean; by: string }
  /** A call's QA scorecard: rule ids that failed, never transcript text. */
  | {
      type: 'qa.scored';
      at: number;
      callId: string;
      score: number | null;
      passed: boolean | null;
      rulesVersion: number;
      failedRules: string[];
      agentLabel: string | null;
      groupId: string | null;
    };

/** One card pushed to an agent: a knowledge article, or a next-best action with its steps. */
export interface AssistCard {
  /** `article:<id>` or `action:<script id>`: unique within a call, shown once per call. */
  cardId: string;
  kind: 'article' | 'action';
  refId: string;
  /** The article version shown (null for actions). */
  version: number | null;
  title: string;
  /** The article's sentence that best matches what the caller said ('' for actions). */
  snippet: string;
  /** An action's steps ([] for articles). */
  steps: string[];
  score: number;
  /** What it was picked for: the caller's intent and emotion at the time (null: not known). */
  intent: string | null;
  emotion: string | null;
}

export type ApplianceEventType = ApplianceEvent['type'];

interface BusEvents {
  event: ApplianceEvent;
}

/** Fan-out of appliance events; listeners are contained (see TypedEmitter). */
export class EventBus {
  private readonly emitter: TypedEmitter<BusEvents>;

  constructor(onListenerError: (event: string, err: unknown) => void = () => {}) {
    this.emitter = new TypedEmitter<BusEvents>(onListenerError);
  }

  publish(event: ApplianceEvent): void {
    this.emitter.emit('event', event);
  }

  subscribe(listener: (event: ApplianceEvent) => void): () => void {
    return this.emitter.on('event', listener);
  }

  get subscribers(): number {
    return this.emitter.listenerCount('event');
  }

  close(): void {
    this.emitter.removeAllListeners();
  }
}
