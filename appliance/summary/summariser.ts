/**
 * Post-call summary, extractive and template-based (nothing leaves the box): the reason (the
 * caller's intents from the stored analysis), what the caller asked, what the agent did or
 * promised, the outcome (resolved, follow_up, transferred, unresolved) and follow-up items with who
 * and when, plus a short text. It reads the stored utterances, so it only ever sees redacted text.
 */
import type { SpeechLanguage } from '../asr/language.js';
import {
  commitmentOf,
  isAbandonCue,
  isQuestionOrRequest,
  isSatisfiedCue,
  isTransferCue,
  sentences,
  type Actor,
  type CommitmentKind,
} from './cues.js';
import { reasonFromZhText } from './reasonLexiconZh.js';
import { findTimeExpressions, type TimeExpression } from './timeExpressions.js';

export const SUMMARY_VERSION = 1;

export type CallOutcome = 'resolved' | 'follow_up' | 'transferred' | 'unresolved';

/** Why the outcome was chosen (a stable code, for the console and for tuning). */
export type OutcomeBasis =
  'transfer_record' | 'transfer_cue' | 'abandon_cue' | 'promise_with_time' | 'action_done' | 'caller_satisfied' | 'no_action';

/** One utterance as the summariser reads it (stored text, redacted). */
export interface SummaryUtterance {
  readonly speaker: string;
  readonly text: string;
  readonly language: SpeechLanguage;
  /** `analysis.intent` as the intent analyser stored it, when there is one. */
  readonly intent?: { readonly intent: string | null; readonly confidence: number; readonly outOfScope: boolean } | null | undefined;
}

/** Facts of the call record the summary uses. */
export interface SummaryCallFacts {
  /** The call record's language: used only for a call with no utterances (the finals carry their own). */
  readonly language: SpeechLanguage | null;
  /** True when the switch saw the call transferred (end reason 'transferred', a completed transfer). */
  readonly transferred: boolean;
}

export interface SummaryAction {
  readonly kind: CommitmentKind;
  readonly who: Actor;
  readonly text: string;
  readonly when: TimeExpression | null;
}

export interface FollowUp {
  readonly who: Actor;
  readonly what: string;
  /** Relative description ("tomorrow by 17:00") and the words as said. */
  readonly when: string;
  readonly whenSaid: string;
}

export interface CallSummary {
  readonly version: typeof SUMMARY_VERSION;
  readonly language: SpeechLanguage;
  readonly reason: {
    readonly intent: string | null;
    readonly confidence: number | null;
    readonly source: 'model' | 'lexicon' | null;
    readonly text: string | null;
  };
  readonly asked: string[];
  readonly actions: SummaryAction[];
  readonly outcome: CallOutcome;
  readonly outcomeBasis: OutcomeBasis;
  readonly followUps: FollowUp[];
  readonly text: string;
}

const MAX_ASKED = 5;
const MAX_ACTIONS = 8;
const MAX_SENTENCE_CHARS = 240;
/** Intents that name the conversation, not its reason. */
const NOT_A_REASON = new Set(['zh.thank', 'zh.bye']);

interface Said {
  readonly speaker: 'caller' | 'agent' | 'other';
  readonly sentence: string;
  readonly utterance: number;
  readonly language: SpeechLanguage;
}

function speakerOf(label: string): Said['speaker'] {
  return label === 'caller' || label === 'agent' ? label : 'other';
}

function clip(s: string): string {
  return s.length <= MAX_SENTENCE_CHARS ? s : `${s.slice(0, MAX_SENTENCE_CHARS - 1)}…`;
}

const EN_GREETING = /^(?:(?:hi|hello|hey|good (?:morning|afternoon|evening)|morning|yes|yeah|okay|ok|right|so|well|um|uh)\b[,.!]?\s*)+/i;
const ZH_GREETING = /^(?:(?:你好|您好|喂|嗯|那个|是的|对)[，,。！!]?\s*)+/;

function stripGreeting(s: string, language: SpeechLanguage): string {
  const out = s.replace(language === 'zh' ? ZH_GREETING : EN_GREETING, '');
  return out.length > 0 ? out.charAt(0).toUpperCase() + out.slice(1) : s;
}

function substantive(s: string, language: SpeechLanguage): boolean {
  const core = stripGreeting(s, language);
  return language === 'zh' ? core.replace(/[，。！？,.!?\s]/g, '').length >= 6 : core.split(/\s+/).length >= 5;
}

/** The reason: confidence-weighted vote of the caller's in-scope intents, early utterances weigh more. */
function reasonOf(utterances: readonly SummaryUtterance[], language: SpeechLanguage): CallSummary['reason'] {
  const caller = utterances.filter((u) => speakerOf(u.speaker) === 'caller');
  const votes = new Map<string, { score: number; best: number; text: string }>();
  caller.forEach((u, i) => {
    const r = u.intent;
    if (r === null || r === undefined || r.intent === null || r.outOfScope || NOT_A_REASON.has(r.intent)) return;
    const weight = r.confidence / (1 + 0.5 * i);
    const v = votes.get(r.intent) ?? { score: 0, best: -1, text: u.text };
    v.score += weight;
    if (r.confidence > v.best) Object.assign(v, { best: r.confidence, text: u.text });
    votes.set(r.intent, v);
  });
  if (language === 'zh' || caller.some((u) => u.language === 'zh')) {
    for (const u of caller) {
      const label = reasonFromZhText(u.text);
      if (label !== null) return { intent: label, confidence: null, source: 'lexicon', text: reasonSentence(u.text, u.language) };
    }
  }
  let best: [string, { score: number; best: number; text: string }] | undefined;
  for (const entry of votes) if (best === undefined || entry[1].score > best[1].score) best = entry;
  if (best !== undefined) {
    const lang = caller.find((u) => u.text === best[1].text)?.language ?? language;
    return {
      intent: best[0],
      confidence: Math.round(best[1].best * 1000) / 1000,
      source: 'model',
      text: reasonSentence(best[1].text, lang),
    };
  }
  const first = caller.find((u) => substantive(u.text, u.language));
  return { intent: null, confidence: null, source: null, text: first === undefined ? null : reasonSentence(first.text, first.language) };
}

/** The sentence of an utterance that states the reason: its first substantive sentence. */
function reasonSentence(text: string, language: SpeechLanguage): string {
  const ss = sentences(text, language);
  const s = ss.find((x) => substantive(x, language)) ?? ss[0] ?? text;
  return clip(stripGreeting(s, language));
}

/** Sentences of the call with who said them, in order. */
function said(utterances: readonly SummaryUtterance[]): Said[] {
  return utterances.flatMap((u, i) =>
    sentences(u.text, u.language).map((sentence) => ({ speaker: speakerOf(u.speaker), sentence, utterance: i, language: u.language })),
  );
}

/**
 * The English recogniser writes finals in capitals ("I WILL CALL YOU BACK TOMORROW BY 5PM"); the
 * summary reads and shows them in sentence case. Redaction placeholders ([CARD]) stay as they are.
 */
export function displayCase(text: string): string {
  if (/[a-z]/.test(text) || !/[A-Z]{2}/.test(text)) return text;
  const lower = text
    .toLowerCase()
    .replace(/\[([a-z_]+)\]/g, (_m, tag: string) => `[${tag.toUpperCase()}]`)
    .replace(/\bi\b/g, 'I')
    .replace(/\bi'(m|ll|ve|d)\b/g, "I'$1");
  return lower.charAt(0).toUpperCase() + lower.slice(1);
}

/** Build the summary of a call from its stored (redacted) utterances in order. */
export function summariseCall(stored: readonly SummaryUtterance[], facts: SummaryCallFacts): CallSummary {
  const utterances = stored.map((u) => ({ ...u, text: displayCase(u.text) }));
  const zhCount = utterances.filter((u) => u.language === 'zh').length;
  // The language spoken decides (the finals carry it); the call record's only when nothing was said.
  const language: SpeechLanguage = utterances.length > 0 ? (zhCount * 2 > utterances.length ? 'zh' : 'en') : (facts.language ?? 'en');
  const all = said(utterances);
  const reason = reasonOf(utterances, language);

  const asked: string[] = [];
  for (const s of all) {
    if (s.speaker !== 'caller' || !isQuestionOrRequest(s.sentence, s.language)) continue;
    const text = clip(stripGreeting(s.sentence, s.language));
    if (!asked.includes(text) && asked.length < MAX_ASKED) asked.push(text);
  }

  const actions: SummaryAction[] = [];
  let transferCue = false;
  for (const s of all) {
    if (s.speaker !== 'agent') continue;
    if (isTransferCue(s.sentence, s.language)) {
      transferCue = true;
      continue;
    }
    const c = commitmentOf(s.sentence, s.language);
    if (c === null || actions.length >= MAX_ACTIONS) continue;
    const when = findTimeExpressions(s.sentence, s.language)[0] ?? null;
    actions.push({ kind: c.kind, who: c.actor, text: clip(stripFiller(s.sentence, s.language)), when });
  }
  // One item per party and time: an agent restating a promise ("…and I will check on Friday") is one item, the last wording kept.
  const byWhoWhen = new Map<string, FollowUp>();
  for (const a of actions) {
    if (a.kind !== 'promised' || a.when === null) continue;
    const key = `${a.who.role}\u0000${a.who.name}\u0000${a.when.relative}`;
    byWhoWhen.delete(key);
    byWhoWhen.set(key, { who: a.who, what: a.text, when: a.when.relative, whenSaid: a.when.text });
  }
  const followUps = [...byWhoWhen.values()];

  const callerTail = all.filter((s) => s.speaker === 'caller').slice(-3);
  let outcome: CallOutcome;
  let outcomeBasis: OutcomeBasis;
  if (facts.transferred) [outcome, outcomeBasis] = ['transferred', 'transfer_record'];
  else if (transferCue) [outcome, outcomeBasis] = ['transferred', 'transfer_cue'];
  else if (callerTail.some((s) => isAbandonCue(s.sentence, s.language))) [outcome, outcomeBasis] = ['unresolved', 'abandon_cue'];
  else if (followUps.length > 0) [outcome, outcomeBasis] = ['follow_up', 'promise_with_time'];
  else if (actions.some((a) => a.kind === 'done')) [outcome, outcomeBasis] = ['resolved', 'action_done'];
  else if (callerTail.slice(-2).some((s) => isSatisfiedCue(s.sentence, s.language)))
    [outcome, outcomeBasis] = ['resolved', 'caller_satisfied'];
  else [outcome, outcomeBasis] = ['unresolved', 'no_action'];

  const summary = { reason, asked, actions, outcome, followUps };
  return { version: SUMMARY_VERSION, language, ...summary, outcomeBasis, text: summaryText(summary, language) };
}

const EN_FILLER =
  /^(?:(?:yes|yeah|sure|okay|ok|right|great|of course|no problem|certainly|thanks|thank you|understood|i understand|absolutely|alright|perfect)\b[,.!]?\s*)+/i;
const ZH_FILLER = /^(?:(?:好的|可以|是的|没问题|您放心|谢谢您|明白|嗯|对)[，,。！!]?\s*)+/;

function stripFiller(s: string, language: SpeechLanguage): string {
  const out = s.replace(language === 'zh' ? ZH_FILLER : EN_FILLER, '');
  return out.length > 0 ? out.charAt(0).toUpperCase() + out.slice(1) : s;
}

/** First person of the caller's sentence into the third person ("I lost my card" -> "they lost their card"). */
function callerThirdPerson(s: string): string {
  return s
    .replace(/\bI(?:'m| am)\b/g, 'they are')
    .replace(/\bI've\b/g, 'they have')
    .replace(/\bI'd\b/g, 'they would')
    .replace(/\bI'll\b/g, 'they will')
    .replace(/\bI\b/g, 'they')
    .replace(/\bmy\b/gi, 'their')
    .replace(/\bme\b/g, 'them')
    .replace(/\bmyself\b/g, 'themselves');
}

const PAST: Record<string, string> = {
  frozen: 'froze',
  taken: 'took',
  given: 'gave',
  written: 'wrote',
  done: 'did',
  run: 'ran',
  been: 'was',
};

/** The agent's sentence as a report ("I've cancelled your card" -> "Agent cancelled the caller's card"). */
function agentReport(s: string): string {
  const body = s
    .replace(/[.!]+$/, '')
    .replace(/\byourself\b/gi, 'themselves')
    .replace(/\byour\b/gi, "the caller's")
    .replace(/\byou\b/gi, 'the caller');
  const m = /^(?:I|We)(?:'ve| have)\s+(?:already\s+|just\s+|now\s+|also\s+)?(\S+)(.*)$/i.exec(body);
  if (m !== null) return `Agent ${PAST[m[1]!.toLowerCase()] ?? m[1]}${m[2]}`;
  const f = /^(?:I|We)(?:'ll| will| are going to|'m going to| am going to)\s+(.*)$/i.exec(body);
  if (f !== null) return `Agent will ${f[1]}`;
  const rest = body
    .replace(/\b(?:I|we)(?:'ve| have)\b/gi, 'the agent has')
    .replace(/\b(?:I|we)(?:'ll| will)\b/gi, 'the agent will')
    .replace(/\b(?:I|we)(?:'m| am| are)\b/gi, 'the agent is')
    .replace(/\bI\b/g, 'the agent')
    .replace(/\b(?:my|our)\b/gi, "the agent's")
    .replace(/\s+myself\b/gi, '');
  return rest.charAt(0).toUpperCase() + rest.slice(1);
}

function zhAgentReport(s: string): string {
  return s
    .replace(/[。！!]+$/, '')
    .replace(/我们|我/g, '坐席')
    .replace(/您/g, '客户');
}

const OUTCOME_TEXT: Record<SpeechLanguage, Record<CallOutcome, string>> = {
  en: { resolved: 'Resolved.', follow_up: 'Follow-up needed.', transferred: 'Transferred.', unresolved: 'Unresolved.' },
  zh: { resolved: '已解决。', follow_up: '需跟进。', transferred: '已转接。', unresolved: '未解决。' },
};

function summaryText(s: Pick<CallSummary, 'reason' | 'asked' | 'actions' | 'outcome' | 'followUps'>, language: SpeechLanguage): string {
  const parts: string[] = [];
  const shown = s.actions.slice(0, 4);
  if (language === 'zh') {
    if (s.reason.text !== null) parts.push(`客户来电：${s.reason.text.replace(/[。！？!?]+$/, '').replace(/我/g, '客户')}。`);
    if (shown.length > 0) parts.push(`${shown.map((a) => zhAgentReport(a.text)).join('；')}。`);
    parts.push(OUTCOME_TEXT.zh[s.outcome]);
    return parts.join('');
  }
  if (s.reason.text !== null) parts.push(`Caller: ${callerThirdPerson(s.reason.text).replace(/[.!?]+$/, '')}.`);
  for (const a of shown) parts.push(`${agentReport(a.text)}.`);
  parts.push(OUTCOME_TEXT.en[s.outcome]);
  return parts.join(' ');
}
