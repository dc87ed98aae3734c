// Pure helpers of the wallboard and the report page (no DOM, no i18n): threshold colouring of a
// tile and the CSV of interval figures. Unit-tested in test/unit/console/wallboardModel.test.ts.

/** A tile's colour: within target, near the limit, beyond it, or no figure to judge. */
export type Level = 'green' | 'amber' | 'red' | 'none';

/**
 * Amber and red limits of one metric. `higherIsBetter` metrics (service level) turn amber at or
 * below `amber` and red at or below `red`; the others (waits, abandon rate) at or above.
 */
export interface Threshold {
  readonly amber: number;
  readonly red: number;
  readonly higherIsBetter: boolean;
}

export type WallboardMetric =
  'waiting' | 'longestWaitingS' | 'serviceLevel' | 'averageSpeedOfAnswerS' | 'abandonRate' | 'averageHandleTimeS';

/** Defaults: a common 80/20 service-level target and waits in seconds. */
export const DEFAULT_THRESHOLDS: Readonly<Record<WallboardMetric, Threshold>> = {
  waiting: { amber: 3, red: 6, higherIsBetter: false },
  longestWaitingS: { amber: 30, red: 60, higherIsBetter: false },
  serviceLevel: { amber: 0.8, red: 0.6, higherIsBetter: true },
  averageSpeedOfAnswerS: { amber: 20, red: 40, higherIsBetter: false },
  abandonRate: { amber: 0.05, red: 0.1, higherIsBetter: false },
  averageHandleTimeS: { amber: 300, red: 480, higherIsBetter: false },
};

/** Whether a threshold is coherent: finite, non-negative, and red beyond amber in the bad direction. */
export function validThreshold(t: Threshold): boolean {
  if (![t.amber, t.red].every((v) => Number.isFinite(v) && v >= 0)) return false;
  return t.higherIsBetter ? t.red <= t.amber : t.red >= t.amber;
}

/** The colour of a value against its threshold; null (no calls yet) is 'none', never green. */
export function levelOf(value: number | null | undefined, t: Threshold): Level {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'none';
  if (t.higherIsBetter) {
    if (value <= t.red) return 'red';
    if (value <= t.amber) return 'amber';
    return 'green';
  }
  if (value >= t.red) return 'red';
  if (value >= t.amber) return 'amber';
  return 'green';
}

/** The limits the box serves (GET /api/v1/acd/wallboard/thresholds): overall and per skill group. */
export interface ThresholdsConfig {
  readonly overall: Readonly<Record<WallboardMetric, Threshold>>;
  readonly groups: Readonly<Record<string, Readonly<Record<WallboardMetric, Threshold>>>>;
}

/**
 * The limits of one view ('overall' or a skill group id): the configured ones where coherent
 * (validThreshold), else DEFAULT_THRESHOLDS' (also before the configuration is loaded).
 */
export function thresholdsFor(cfg: ThresholdsConfig | null, view: string): Record<WallboardMetric, Threshold> {
  const set = cfg === null ? undefined : view === 'overall' ? cfg.overall : (cfg.groups[view] ?? cfg.overall);
  const out = { ...DEFAULT_THRESHOLDS };
  if (set === undefined) return out;
  for (const m of Object.keys(DEFAULT_THRESHOLDS) as WallboardMetric[]) {
    const t = set[m];
    if (t !== undefined && validThreshold(t)) out[m] = t;
  }
  return out;
}

/** Abandoned share of the calls that ended in the queue (answered + abandoned); null with none. */
export function abandonRate(answered: number, abandoned: number): number | null {
  const n = answered + abandoned;
  return n === 0 ? null : abandoned / n;
}

/** One CSV field (RFC 4180): quoted when it holds a comma, quote or line break; null is empty. */
export function csvField(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
  // A leading =, +, - or @ would be a formula in a spreadsheet: prefix a quote (OWASP CSV injection).
  const safe = typeof v === 'string' && /^[=+\-@]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A CSV document (CRLF line ends) of a header row and rows. */
export function buildCsv(header: readonly string[], rows: readonly (readonly (string | number | null | undefined)[])[]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** The figures of one interval the report shows and exports (a subset of the ACD's QueueKpis). */
export interface ReportFigures {
  readonly offered: number;
  readonly answered: number;
  readonly abandoned: number;
  readonly serviceLevel: number | null;
  readonly averageSpeedOfAnswerS: number | null;
  readonly averageHandleTimeS: number | null;
  readonly occupancy: number | null;
}

export interface ReportInterval {
  readonly start: number;
  readonly end: number;
  readonly groups: Readonly<Record<string, ReportFigures>>;
  readonly overall: ReportFigures;
}

export const REPORT_COLUMNS = [
  'offered',
  'answered',
  'abandoned',
  'serviceLevel',
  'averageSpeedOfAnswerS',
  'averageHandleTimeS',
  'occupancy',
] as const;

/** Rows of the report: one per interval and group ("overall" first), times as ISO 8601 UTC. */
export function reportRows(intervals: readonly ReportInterval[]): (string | number | null)[][] {
  const rows: (string | number | null)[][] = [];
  for (const i of intervals) {
    const groups: [string, ReportFigures][] = [['overall', i.overall], ...Object.entries(i.groups).sort(([a], [b]) => a.localeCompare(b))];
    for (const [g, f] of groups) {
      rows.push([new Date(i.start).toISOString(), new Date(i.end).toISOString(), g, ...REPORT_COLUMNS.map((c) => f[c])]);
    }
  }
  return rows;
}

/** The report's CSV: machine-readable header names, raw values (ratios 0..1, seconds). */
export function reportCsv(intervals: readonly ReportInterval[]): string {
  return buildCsv(['start', 'end', 'group', ...REPORT_COLUMNS], reportRows(intervals));
}

/** One text channel's figures as the box serves them (GET /api/v1/acd/kpis `channels.channels.*`). */
export interface ChannelFigures {
  readonly waiting: number;
  readonly longestWaitingS: number | null;
  readonly active: number;
  readonly open: number;
  readonly firstResponse: { readonly count: number; readonly p50S: number | null; readonly p95S: number | null };
}

/** A tile of the channel section: which figure, its value and colour. */
export interface ChannelTile {
  readonly key: 'waiting' | 'longestWaitingS' | 'active' | 'open' | 'firstResponseP95S';
  readonly value: number | null;
  readonly level: Level;
}

/**
 * The tiles of one text channel: waiting and the longest wait coloured with the voice limits of the
 * view (a chat waits like a call), first response against the ASA limits; active / open uncoloured.
 * E-mail shows open cases instead of active chats.
 */
export function channelTiles(
  channel: 'chat' | 'email',
  f: ChannelFigures,
  th: Readonly<Record<WallboardMetric, Threshold>>,
): ChannelTile[] {
  const tiles: ChannelTile[] = [
    { key: 'waiting', value: f.waiting, level: levelOf(f.waiting, th.waiting) },
    { key: 'longestWaitingS', value: f.longestWaitingS, level: levelOf(f.longestWaitingS, th.longestWaitingS) },
    channel === 'chat' ? { key: 'active', value: f.active, level: 'none' } : { key: 'open', value: f.open, level: 'none' },
  ];
  // e-mail answers are measured in hours: no call-sized colour for them
  const responseLevel = channel === 'chat' ? levelOf(f.firstResponse.p95S, th.averageSpeedOfAnswerS) : 'none';
  tiles.push({ key: 'firstResponseP95S', value: f.firstResponse.p95S, level: responseLevel });
  return tiles;
}
