import { afterEach, describe, expect, it, vi } from 'vitest';
import { validateConfig } from '../../../appliance/config/load.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { RetentionService } from '../../../appliance/retention/retention.js';
import { storeRetentionClasses } from '../../../appliance/retention/storeClasses.js';
import { Store } from '../../../appliance/store/database.js';
import { scratchDir } from '../../helpers/paths.js';

const HOUR = 3_600_000;
const logger = createLogger({ level: 'silent', includePii: false });

function seed(store: Store, callId: string, at: number, ended = true): void {
  store.calls.create({ id: callId, source: 'sip', callerHash: null, startedAt: at });
  store.calls.addLeg({ id: `${callId}:caller`, callId, label: 'caller', codec: 'PCMU', startedAt: at });
  if (ended) store.calls.end(callId, at + 60_000, 'bye');
  store.utterances.insert({
    callId,
    legId: `${callId}:caller`,
    speaker: 'caller',
    startMs: 0,
    endMs: 1000,
    text: 'HELLO',
    words: [],
    confidence: 1,
    analysis: { emotion: { category: 'angry' } },
    createdAt: at + 1000,
  });
  store.audit.record('test', 'seed', callId, {}, at);
}

describe('retention per data class', () => {
  afterEach(() => vi.useRealTimers());

  it('strips analysis after 72 h, deletes transcripts, calls and events at their own ages', () => {
    const store = Store.open(scratchDir('ret'));
    const config = validateConfig({
      privacy: { retention: { transcriptsHours: 24 * 30, analysisHours: 72, callsHours: 24 * 90, eventsHours: 24 * 365 } },
    });
    const t0 = Date.UTC(2026, 0, 1);
    seed(store, 'old', t0); // 100 days before "now"
    seed(store, 'mid', t0 + 60 * 24 * HOUR); // 40 days
    seed(store, 'recent', t0 + 96 * 24 * HOUR); // 4 days
    seed(store, 'fresh', t0 + 99 * 24 * HOUR); // 1 day
    seed(store, 'open', t0, false); // 100 days but still active: never deleted
    let now = t0 + 100 * 24 * HOUR;
    const svc = new RetentionService({
      classes: storeRetentionClasses(store, config.privacy.retention),
      intervalMs: HOUR,
      logger,
      now: () => now,
    });
    const purged = svc.sweep();
    // Analysis runs first: every utterance older than 72 h loses it (old, mid, recent, open).
    expect(purged['analysis']).toBe(4);
    // Transcripts older than 30 d: old, mid and the still-active call's utterance.
    expect(purged['transcripts']).toBe(3);
    // Only 'old' is ended and older than 90 d; 'open' is still active.
    expect(purged['calls']).toBe(1);
    expect(store.calls.get('old')).toBeUndefined();
    expect(store.calls.get('open')).toBeDefined();
    expect(store.utterances.listByCall('mid')).toHaveLength(0);
    expect(store.utterances.listByCall('recent')[0]!.analysis).toEqual({});
    expect(store.utterances.listByCall('fresh')[0]!.analysis).toEqual({ emotion: { category: 'angry' } });
    expect(store.audit.list(10)).toHaveLength(5); // a year of events is kept
    // A year later everything ended and every event is gone.
    now += 366 * 24 * HOUR;
    svc.sweep();
    expect(store.audit.list(10)).toHaveLength(0);
    expect(store.calls.get('fresh')).toBeUndefined();
    expect(svc.purged['events']).toBe(5);
    store.close();
  });

  it('sweeps on a schedule until closed, and a failing class does not stop the others', () => {
    vi.useFakeTimers();
    let calls = 0;
    const svc = new RetentionService({
      classes: [
        {
          name: 'broken',
          maxAgeMs: 1,
          purge: () => {
            throw new Error('disk');
          },
        },
        { name: 'counted', maxAgeMs: 1, purge: () => ++calls },
      ],
      intervalMs: 1000,
      logger,
      now: () => 5000,
    });
    svc.start();
    expect(calls).toBe(1);
    vi.advanceTimersByTime(3500);
    expect(calls).toBe(4);
    expect(svc.purged['counted']).toBe(1 + 2 + 3 + 4);
    svc.close();
    svc.close();
    vi.advanceTimersByTime(5000);
    expect(calls).toBe(4);
    svc.start(); // closed services do not restart
    expect(calls).toBe(4);
  });

  it('takes extra classes from other modules, once', () => {
    const svc = new RetentionService({ classes: [], intervalMs: 1000, logger, now: () => 10_000 });
    const seen: number[] = [];
    svc.register({ name: 'profiles', maxAgeMs: 4000, purge: (cutoff) => (seen.push(cutoff), 0) });
    expect(() => svc.register({ name: 'profiles', maxAgeMs: 1, purge: () => 0 })).toThrow(/twice/);
    svc.sweep();
    expect(seen).toEqual([6000]);
  });
});

describe('retention of callback requests', () => {
  it('a closed request (done, failed, cancelled) goes with its sealed number after callsHours; an open one stays', () => {
    const store = Store.open(scratchDir('ret-cb'));
    const config = validateConfig({ privacy: { retention: { callsHours: 24 * 90 } } });
    const t0 = Date.UTC(2026, 0, 1);
    const now = t0 + 100 * 24 * HOUR;
    const insert = store.db.prepare(
      `INSERT INTO callback_requests (id, call_id, group_id, number_sealed, requested_at, queued_at, state, attempts, next_attempt_at, updated_at)
       VALUES (?, NULL, 'general', 'sealed-number', ?, ?, ?, 0, ?, ?)`,
    );
    for (const [id, state, at] of [
      ['old-done', 'done', t0],
      ['old-failed', 'failed', t0],
      ['old-cancelled', 'cancelled', t0],
      ['old-pending', 'pending', t0],
      ['old-dialing', 'dialing', t0],
      ['recent-done', 'done', now - 24 * HOUR],
    ] as const)
      insert.run(id, at, at, state, at, at);
    const svc = new RetentionService({
      classes: storeRetentionClasses(store, config.privacy.retention),
      intervalMs: HOUR,
      logger,
      now: () => now,
    });
    const purged = svc.sweep();
    expect(purged['callbacks']).toBe(3);
    const left = (store.db.prepare(`SELECT id FROM callback_requests ORDER BY id`).all() as { id: string }[]).map((r) => r.id);
    expect(left).toEqual(['old-dialing', 'old-pending', 'recent-done']);
    store.close();
  });
});

describe('retention of emotion on assist cards', () => {
  it("the caller's emotion a card was picked for is cleared after analysisHours, like the utterances' analysis", () => {
    const store = Store.open(scratchDir('ret-cards'));
    const config = validateConfig({ privacy: { retention: { analysisHours: 72, callsHours: 24 * 90 } } });
    const t0 = Date.UTC(2026, 0, 1);
    const now = t0 + 10 * 24 * HOUR;
    seed(store, 'c1', t0);
    const insert = store.db.prepare(
      `INSERT INTO assist_cards (call_id, card_id, kind, ref_id, version, title, intent, emotion, rank, score, shown_at, latency_ms)
       VALUES ('c1', ?, 'article', ?, 1, 'Lost card', 'card_lost', 'angry', 0, 1, ?, 100)`,
    );
    insert.run('article:old', 'old', t0 + 1000);
    insert.run('article:new', 'new', now - HOUR);
    const svc = new RetentionService({
      classes: storeRetentionClasses(store, config.privacy.retention),
      intervalMs: HOUR,
      logger,
      now: () => now,
    });
    svc.sweep();
    const rows = store.db.prepare(`SELECT card_id AS id, emotion, intent FROM assist_cards ORDER BY card_id`).all();
    expect(rows).toEqual([
      { id: 'article:new', emotion: 'angry', intent: 'card_lost' },
      { id: 'article:old', emotion: null, intent: 'card_lost' },
    ]);
    store.close();
  });
});

describe("retention of a partner box's held callbacks", () => {
  it('a held copy that is closed, adopted or returned loses its sealed number after callsHours; one still held keeps it', () => {
    const store = Store.open(scratchDir('ret-held'));
    const config = validateConfig({ privacy: { retention: { callsHours: 24 * 90 } } });
    const t0 = Date.UTC(2026, 0, 1);
    const now = t0 + 100 * 24 * HOUR;
    const insert = store.db.prepare(
      `INSERT INTO callback_held (id, home, group_id, number_sealed, requested_at, queued_at, state, updated_at)
       VALUES (?, 'box-b', 'general', 'sealed-number', ?, ?, ?, ?)`,
    );
    for (const [id, state, at] of [
      ['old-closed', 'closed', t0],
      ['old-adopted', 'adopted', t0],
      ['old-returned', 'returned', t0],
      ['old-held', 'held', t0],
      ['recent-closed', 'closed', now - HOUR],
    ] as const)
      insert.run(id, at, at, state, at);
    const svc = new RetentionService({
      classes: storeRetentionClasses(store, config.privacy.retention),
      intervalMs: HOUR,
      logger,
      now: () => now,
    });
    expect(svc.sweep()['heldCallbacks']).toBe(3);
    const rows = store.db.prepare(`SELECT id, state, number_sealed AS n FROM callback_held ORDER BY id`).all();
    expect(rows).toEqual([
      { id: 'old-adopted', state: 'adopted', n: '' },
      { id: 'old-closed', state: 'closed', n: '' },
      { id: 'old-held', state: 'held', n: 'sealed-number' },
      { id: 'old-returned', state: 'returned', n: '' },
      { id: 'recent-closed', state: 'closed', n: 'sealed-number' },
    ]);
    store.close();
  });
});
