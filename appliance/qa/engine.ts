/**
 * Scores one call against a QA rule set. Pure: the call's legs and (redacted) utterances in, a
 * scorecard out. Times: an utterance's `startMs`/`endMs` are relative to its leg's start, so they are
 * placed on the call's clock as `leg.startedAt + startMs`.
 *
 * Score = 100 × (weight of passed rules) / (weight of applicable rules). Rules about the agent are
 * not applicable ('na') to calls without an agent leg (self-service, caller-only recordings).
 * A failed critical rule fails the call whatever the score.
 */
import { countWordEdits } from '../text/wordEdits.js';
import type { QaRule } from './rules.js';

export interface QaLeg {
  id: string;
  label: string;
  startedAt: number;
}

export interface QaUtterance {
  legId: string | null;
  speaker: string;
  startMs: number;
  endMs: number;
  text: string;
}

export interface QaCall {
  callId: string;
  startedAt: number;
  answeredAt: number | null;
  endedAt: number;
  legs: readonly QaLeg[];
  utterances: readonly QaUtterance[];
}

export type RuleOutcome = 'pass' | 'fail' | 'na';

export interface RuleResult {
  ruleId: string;
  kind: QaRule['kind'];
  weight: number;
  critical: boolean;
  outcome: RuleOutcome;
  /** The measured figure: ms to greeting, similarity, hits, ratio, count (null when not measured). */
  value: number | null;
  /** Configured phrases that matched (never transcript text). */
  matched: string[];
}

export interface Scorecard {
  callId: string;
  /** 0..100, or null when no rule applied. */
  score: number | null;
  passed: boolean | null;
  results: RuleResult[];
}

interface Timed {
  speaker: string;
  startAt: number;
  endAt: number;
  tokens: string[];
}

export function normaliseWords(text: string): string[] {
  return text
    .toUpperCase()
    .replace(/[^A-Z0-9'[\]]+/g, ' ')
    .split(' ')
    .filter((w) => w !== '');
}

/** Score a call. `passScore` is the 0..100 threshold for `passed`. */
export function scoreCall(call: QaCall, rules: readonly QaRule[], passScore: number): Scorecard {
  const legStart = new Map(call.legs.map((l) => [l.id, l.startedAt]));
  const timed: Timed[] = call.utterances
    .map((u) => {
      const base = (u.legId !== null ? legStart.get(u.legId) : undefined) ?? call.startedAt;
      return { speaker: u.speaker, startAt: base + u.startMs, endAt: base + u.endMs, tokens: normaliseWords(u.text) };
    })
    .sort((a, b) => a.startAt - b.startAt);
  const answeredAt = call.answeredAt ?? call.startedAt;
  const labels = new Set(call.legs.map((l) => l.label));

  const results = rules.map((rule): RuleResult => {
    const r = evaluate(rule, timed, { answeredAt, endedAt: call.endedAt, labels });
    return { ruleId: rule.id, kind: rule.kind, weight: rule.weight, critical: rule.critical ?? false, ...r };
  });
  const applicable = results.filter((r) => r.outcome !== 'na');
  const total = applicable.reduce((a, r) => a + r.weight, 0);
  if (applicable.length === 0 || total === 0) return { callId: call.callId, score: null, passed: null, results };
  const got = applicable.filter((r) => r.outcome === 'pass').reduce((a, r) => a + r.weight, 0);
  const score = Math.round((1000 * got) / total) / 10;
  const criticalFailed = applicable.some((r) => r.critical && r.outcome === 'fail');
  return { callId: call.callId, score, passed: !criticalFailed && score >= passScore, results };
}

type Eval = { outcome: RuleOutcome; value: number | null; matched: string[] };

function evaluate(rule: QaRule, utts: readonly Timed[], ctx: { answeredAt: number; endedAt: number; labels: ReadonlySet<string> }): Eval {
  const speaker = 'speaker' in rule ? (rule.speaker ?? 'agent') : 'agent';
  const agentPresent = ctx.labels.has(speaker);
  const mine = utts.filter((u) => u.speaker === speaker);
  switch (rule.kind) {
    case 'greeting': {
      if (!agentPresent) return na();
      const phrases = rule.phrases.map(normaliseWords);
      for (const u of mine) {
        const hit = phrases.findIndex((p) => indexOfPhrase(u.tokens, p) >= 0);
        if (hit >= 0) {
          const after = Math.max(0, u.startAt - ctx.answeredAt);
          return { outcome: after <= rule.withinMs ? 'pass' : 'fail', value: after, matched: [rule.phrases[hit]!] };
        }
      }
      return { outcome: 'fail', value: null, matched: [] };
    }
    case 'disclosure': {
      if (!agentPresent) return na();
      const deadline = rule.withinMs === undefined ? Infinity : ctx.answeredAt + rule.withinMs;
      // The disclosure may run over two utterances: match on the agent's words as one stream.
      const tokens: string[] = [];
      const times: number[] = [];
      for (const u of mine) {
        for (const t of u.tokens) {
          tokens.push(t);
          times.push(u.startAt);
        }
      }
      let best = 0;
      let bestPhrase = '';
      for (const phrase of rule.phrases) {
        const p = normaliseWords(phrase);
        const s = bestWindowSimilarity(tokens, times, p, deadline);
        if (s > best) {
          best = s;
          bestPhrase = phrase;
        }
      }
      const value = Math.round(best * 1000) / 1000;
      return { outcome: best >= rule.minSimilarity ? 'pass' : 'fail', value, matched: best >= rule.minSimilarity ? [bestPhrase] : [] };
    }
    case 'forbidden':
    case 'negativeWords': {
      if (!agentPresent) return na();
      const list = rule.kind === 'forbidden' ? rule.phrases : rule.words;
      const limit = rule.kind === 'forbidden' ? 0 : rule.maxCount;
      let hits = 0;
      const matched = new Set<string>();
      for (const entry of list) {
        const p = normaliseWords(entry);
        for (const u of mine) {
          const n = countPhrase(u.tokens, p);
          if (n > 0) {
            hits += n;
            matched.add(entry);
          }
        }
      }
      return { outcome: hits <= limit ? 'pass' : 'fail', value: hits, matched: [...matched] };
    }
    case 'silence': {
      const duration = ctx.endedAt - ctx.answeredAt;
      if (duration <= 0) return na();
      const speech = unionLength(utts.map((u) => [Math.max(u.startAt, ctx.answeredAt), Math.min(u.endAt, ctx.endedAt)] as const));
      const ratio = Math.round((1 - speech / duration) * 1000) / 1000;
      return { outcome: ratio <= rule.maxRatio ? 'pass' : 'fail', value: ratio, matched: [] };
    }
    case 'talkOver': {
      if (!agentPresent) return na();
      const others = utts.filter((u) => u.speaker !== 'agent');
      let count = 0;
      for (const a of utts.filter((u) => u.speaker === 'agent')) {
        for (const c of others) {
          const overlap = Math.min(a.endAt, c.endAt) - Math.max(a.startAt, c.startAt);
          if (overlap > 0 && overlap >= rule.minOverlapMs) count++;
        }
      }
      return { outcome: count <= rule.maxCount ? 'pass' : 'fail', value: count, matched: [] };
    }
  }
}

function na(): Eval {
  return { outcome: 'na', value: null, matched: [] };
}

function indexOfPhrase(tokens: readonly string[], phrase: readonly string[], from = 0): number {
  if (phrase.length === 0) return -1;
  outer: for (let i = from; i + phrase.length <= tokens.length; i++) {
    for (let k = 0; k < phrase.length; k++) if (tokens[i + k] !== phrase[k]) continue outer;
    return i;
  }
  return -1;
}

function countPhrase(tokens: readonly string[], phrase: readonly string[]): number {
  let n = 0;
  for (let i = indexOfPhrase(tokens, phrase); i >= 0; i = indexOfPhrase(tokens, phrase, i + phrase.length)) n++;
  return n;
}

/** Best 1 - (word edit distance / phrase length) over windows of the stream near the phrase length. */
function bestWindowSimilarity(tokens: readonly string[], times: readonly number[], phrase: readonly string[], deadline: number): number {
  const L = phrase.length;
  if (L === 0 || tokens.length === 0) return 0;
  let best = 0;
  const slack = Math.max(1, Math.ceil(L * 0.25));
  for (let i = 0; i < tokens.length; i++) {
    if (times[i]! > deadline) break;
    if (!phrase.includes(tokens[i]!)) continue; // windows start on a word of the phrase
    for (let len = Math.max(1, L - slack); len <= L + slack && i + len <= tokens.length; len++) {
      const s = 1 - countWordEdits(phrase, tokens, i, len).total / L;
      if (s > best) best = s;
      if (best === 1) return 1;
    }
  }
  return Math.max(0, best);
}

function unionLength(intervals: readonly (readonly [number, number])[]): number {
  const sorted = intervals.filter(([s, e]) => e > s).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let curS = -Infinity;
  let curE = -Infinity;
  for (const [s, e] of sorted) {
    if (s > curE) {
      if (curE > curS) total += curE - curS;
      curS = s;
      curE = e;
    } else curE = Math.max(curE, e);
  }
  if (curE > curS) total += curE - curS;
  return total;
}
