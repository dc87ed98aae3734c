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
import { keywordOnly, matchSegment, semanticPhrases, semanticSegments } from './semanticMatch.js';
import { isNegated } from './negation.js';

export interface QaLeg {
  id: string;
  label: string;
  startedAt: number;
}

export interface QaUtterance {
  /** The stored utterance's id, echoed in hits (absent for calls not read from the store). */
  id?: number;
  legId: string | null;
  speaker: string;
  startMs: number;
  endMs: number;
  text: string;
  /** The language of the text (absent = English); semantic rules read Chinese text by exact words. */
  language?: string;
}

/**
 * Sentence vectors for semantic rules, by text: every text `semanticTexts` lists for the call and
 * rules. Without them (or for a text that has none) semantic rules match their phrases' exact words.
 */
export type SemanticVectors = ReadonlyMap<string, Float32Array>;

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
  /** Where the rule matched: character spans in the (redacted) utterances it read; empty for timing rules. */
  hits: RuleHit[];
}

/**
 * One place a rule matched: `index` is the utterance's position in the call's utterances as scored
 * (start order of the store), `start`/`end` are UTF-16 offsets into its text, as String.slice takes them.
 */
export interface RuleHit {
  utteranceId: number | null;
  index: number;
  start: number;
  end: number;
}

/** At most this many spans are kept per rule (a count beyond it is still in `value`). */
export const MAX_HITS_PER_RULE = 50;

export interface Scorecard {
  callId: string;
  /** 0..100, or null when no rule applied. */
  score: number | null;
  passed: boolean | null;
  results: RuleResult[];
}

interface Timed {
  index: number;
  id: number | null;
  text: string;
  speaker: string;
  language: string | undefined;
  startAt: number;
  endAt: number;
  tokens: string[];
  /** [start, end) UTF-16 offsets of each token in `text`. */
  spans: (readonly [number, number])[];
}

/**
 * Words of a text with their offsets: runs of letters, digits, apostrophes and redaction brackets
 * ("[DIGITS]" is one word); each Han, Hiragana or Katakana character is a word by itself, since those
 * scripts are written without spaces. NFKC-normalised and upper-cased per word so offsets stay those
 * of the original.
 */
const WORD =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]|(?:(?![\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}])[\p{L}\p{N}\p{M}'[\]])+/gu;

export function tokenise(text: string): { tokens: string[]; spans: (readonly [number, number])[] } {
  const tokens: string[] = [];
  const spans: (readonly [number, number])[] = [];
  for (const m of text.matchAll(WORD)) {
    // NFKC: full-width letters and digits (ＶＩＰ, ５) compare equal to half-width ones.
    tokens.push(m[0].normalize('NFKC').toUpperCase());
    spans.push([m.index, m.index + m[0].length]);
  }
  return { tokens, spans };
}

export function normaliseWords(text: string): string[] {
  return tokenise(text).tokens;
}

/**
 * The texts whose sentence vectors semantic rules need for this call: their English phrases and the
 * segments (utterance, clauses) of the English utterances of the speakers they read. Empty when no
 * rule is semantic.
 */
export function semanticTexts(call: Pick<QaCall, 'utterances'>, rules: readonly QaRule[]): string[] {
  const texts = new Set<string>();
  const speakers = new Set<string>();
  for (const r of rules) {
    if (r.kind !== 'semantic') continue;
    speakers.add(r.speaker ?? 'agent');
    for (const p of semanticPhrases(r.phrases)) texts.add(p);
  }
  for (const u of call.utterances)
    if (speakers.has(u.speaker) && !keywordOnly(u.text, u.language)) for (const s of semanticSegments(u.text)) texts.add(s.text);
  return [...texts];
}

/**
 * Score a call. `passScore` is the 0..100 threshold for `passed`; `vectors` serve semantic rules
 * (see `semanticTexts`).
 */
export function scoreCall(call: QaCall, rules: readonly QaRule[], passScore: number, vectors?: SemanticVectors): Scorecard {
  const legStart = new Map(call.legs.map((l) => [l.id, l.startedAt]));
  const timed: Timed[] = call.utterances
    .map((u, index) => {
      const base = (u.legId !== null ? legStart.get(u.legId) : undefined) ?? call.startedAt;
      const { tokens, spans } = tokenise(u.text);
      return {
        index,
        id: u.id ?? null,
        text: u.text,
        speaker: u.speaker,
        language: u.language,
        startAt: base + u.startMs,
        endAt: base + u.endMs,
        tokens,
        spans,
      };
    })
    .sort((a, b) => a.startAt - b.startAt);
  const answeredAt = call.answeredAt ?? call.startedAt;
  const labels = new Set(call.legs.map((l) => l.label));

  const results = rules.map((rule): RuleResult => {
    const r = evaluate(rule, timed, { answeredAt, endedAt: call.endedAt, labels, vectors });
    return { ruleId: rule.id, kind: rule.kind, weight: rule.weight, critical: rule.critical ?? false, ...r };
  });
  return { callId: call.callId, ...scoreOf(results, passScore), results };
}

/** Score and pass/fail of rule outcomes (also after a supervisor changed some of them). */
export function scoreOf(
  results: readonly Pick<RuleResult, 'weight' | 'critical' | 'outcome'>[],
  passScore: number,
): { score: number | null; passed: boolean | null } {
  const applicable = results.filter((r) => r.outcome !== 'na');
  const total = applicable.reduce((a, r) => a + r.weight, 0);
  if (applicable.length === 0 || total === 0) return { score: null, passed: null };
  const got = applicable.filter((r) => r.outcome === 'pass').reduce((a, r) => a + r.weight, 0);
  const score = Math.round((1000 * got) / total) / 10;
  const criticalFailed = applicable.some((r) => r.critical && r.outcome === 'fail');
  return { score, passed: !criticalFailed && score >= passScore };
}

type Eval = { outcome: RuleOutcome; value: number | null; matched: string[]; hits: RuleHit[] };

/** The hit covering tokens [from, to) of an utterance. */
function tokenHit(u: Timed, from: number, to: number): RuleHit {
  return { utteranceId: u.id, index: u.index, start: u.spans[from]![0], end: u.spans[to - 1]![1] };
}

function evaluate(
  rule: QaRule,
  utts: readonly Timed[],
  ctx: { answeredAt: number; endedAt: number; labels: ReadonlySet<string>; vectors: SemanticVectors | undefined },
): Eval {
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
          const at = indexOfPhrase(u.tokens, phrases[hit]!);
          return {
            outcome: after <= rule.withinMs ? 'pass' : 'fail',
            value: after,
            matched: [rule.phrases[hit]!],
            hits: [tokenHit(u, at, at + phrases[hit]!.length)],
          };
        }
      }
      return { outcome: 'fail', value: null, matched: [], hits: [] };
    }
    case 'disclosure': {
      if (!agentPresent) return na();
      const deadline = rule.withinMs === undefined ? Infinity : ctx.answeredAt + rule.withinMs;
      // The disclosure may run over two utterances: match on the agent's words as one stream.
      const tokens: string[] = [];
      const times: number[] = [];
      const origin: (readonly [Timed, number])[] = [];
      for (const u of mine) {
        u.tokens.forEach((t, k) => {
          tokens.push(t);
          times.push(u.startAt);
          origin.push([u, k]);
        });
      }
      let best: Window = { similarity: 0, from: 0, length: 0 };
      let bestPhrase = '';
      for (const phrase of rule.phrases) {
        const p = normaliseWords(phrase);
        const w = bestWindowSimilarity(tokens, times, p, deadline);
        if (w.similarity > best.similarity) {
          best = w;
          bestPhrase = phrase;
        }
      }
      const value = Math.round(best.similarity * 1000) / 1000;
      if (best.similarity < rule.minSimilarity) return { outcome: 'fail', value, matched: [], hits: [] };
      return { outcome: 'pass', value, matched: [bestPhrase], hits: windowHits(origin.slice(best.from, best.from + best.length)) };
    }
    case 'forbidden':
    case 'negativeWords': {
      if (!agentPresent) return na();
      const list = rule.kind === 'forbidden' ? rule.phrases : rule.words;
      const limit = rule.kind === 'forbidden' ? 0 : rule.maxCount;
      let count = 0;
      const matched = new Set<string>();
      const spans: RuleHit[] = [];
      for (const entry of list) {
        const p = normaliseWords(entry);
        for (const u of mine) {
          for (const at of phraseAt(u.tokens, p)) {
            count++;
            matched.add(entry);
            spans.push(tokenHit(u, at, at + p.length));
          }
        }
      }
      return { outcome: count <= limit ? 'pass' : 'fail', value: count, matched: [...matched], hits: keepHits(spans) };
    }
    case 'pattern': {
      if (!agentPresent) return na();
      const re = compilePattern(rule.pattern, rule.caseSensitive ?? false);
      let count = 0;
      const spans: RuleHit[] = [];
      for (const u of mine) {
        for (const m of u.text.slice(0, MAX_PATTERN_TEXT).matchAll(re)) {
          if (m[0].length === 0) continue;
          count++;
          spans.push({ utteranceId: u.id, index: u.index, start: m.index, end: m.index + m[0].length });
        }
      }
      const pass = rule.expect === 'present' ? count > 0 : count === 0;
      return { outcome: pass ? 'pass' : 'fail', value: count, matched: count > 0 ? [rule.pattern] : [], hits: keepHits(spans) };
    }
    case 'semantic': {
      if (!agentPresent) return na();
      return semantic(rule, mine, ctx.vectors);
    }
    case 'silence': {
      const duration = ctx.endedAt - ctx.answeredAt;
      if (duration <= 0) return na();
      const speech = unionLength(utts.map((u) => [Math.max(u.startAt, ctx.answeredAt), Math.min(u.endAt, ctx.endedAt)] as const));
      const ratio = Math.round((1 - speech / duration) * 1000) / 1000;
      return { outcome: ratio <= rule.maxRatio ? 'pass' : 'fail', value: ratio, matched: [], hits: [] };
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
      return { outcome: count <= rule.maxCount ? 'pass' : 'fail', value: count, matched: [], hits: [] };
    }
  }
}

/**
 * A semantic rule over the speaker's utterances: value is the best same-polarity similarity of any
 * English segment to any phrase (1 when a phrase's exact words were found), hits the segments that
 * said a phrase.
 */
function semantic(rule: Extract<QaRule, { kind: 'semantic' }>, mine: readonly Timed[], vectors: SemanticVectors | undefined): Eval {
  const byMeaning = semanticPhrases(rule.phrases).flatMap((phrase) => {
    const vector = vectors?.get(phrase);
    return vector === undefined ? [] : [{ phrase, vector, negated: isNegated(phrase) }];
  });
  const exact = rule.phrases.map((p) => ({ phrase: p, words: normaliseWords(p), negated: isNegated(p) }));
  const matched = new Set<string>();
  const spans: RuleHit[] = [];
  let best: number | null = null;
  for (const u of mine) {
    const segments = keywordOnly(u.text, u.language) ? [] : semanticSegments(u.text);
    const embedded = segments.length > 0 && byMeaning.length > 0 && segments.every((s) => vectors?.has(s.text));
    if (embedded) {
      for (const seg of segments) {
        const { match, best: b } = matchSegment(seg, vectors!.get(seg.text)!, byMeaning, rule.threshold);
        if (b > (best ?? 0)) best = b;
        if (match === null) continue;
        matched.add(match.phrase);
        spans.push({ utteranceId: u.id, index: u.index, start: seg.start, end: seg.end });
      }
      // Chinese phrases never match English text; nothing else to look for here.
      continue;
    }
    // Exact words (Chinese text, or no vectors): a negated utterance still does not say a positive phrase.
    const negatedUtterance = !keywordOnly(u.text, u.language) && isNegated(u.text);
    for (const p of exact) {
      if (p.words.length === 0 || (!keywordOnly(p.phrase) && p.negated !== negatedUtterance)) continue;
      for (const at of phraseAt(u.tokens, p.words)) {
        matched.add(p.phrase);
        best = 1;
        spans.push(tokenHit(u, at, at + p.words.length));
      }
    }
  }
  const count = spans.length;
  const pass = rule.expect === 'present' ? count > 0 : count === 0;
  const value = best === null ? null : Math.round(best * 1000) / 1000;
  return { outcome: pass ? 'pass' : 'fail', value, matched: [...matched], hits: keepHits(spans) };
}

function na(): Eval {
  return { outcome: 'na', value: null, matched: [], hits: [] };
}

/** Pattern rules read at most this many characters of an utterance (bounds the regex's work). */
export const MAX_PATTERN_TEXT = 2000;

/** A pattern rule's regex: Unicode, global, case-insensitive unless asked (validated at rule-set time). */
export function compilePattern(pattern: string, caseSensitive: boolean): RegExp {
  return new RegExp(pattern, caseSensitive ? 'gu' : 'giu');
}

/** Hits in text order; a span inside another of the same rule ("I PROMISE" in "I PROMISE YOU A REFUND") is dropped. */
function keepHits(hits: RuleHit[]): RuleHit[] {
  const sorted = hits.sort((a, b) => a.index - b.index || a.start - b.start || b.end - a.end);
  const kept: RuleHit[] = [];
  for (const h of sorted) {
    const last = kept[kept.length - 1];
    if (last !== undefined && last.index === h.index && h.end <= last.end) continue;
    kept.push(h);
    if (kept.length === MAX_HITS_PER_RULE) break;
  }
  return kept;
}

/** One hit per utterance a matched window of the word stream covers. */
function windowHits(window: readonly (readonly [Timed, number])[]): RuleHit[] {
  const hits: RuleHit[] = [];
  for (const [u, k] of window) {
    const last = hits[hits.length - 1];
    if (last !== undefined && last.index === u.index) last.end = u.spans[k]![1];
    else hits.push(tokenHit(u, k, k + 1));
  }
  return hits;
}

function indexOfPhrase(tokens: readonly string[], phrase: readonly string[], from = 0): number {
  if (phrase.length === 0) return -1;
  outer: for (let i = from; i + phrase.length <= tokens.length; i++) {
    for (let k = 0; k < phrase.length; k++) if (tokens[i + k] !== phrase[k]) continue outer;
    return i;
  }
  return -1;
}

/** Token indexes where non-overlapping occurrences of the phrase start. */
function phraseAt(tokens: readonly string[], phrase: readonly string[]): number[] {
  const at: number[] = [];
  for (let i = indexOfPhrase(tokens, phrase); i >= 0; i = indexOfPhrase(tokens, phrase, i + phrase.length)) at.push(i);
  return at;
}

interface Window {
  similarity: number;
  from: number;
  length: number;
}

/** Best 1 - (word edit distance / phrase length) over windows of the stream near the phrase length. */
function bestWindowSimilarity(tokens: readonly string[], times: readonly number[], phrase: readonly string[], deadline: number): Window {
  const L = phrase.length;
  let best: Window = { similarity: 0, from: 0, length: 0 };
  if (L === 0 || tokens.length === 0) return best;
  const slack = Math.max(1, Math.ceil(L * 0.25));
  for (let i = 0; i < tokens.length; i++) {
    if (times[i]! > deadline) break;
    if (!phrase.includes(tokens[i]!)) continue; // windows start on a word of the phrase
    for (let len = Math.max(1, L - slack); len <= L + slack && i + len <= tokens.length; len++) {
      const s = 1 - countWordEdits(phrase, tokens, i, len).total / L;
      if (s > best.similarity) best = { similarity: s, from: i, length: len };
      if (best.similarity === 1) return best;
    }
  }
  return best;
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
