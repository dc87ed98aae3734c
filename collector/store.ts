/**
 * Where the collector keeps what it received: one stored window per (site, window start), the
 * payload byte for byte, and its published figures flattened into (metric, value) rows for the
 * HQ totals. Two implementations: PostgreSQL (`postgresStore.ts`, for headquarters receiving many
 * sites) and SQLite (`sqliteStore.ts`, a single file with nothing to run: development, a small
 * estate, and the reference the PostgreSQL figures are compared with in `make bench-collector`).
 */
import type { AggregatePayload } from '../appliance/aggregates/schema.js';

/** One window as the collector stores it. */
export interface StoredWindow {
  idempotencyKey: string;
  site: string;
  windowStartMs: number;
  durationMs: number;
  sha256: string;
  receivedAtMs: number;
  /** The payload exactly as received (the signature covers these bytes). */
  body: string;
  metrics: MetricRow[];
}

/** A published figure of a window: null where the site suppressed the cell (fewer than k calls). */
export interface MetricRow {
  metric: string;
  value: number | null;
}

/** accepted: stored now; duplicate: this window was stored before with the same bytes; conflict: with different bytes. */
export type PutOutcome = 'accepted' | 'duplicate' | 'conflict';

export interface ReceivedPayload {
  idempotencyKey: string;
  site: string;
  windowStart: number;
  sha256: string;
  receivedAt: number;
  body: string;
}

export interface TotalsQuery {
  metric: string;
  fromMs: number;
  toMs: number;
  /** Only this site. */
  site?: string | undefined;
  /** One row per (window, site) instead of one per window over all sites. */
  bySite: boolean;
  limit: number;
}

export interface TotalsRow {
  windowStart: number;
  /** Set when the query was by site. */
  site?: string;
  /** Sum of the published values (null when every site suppressed the cell). */
  total: number | null;
  /** Sites whose window published a value for the metric. */
  sites: number;
  /** Sites whose window had the cell but suppressed it. */
  suppressed: number;
}

export interface AggregateStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Stores the window once; safe under concurrent calls for the same (site, window). */
  put(w: StoredWindow): Promise<PutOutcome>;
  /** What was received, newest window first. */
  received(site: string | undefined, limit: number): Promise<ReceivedPayload[]>;
  totals(q: TotalsQuery): Promise<TotalsRow[]>;
  close(): Promise<void>;
}

/** A metric name as the totals API and the Grafana dashboard spell it. */
export const METRIC_NAME = /^[a-z][a-zA-Z0-9_.-]{0,127}$/;

/** The payload's published figures as (metric, value) rows; labels are schema-checked vocabulary. */
export function metricRows(p: AggregatePayload): MetricRow[] {
  const rows: MetricRow[] = [];
  const add = (metric: string, value: number | null) => rows.push({ metric, value });
  add('calls.total', p.calls.total);
  add('calls.answered', p.calls.answered);
  add('calls.sip', p.calls.bySource.sip);
  add('calls.siprec', p.calls.bySource.siprec);
  add('calls.webrtc', p.calls.bySource.webrtc);
  add('qa.scored', p.qa.scored);
  add('qa.passed', p.qa.passed);
  add('privacy.suppressedCells', p.privacy.suppressedCells);
  const histogram = (name: string, h: AggregatePayload['handleTime']) =>
    h.counts.forEach((n, i) => add(`${name}.le_${h.boundsMs[i] ?? 'inf'}`, n));
  histogram('handleTimeMs', p.handleTime);
  histogram('waitTimeMs', p.waitTime);
  for (const x of p.topIntents) add(`intent.${x.intent}`, x.calls);
  for (const x of p.emotionMix) add(`emotion.${x.emotion}`, x.calls);
  for (const x of p.alerts) add(`alert.${x.kind}`, x.count);
  if (p.languages) {
    add('language.en', p.languages.calls.en);
    add('language.zh', p.languages.calls.zh);
    add('language.undecided', p.languages.calls.undecided);
  }
  if (p.contactReasons) {
    add('repeat.calls', p.contactReasons.calls);
    add('repeat.repeatCalls', p.contactReasons.repeatCalls);
  }
  if (p.channels) {
    for (const ch of ['voice', 'chat', 'email'] as const) {
      add(`channel.${ch}.contacts`, p.channels.contacts[ch]);
      add(`channel.${ch}.answered`, p.channels.answered[ch]);
    }
    const fr = p.channels.firstResponse;
    for (const ch of ['chat', 'email'] as const) histogram(`channel.${ch}.firstResponseMs`, { boundsMs: fr.boundsMs, counts: fr[ch] });
  }
  // a label repeated in one payload would break the (window, metric) key: the first one counts
  const byMetric = new Map<string, MetricRow>();
  for (const r of rows) if (!byMetric.has(r.metric)) byMetric.set(r.metric, r);
  return [...byMetric.values()];
}
