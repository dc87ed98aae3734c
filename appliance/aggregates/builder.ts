/**
 * Builds one site-hour of anonymised aggregates from the store.
 *
 * Privacy: every count is a number of calls (a call adds at most 1 to a cell); a cell built from
 * fewer than k calls is published as null, and when exactly one cell of a group would be hidden the
 * next smallest is hidden too, so it cannot be recovered by subtraction from a total. With epsilon > 0
 * every published cell (zeros too) gets integer noise from the two-sided geometric distribution
 * (the discrete Laplace: P(x) ∝ exp(-epsilon·|x|)), drawn from node:crypto; every figure derived
 * from cells (the QA pass rate) is computed from the noisy cells, never the true counts. The payload
 * says what it spent: the cells one call can change at most (its L1 sensitivity) times epsilon, which
 * the sync service charges to the site's privacy budget. The payload is assembled field by field
 * from the closed schema and checked against it: nothing outside it can be added.
 */
import { Value } from '@sinclair/typebox/value';
import { evxError } from '../errors.js';
import type { Store } from '../store/database.js';
import { AggregatePayload, FIRST_RESPONSE_BOUNDS_MS, HANDLE_TIME_BOUNDS_MS, SCHEMA_ID, WAIT_TIME_BOUNDS_MS } from './schema.js';
import { secureUniform } from '../randomness.js';
import { ContactReasonsRepo, countRepeats, DAY_MS } from '../insight/contactReasons.js';

export interface AggregateOptions {
  siteId: string;
  windowStartMs: number;
  windowMs: number;
  k: number;
  /** 0 = no noise. */
  epsilon: number;
  generatedAtMs: number;
  /** Uniform [0, 1) source for the noise (tests pass a seeded one). */
  random?: () => number;
  /** A repeat contact: the same caller and reason within this many days (default 7). */
  repeatWithinDays?: number;
}

const LABEL = /^[a-z][a-z0-9_.-]{0,63}$/;
const TOP_N = 10;

export function buildAggregates(store: Store, o: AggregateOptions): AggregatePayload {
  const db = store.db;
  const from = o.windowStartMs;
  const to = from + o.windowMs;
  const calls = db
    .prepare(
      `SELECT id, source, started_at AS s, answered_at AS a, ended_at AS e, language AS lang FROM calls WHERE started_at >= ? AND started_at < ?`,
    )
    .all(from, to) as { id: string; source: string; s: number; a: number | null; e: number | null; lang: string | null }[];
  const hasTable = (name: string) => db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;

  const handle = histogram(
    calls.filter((c) => c.e !== null).map((c) => c.e! - (c.a ?? c.s)),
    HANDLE_TIME_BOUNDS_MS,
  );
  const wait = histogram(
    calls.filter((c) => c.a !== null).map((c) => c.a! - c.s),
    WAIT_TIME_BOUNDS_MS,
  );
  const perCall = (path: string) =>
    db
      .prepare(
        `SELECT json_extract(u.analysis_json, ?) AS label, COUNT(DISTINCT u.call_id) AS n FROM utterances u JOIN calls c ON c.id = u.call_id
         WHERE c.started_at >= ? AND c.started_at < ? AND json_extract(u.analysis_json, ?) IS NOT NULL GROUP BY label ORDER BY n DESC, label`,
      )
      .all(path, from, to, path) as { label: unknown; n: number }[];
  const intents = perCall('$.intent.intent').filter((r) => typeof r.label === 'string' && LABEL.test(r.label));
  const emotions = perCall('$.emotion.category').filter((r) => typeof r.label === 'string' && LABEL.test(r.label));
  const qa = db
    .prepare(
      `SELECT COUNT(score) AS scored, COALESCE(SUM(passed = 1), 0) AS passed FROM qa_scorecards WHERE call_started_at >= ? AND call_started_at < ?`,
    )
    .get(from, to) as {
    scored: number;
    passed: number;
  };
  type LabelRow = { label: unknown; n: number };
  const alertRows: LabelRow[] = hasTable('alerts')
    ? (db
        .prepare(
          `SELECT kind AS label, COUNT(DISTINCT COALESCE(call_id, 'id:' || id)) AS n FROM alerts WHERE at >= ? AND at < ? GROUP BY kind ORDER BY n DESC, kind`,
        )
        .all(from, to) as LabelRow[])
    : [];
  const alerts = alertRows.filter((r) => typeof r.label === 'string' && LABEL.test(r.label));

  const cells = new CellPublisher(o.k, o.epsilon, o.random ?? secureUniform);
  // Repeat contacts of the window's calls, looking back over the repeat window (hashes stay here).
  const withinDays = o.repeatWithinDays ?? 7;
  const repeats = countRepeats(new ContactReasonsRepo(db).callReasons(from - withinDays * DAY_MS, to), from, withinDays * DAY_MS);
  const total = calls.length;
  const bySource = { sip: 0, siprec: 0, webrtc: 0 };
  for (const c of calls) if (c.source === 'sip' || c.source === 'siprec' || c.source === 'webrtc') bySource[c.source]++;
  // the unanswered calls are total minus answered: nested, so a small number of them is not given away
  const callCells = cells.group([total, calls.filter((c) => c.a !== null).length], 'nested');
  const srcCells = cells.group([bySource.sip, bySource.siprec, bySource.webrtc], 'partition');
  // a passed call is also a scored one: both cells can change with one call
  const qaCells = cells.group([qa.scored, qa.passed], 'nested');
  const byLanguage = { en: 0, zh: 0, undecided: 0 };
  for (const c of calls) byLanguage[c.lang === 'en' || c.lang === 'zh' ? c.lang : 'undecided']++;
  const langCells = cells.group([byLanguage.en, byLanguage.zh, byLanguage.undecided], 'partition');
  const topIntents = zipLabels(intents.slice(0, TOP_N), cells);
  const intentsByLanguage = splitByLanguage(
    db,
    topIntents.map(([label]) => label),
    from,
    to,
    cells,
  );
  const payload: AggregatePayload = {
    schema: SCHEMA_ID,
    site: o.siteId,
    window: { startMs: from, durationMs: o.windowMs, start: new Date(from).toISOString() },
    generatedAtMs: o.generatedAtMs,
    privacy: {
      k: o.k,
      noise: o.epsilon > 0 ? { mechanism: 'two-sided-geometric', epsilon: o.epsilon, sensitivity: 0, epsilonSpent: 0 } : null,
      suppressedCells: 0,
    },
    calls: {
      total: callCells[0]!,
      answered: callCells[1]!,
      bySource: { sip: srcCells[0]!, siprec: srcCells[1]!, webrtc: srcCells[2]! },
    },
    handleTime: { boundsMs: HANDLE_TIME_BOUNDS_MS, counts: cells.group(handle, 'partition') },
    waitTime: { boundsMs: WAIT_TIME_BOUNDS_MS, counts: cells.group(wait, 'partition') },
    topIntents: topIntents.map(([label, n]) => ({ intent: label, calls: n })),
    emotionMix: zipLabels(emotions.slice(0, TOP_N), cells).map(([label, n]) => ({ emotion: label, calls: n })),
    qa: {
      scored: qaCells[0]!,
      passed: qaCells[1]!,
      // Only from the published (noisy) counts, and only when both are published.
      passRate: rateOf(qaCells[1]!, qaCells[0]!),
    },
    alerts: zipLabels(alerts.slice(0, TOP_N), cells).map(([label, n]) => ({ kind: label, count: n })),
    languages: {
      calls: { en: langCells[0]!, zh: langCells[1]!, undecided: langCells[2]! },
      intents: intentsByLanguage,
    },
    contactReasons: contactReasonCells(repeats, withinDays, cells),
  };
  if (hasTable('conversations')) {
    payload.channels = channelCells(db, { contacts: total, answered: calls.filter((c) => c.a !== null).length }, from, to, cells);
  }
  payload.privacy.suppressedCells = cells.suppressed;
  if (payload.privacy.noise !== null) {
    payload.privacy.noise.sensitivity = cells.sensitivity;
    payload.privacy.noise.epsilonSpent = Math.round(o.epsilon * cells.sensitivity * 1e6) / 1e6;
  }
  assertPayload(payload);
  return payload;
}

/** part / whole of two published cells, 3 decimals, clamped to [0, 1]; null when either is hidden or the whole is 0. */
function rateOf(part: number | null, whole: number | null): number | null {
  if (part === null || whole === null || whole <= 0) return null;
  return Math.round((1000 * Math.min(part, whole)) / whole) / 1000;
}

/** Throws unless `p` is exactly an AggregatePayload (no extra keys anywhere, labels well-formed). */
export function assertPayload(p: unknown): asserts p is AggregatePayload {
  if (!Value.Check(AggregatePayload, p)) {
    const first = [...Value.Errors(AggregatePayload, p)][0];
    throw evxError('EVX_ERR_SYNC_PAYLOAD', `aggregates payload does not match the schema at ${first?.path ?? '/'}`, {
      details: { path: first?.path ?? '/' },
    });
  }
}

/** Repeat contacts as cells: calls and repeat calls one group (as QA scored/passed), reasons whose count is hidden left out. */
function contactReasonCells(
  r: ReturnType<typeof countRepeats>,
  withinDays: number,
  cells: CellPublisher,
): NonNullable<AggregatePayload['contactReasons']> {
  // a repeat call is also a call: both cells can change with one call
  const [calls, repeatCalls] = cells.group([r.calls, r.repeatCalls], 'nested');
  const repeatIntents = zipLabels(
    r.byIntent
      .filter((x) => LABEL.test(x.intent))
      .slice(0, TOP_N)
      .map((x) => ({ label: x.intent, n: x.repeatCalls })),
    cells,
  ).map(([intent, n]) => ({ intent, calls: n }));
  return { withinDays, calls: calls!, repeatCalls: repeatCalls!, repeatIntents };
}

/**
 * The channel dimension: contacts and answered ones per channel are each a partition (a contact is
 * in one channel), so each is one group with secondary suppression; the first-response histograms
 * one group per channel. The answer rates come from the published (noisy) cells only.
 */
function channelCells(
  db: Store['db'],
  voice: { contacts: number; answered: number },
  from: number,
  to: number,
  cells: CellPublisher,
): NonNullable<AggregatePayload['channels']> {
  const rows = db
    .prepare(
      `SELECT c.channel,
              (SELECT MIN(m.at) FROM conversation_messages m WHERE m.conversation_id = c.id AND m.sender = 'visitor') AS v,
              (SELECT MIN(m.at) FROM conversation_messages m WHERE m.conversation_id = c.id AND m.sender = 'agent') AS a
         FROM conversations c WHERE c.created_at >= ? AND c.created_at < ?`,
    )
    .all(from, to) as { channel: string; v: number | null; a: number | null }[];
  const text = {
    chat: { contacts: 0, answered: 0, responsesMs: [] as number[] },
    email: { contacts: 0, answered: 0, responsesMs: [] as number[] },
  };
  for (const r of rows) {
    if (r.channel !== 'chat' && r.channel !== 'email') continue;
    const t = text[r.channel];
    t.contacts++;
    if (r.a === null) continue;
    t.answered++;
    if (r.v !== null && r.a >= r.v) t.responsesMs.push(r.a - r.v);
  }
  const [vc, cc, ec] = cells.group([voice.contacts, text.chat.contacts, text.email.contacts], 'partition');
  // a channel's answered contacts are a part of its contacts: hidden when the unanswered ones are few
  const fewUnanswered = [voice, text.chat, text.email].map((c) => c.contacts - c.answered > 0 && c.contacts - c.answered < cells.k);
  const [va, ca, ea] = cells.group([voice.answered, text.chat.answered, text.email.answered], 'partition', fewUnanswered);
  return {
    contacts: { voice: vc!, chat: cc!, email: ec! },
    answered: { voice: va!, chat: ca!, email: ea! },
    answerRate: { voice: rateOf(va!, vc!), chat: rateOf(ca!, cc!), email: rateOf(ea!, ec!) },
    firstResponse: {
      boundsMs: FIRST_RESPONSE_BOUNDS_MS,
      chat: cells.group(histogram(text.chat.responsesMs, FIRST_RESPONSE_BOUNDS_MS), 'partition'),
      email: cells.group(histogram(text.email.responsesMs, FIRST_RESPONSE_BOUNDS_MS), 'partition'),
    },
  };
}

function histogram(values: number[], bounds: readonly number[]): number[] {
  const counts = new Array<number>(bounds.length + 1).fill(0);
  for (const v of values) {
    let i = bounds.findIndex((b) => v <= b);
    if (i < 0) i = bounds.length;
    counts[i]!++;
  }
  return counts;
}

/**
 * Calls per (language, intent) for the intents already published: each intent's cells (en, zh and
 * the undecided ones, which are not published) are one group (secondary suppression), as the
 * published intent total would otherwise give away a hidden one by subtraction. Zero and hidden cells are left out.
 */
function splitByLanguage(
  db: Store['db'],
  published: readonly string[],
  from: number,
  to: number,
  cells: CellPublisher,
): { language: 'en' | 'zh'; intent: string; calls: number }[] {
  if (published.length === 0) return [];
  const rows = db
    .prepare(
      `SELECT json_extract(u.analysis_json, '$.intent.intent') AS label, COALESCE(c.language, '') AS lang, COUNT(DISTINCT u.call_id) AS n
         FROM utterances u JOIN calls c ON c.id = u.call_id
        WHERE c.started_at >= ? AND c.started_at < ? AND label IS NOT NULL GROUP BY label, lang`,
    )
    .all(from, to) as { label: unknown; lang: string; n: number }[];
  const out: { language: 'en' | 'zh'; intent: string; calls: number }[] = [];
  for (const intent of published) {
    const n = (lang: string) => rows.find((r) => r.label === intent && r.lang === lang)?.n ?? 0;
    // undecided calls are in the published intent total too: in the group, never published themselves
    const counts = [n('en'), n('zh'), n('')];
    const [en, zh, undecided] = cells.group(counts, 'partition');
    if (undecided === null) cells.suppressed--; // hidden, but never published anyway
    // as with labels, a hidden cell is left out: that a language had the intent at all says something
    if (counts[0]! > 0 && typeof en === 'number') out.push({ language: 'en', intent, calls: en });
    if (counts[1]! > 0 && typeof zh === 'number') out.push({ language: 'zh', intent, calls: zh });
  }
  return out;
}

function zipLabels(rows: { label: unknown; n: number }[], cells: CellPublisher): [string, number | null][] {
  // Label lists are not a partition of a published total (a call can have several intents), so
  // each cell stands alone: no secondary suppression.
  const published = rows.map((r) => cells.one(r.n));
  // Labels whose count is hidden are dropped entirely: a rare intent's name alone says something.
  return rows.map((r, i) => [r.label as string, published[i]!] as [string, number | null]).filter(([, n]) => n !== null);
}

/**
 * How the cells of a group relate: a call is in at most one cell of a `partition` (sources,
 * languages, histogram bins); in a `nested` group the first cell is a whole and each other cell a
 * part of it (scored and passed, calls and answered ones), so a call may be in every cell, and the
 * whole minus a part (failed, unanswered) is a cell anyone can work out.
 */
export type CellGroupKind = 'partition' | 'nested';

/** k-anonymous (and optionally noisy) publication of call counts. */
export class CellPublisher {
  suppressed = 0;
  /**
   * The published cells one call can change at most (L1 sensitivity of what was published so far):
   * 1 per partition group or single cell with anything published, 1 per published cell of an
   * overlapping group. Hidden cells publish nothing and count nothing.
   */
  sensitivity = 0;
  private readonly alpha: number;

  constructor(
    readonly k: number,
    private readonly epsilon: number,
    private readonly random: () => number,
  ) {
    this.alpha = epsilon > 0 ? Math.exp(-epsilon) : 0;
  }

  one(n: number): number | null {
    return this.group([n], 'partition')[0]!;
  }

  /**
   * Publish a group of cells. One small cell alone hidden in a partition hides the next smallest too
   * (secondary suppression: its sum is a published total); `alsoHide` hides cells for a reason found
   * outside the group. A nested group's parts are hidden with a whole under k, and when the whole
   * minus the part (its complement: failed, unanswered) would be a small cell given away by subtraction.
   */
  group(counts: readonly number[], kind: CellGroupKind, alsoHide: readonly boolean[] = []): (number | null)[] {
    const small = (n: number) => n > 0 && n < this.k;
    const hide =
      kind === 'nested'
        ? counts.map((n, i) => small(n) || (i > 0 && (small(counts[0]!) || small(counts[0]! - n))))
        : counts.map((n, i) => small(n) || (n > 0 && alsoHide[i] === true));
    // a hidden part of a nested group is not the whole minus anything published: no second cell to hide
    if (kind === 'partition' && hide.filter(Boolean).length === 1 && counts.length > 1) {
      // One hidden cell could be recovered from the total: hide the smallest other non-zero cell too.
      let j = -1;
      counts.forEach((n, i) => {
        if (!hide[i] && n > 0 && (j < 0 || n < counts[j]!)) j = i;
      });
      if (j >= 0) hide[j] = true;
    }
    const published = hide.filter((h) => !h).length;
    this.sensitivity += kind === 'partition' ? Math.min(1, published) : published;
    return counts.map((n, i) => {
      if (hide[i]) {
        this.suppressed++;
        return null;
      }
      return this.noisy(n);
    });
  }

  /** n plus two-sided geometric noise (the difference of two geometric draws), never below 0. */
  private noisy(n: number): number {
    if (this.epsilon <= 0) return n;
    return Math.max(0, n + this.geometric() - this.geometric());
  }

  /** Failures before the first success, success probability 1 - alpha (inverse CDF). */
  private geometric(): number {
    const u = 1 - this.random(); // (0, 1]
    return Math.floor(Math.log(u) / Math.log(this.alpha));
  }
}
