// QA workspace, the parts without a screen: cutting a transcript line into marked pieces at the rule
// hits' character offsets, the rule editor's form <-> rule conversion, and the list's query string.

/** A rule's hit in one utterance: UTF-16 offsets, as the server's engine records them. */
export interface Mark {
  start: number;
  end: number;
  /** The rule id the hit belongs to. */
  rule: string;
}

export interface Piece {
  text: string;
  /** Rules whose hits cover this piece (empty: plain text). */
  rules: string[];
}

/** Split `text` at every hit boundary; each piece lists the rules covering it (overlaps kept, in order). */
export function markSegments(text: string, marks: readonly Mark[]): Piece[] {
  const valid = marks.filter((m) => m.start >= 0 && m.end <= text.length && m.end > m.start);
  const cuts = [...new Set([0, text.length, ...valid.flatMap((m) => [m.start, m.end])])].sort((a, b) => a - b);
  const pieces: Piece[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [s, e] = [cuts[i]!, cuts[i + 1]!];
    const rules = [...new Set(valid.filter((m) => m.start <= s && m.end >= e).map((m) => m.rule))];
    const last = pieces[pieces.length - 1];
    if (last !== undefined && rules.length === 0 && last.rules.length === 0) last.text += text.slice(s, e);
    else pieces.push({ text: text.slice(s, e), rules });
  }
  return pieces;
}

/** Hits of a scorecard's results grouped by utterance (matched by stored id, else by position). */
export function marksByUtterance(
  results: readonly { ruleId: string; hits?: readonly { utteranceId: number | null; index: number; start: number; end: number }[] }[],
  transcript: readonly { id: number; index: number }[],
): Map<number, Mark[]> {
  const byId = new Map(transcript.map((u) => [u.id, u.index]));
  const out = new Map<number, Mark[]>();
  for (const r of results)
    for (const h of r.hits ?? []) {
      const at = (h.utteranceId !== null ? byId.get(h.utteranceId) : undefined) ?? h.index;
      const list = out.get(at) ?? [];
      list.push({ start: h.start, end: h.end, rule: r.ruleId });
      out.set(at, list);
    }
  return out;
}

export type FieldKind = 'number' | 'lines' | 'text' | 'expect' | 'bool';
/** The settings of each kind of rule beyond id, weight and critical, in form order. */
export const KIND_FIELDS: Record<string, [name: string, kind: FieldKind][]> = {
  greeting: [
    ['phrases', 'lines'],
    ['withinMs', 'number'],
    ['speaker', 'text'],
  ],
  disclosure: [
    ['phrases', 'lines'],
    ['minSimilarity', 'number'],
    ['withinMs', 'number'],
    ['speaker', 'text'],
  ],
  forbidden: [
    ['phrases', 'lines'],
    ['speaker', 'text'],
  ],
  negativeWords: [
    ['words', 'lines'],
    ['maxCount', 'number'],
    ['speaker', 'text'],
  ],
  silence: [['maxRatio', 'number']],
  talkOver: [
    ['minOverlapMs', 'number'],
    ['maxCount', 'number'],
  ],
  pattern: [
    ['pattern', 'text'],
    ['expect', 'expect'],
    ['caseSensitive', 'bool'],
    ['speaker', 'text'],
  ],
  semantic: [
    ['phrases', 'lines'],
    ['threshold', 'number'],
    ['expect', 'expect'],
    ['speaker', 'text'],
  ],
};
export const RULE_KINDS = Object.keys(KIND_FIELDS);

/** The editor's form: every value as the input holds it. */
export type RuleForm = Record<string, string | boolean>;

const str = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');

export function formFromRule(rule: Record<string, unknown>): RuleForm {
  const form: RuleForm = {
    id: str(rule['id']),
    kind: str(rule['kind']) || 'forbidden',
    weight: str(rule['weight']),
    critical: rule['critical'] === true,
  };
  for (const [name, kind] of KIND_FIELDS[String(form['kind'])] ?? []) {
    const v = rule[name];
    if (kind === 'bool') form[name] = v === true;
    else if (kind === 'lines') form[name] = Array.isArray(v) ? v.join('\n') : '';
    else form[name] = v === undefined ? (kind === 'expect' ? 'absent' : '') : str(v);
  }
  return form;
}

/** The rule a form describes; empty optional fields are left out, numbers parsed (the server validates). */
export function ruleFromForm(form: RuleForm): Record<string, unknown> {
  const num = (v: string | boolean | undefined) => (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v);
  const rule: Record<string, unknown> = { id: String(form['id'] ?? '').trim(), kind: form['kind'], weight: num(form['weight']) };
  if (form['critical'] === true) rule['critical'] = true;
  for (const [name, kind] of KIND_FIELDS[String(form['kind'])] ?? []) {
    const v = form[name];
    if (kind === 'bool') {
      if (v === true) rule[name] = true;
    } else if (kind === 'lines') {
      rule[name] = String(v ?? '')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '');
    } else if (typeof v === 'string' && v.trim() !== '') rule[name] = kind === 'number' ? num(v) : v.trim();
  }
  return rule;
}

export interface QaFilters {
  agent: string;
  group: string;
  result: '' | 'pass' | 'fail';
  rule: string;
  /** yyyy-mm-dd, local days; '' for no bound. */
  from: string;
  to: string;
  /** '' all; 'voice' calls only; 'chat' or 'email' those conversations only. */
  channel: QaChannel;
}
export type QaChannel = '' | 'voice' | 'chat' | 'email';
export const QA_CHANNELS: readonly Exclude<QaChannel, ''>[] = ['voice', 'chat', 'email'];
export const NO_FILTERS: QaFilters = { agent: '', group: '', result: '', rule: '', from: '', to: '', channel: '' };

/**
 * Where a QA list's next page starts: the last row's (when scored, id), as the page gave them in
 * nextBefore and nextBeforeId. Both are sent, so rows scored in that row's millisecond after it
 * are not skipped (a server without nextBeforeId pages by time alone).
 */
export interface QaCursor {
  before: number;
  beforeId: string | null;
}

/** The next page's cursor of a QA list page; null on the last page. */
export function qaCursor(page: { nextBefore: number | null; nextBeforeId?: string | null }): QaCursor | null {
  return page.nextBefore === null ? null : { before: page.nextBefore, beforeId: page.nextBeforeId ?? null };
}

/** The scorecards query for filters (dates are whole local days; `to` is inclusive). */
export function scorecardQuery(f: QaFilters, limit: number, cursor?: QaCursor | null): string {
  const q = new URLSearchParams({ limit: String(limit) });
  if (f.agent.trim()) q.set('agent', f.agent.trim());
  if (f.group.trim()) q.set('group', f.group.trim());
  if (f.result) q.set('passed', String(f.result === 'pass'));
  if (f.rule) q.set('rule', f.rule);
  if (f.from) q.set('from', String(new Date(`${f.from}T00:00:00`).getTime()));
  if (f.to) q.set('to', String(new Date(`${f.to}T00:00:00`).getTime() + 86_400_000));
  if (cursor != null) {
    q.set('before', String(cursor.before));
    if (cursor.beforeId !== null) q.set('beforeId', cursor.beforeId);
  }
  return q.toString();
}

/** The conversations' QA list query: the calls' filters, and the channel when it names a text channel. */
export function conversationQuery(f: QaFilters, limit: number, cursor?: QaCursor | null): string {
  const q = new URLSearchParams(scorecardQuery(f, limit, cursor));
  if (f.channel === 'chat' || f.channel === 'email') q.set('channel', f.channel);
  return q.toString();
}

/** One row of the QA list: a scored call (channel voice) or a closed conversation (chat, e-mail). */
export interface QaListRow {
  kind: 'call' | 'conversation';
  id: string;
  channel: string;
  startedAt: number;
  /** When it was scored (a call) or analysed at close (a conversation): the list's order. */
  scoredAt: number;
  agent: string | null;
  group: string | null;
  score: number | null;
  passed: boolean | null;
  overridden: boolean;
  /** Failed rule ids, comma separated. */
  failed: string;
}

/** A row of GET /api/v1/qa/scorecards as a list row (overrides applied). */
export function callRow(c: {
  callId: string;
  scoredAt: number;
  callStartedAt: number;
  agentLabel: string | null;
  groupId: string | null;
  score: number | null;
  passed: boolean | null;
  effectiveScore?: number | null;
  effectivePassed?: boolean | null;
  overridden?: boolean;
  results: readonly { ruleId: string; outcome: string }[];
}): QaListRow {
  return {
    kind: 'call',
    id: c.callId,
    channel: 'voice',
    startedAt: c.callStartedAt,
    scoredAt: c.scoredAt,
    agent: c.agentLabel,
    group: c.groupId,
    score: c.effectiveScore ?? c.score,
    passed: c.effectivePassed ?? c.passed,
    overridden: c.overridden === true,
    failed: failedRuleIds(c.results),
  };
}

/** A row of GET /api/v1/qa/conversations as a list row (overrides applied). */
export function conversationRow(c: {
  conversationId: string;
  channel: string;
  createdAt: number;
  startedAt: number;
  agentId: string | null;
  groupId: string | null;
  score: number | null;
  passed: boolean | null;
  effectiveScore?: number | null;
  effectivePassed?: boolean | null;
  overridden?: boolean;
  failedRules: readonly string[];
}): QaListRow {
  return {
    kind: 'conversation',
    id: c.conversationId,
    channel: c.channel,
    startedAt: c.startedAt,
    scoredAt: c.createdAt,
    agent: c.agentId,
    group: c.groupId,
    score: c.effectiveScore ?? c.score,
    passed: c.effectivePassed ?? c.passed,
    overridden: c.overridden === true,
    failed: c.failedRules.join(', '),
  };
}

/**
 * Calls and conversations in one list, newest scored first (both APIs page in that order). While a
 * side has older rows still to load (`more`), rows of the other side scored before that side's
 * oldest loaded row wait for them, so "More" never fills a gap above rows already shown.
 */
export function mergeQaRows(
  calls: { rows: readonly QaListRow[]; more: boolean },
  conversations: { rows: readonly QaListRow[]; more: boolean },
): QaListRow[] {
  const oldest = (rows: readonly QaListRow[]) => rows.reduce((m, r) => Math.min(m, r.scoredAt), Infinity);
  const cutoff = Math.max(calls.more ? oldest(calls.rows) : -Infinity, conversations.more ? oldest(conversations.rows) : -Infinity);
  return [...calls.rows, ...conversations.rows].filter((r) => r.scoredAt >= cutoff).sort((a, b) => b.scoredAt - a.scoredAt);
}

/** The ids of the rules a call failed, as one line for a table cell. */
export function failedRuleIds(results: readonly { ruleId: string; outcome: string }[]): string {
  return results
    .filter((r) => r.outcome === 'fail')
    .map((r) => r.ruleId)
    .join(', ');
}
