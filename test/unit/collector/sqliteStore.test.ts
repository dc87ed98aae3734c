/**
 * The collector's SQLite store and the metric rows of a payload: a window is stored once, the
 * same bytes again are a duplicate and other bytes a conflict; totals sum the published cells per
 * window (suppressed cells counted apart, never as zero); an old collector.sqlite keeps working.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../collector/sqliteStore.js';
import { metricRows, type StoredWindow } from '../../../collector/store.js';
import { HOUR_MS, seededRandom, simulatedPayload } from '../../../tools/collector/simulatedSites.js';
import { scratchDir } from '../../helpers/paths.js';

const T0 = Date.UTC(2026, 10, 20, 10);

function windowOf(site: string, startMs: number, seed: number): StoredWindow {
  const payload = simulatedPayload(site, startMs, seededRandom(seed));
  const body = JSON.stringify(payload);
  return {
    idempotencyKey: `${site}:${startMs}`,
    site,
    windowStartMs: startMs,
    durationMs: HOUR_MS,
    sha256: createHash('sha256').update(body).digest('hex'),
    receivedAtMs: startMs + 2 * HOUR_MS,
    body,
    metrics: metricRows(payload),
  };
}

describe('metricRows', () => {
  it('flattens the published figures, one row per metric, suppressed cells as null', () => {
    const payload = simulatedPayload('site-a', T0, seededRandom(1));
    payload.calls.bySource.siprec = null;
    const rows = metricRows(payload);
    expect(new Set(rows.map((r) => r.metric)).size).toBe(rows.length);
    expect(rows).toContainEqual({ metric: 'calls.total', value: payload.calls.total });
    expect(rows).toContainEqual({ metric: 'calls.siprec', value: null });
    expect(rows.filter((r) => r.metric.startsWith('handleTimeMs.'))).toHaveLength(payload.handleTime.counts.length);
    expect(rows.some((r) => r.metric === 'handleTimeMs.le_inf')).toBe(true);
    for (const x of payload.topIntents) expect(rows).toContainEqual({ metric: `intent.${x.intent}`, value: x.calls });
    // rates are never stored: dashboards divide published sums
    expect(rows.some((r) => /rate/i.test(r.metric))).toBe(false);
  });
});

describe('SqliteStore', () => {
  it('stores a window once; the same bytes are a duplicate, other bytes a conflict; totals sum per window', async () => {
    const store = new SqliteStore(scratchDir('collector-sqlite'));
    try {
      const a = windowOf('site-a', T0, 1);
      expect(await store.put(a)).toBe('accepted');
      expect(await store.put(a)).toBe('duplicate');
      expect(await store.put({ ...windowOf('site-a', T0, 2), idempotencyKey: a.idempotencyKey })).toBe('conflict');
      const b = windowOf('site-b', T0, 3);
      b.metrics = b.metrics.map((m) => (m.metric === 'calls.total' ? { ...m, value: null } : m));
      expect(await store.put(b)).toBe('accepted');
      expect(await store.put(windowOf('site-b', T0 + HOUR_MS, 4))).toBe('accepted');
      const total = (w: StoredWindow) => w.metrics.find((m) => m.metric === 'calls.total')!.value;
      const rows = await store.totals({ metric: 'calls.total', fromMs: T0, toMs: T0 + 2 * HOUR_MS, bySite: false, limit: 100 });
      expect(rows).toEqual([
        { windowStart: T0, total: total(a), sites: 1, suppressed: 1 },
        { windowStart: T0 + HOUR_MS, total: total(windowOf('site-b', T0 + HOUR_MS, 4)), sites: 1, suppressed: 0 },
      ]);
      const bySite = await store.totals({ metric: 'calls.total', fromMs: T0, toMs: T0 + HOUR_MS, bySite: true, limit: 100 });
      expect(bySite.map((r) => r.site)).toEqual(['site-a', 'site-b']);
      expect((await store.received('site-a', 10)).map((p) => p.body)).toEqual([a.body]);
    } finally {
      await store.close();
    }
  });

  it('opens a collector.sqlite written before the metric rows existed and keeps its windows', async () => {
    const dir = scratchDir('collector-sqlite-old');
    const old = new Database(join(dir, 'collector.sqlite'));
    old.exec(`CREATE TABLE received (idempotency_key TEXT PRIMARY KEY, site TEXT NOT NULL, window_start INTEGER NOT NULL,
      sha256 TEXT NOT NULL, received_at INTEGER NOT NULL, body TEXT NOT NULL)`);
    const w = windowOf('site-a', T0, 1);
    old
      .prepare('INSERT INTO received VALUES (?, ?, ?, ?, ?, ?)')
      .run(w.idempotencyKey, w.site, w.windowStartMs, w.sha256, w.receivedAtMs, w.body);
    old.close();
    const store = new SqliteStore(dir);
    try {
      expect(await store.put(w)).toBe('duplicate');
      expect(await store.received(undefined, 10)).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});
