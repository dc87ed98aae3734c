/**
 * The privacy budget of the upstream aggregates: each window charges what it spends (epsilon x the
 * counts one call can change) to a rolling period; a window that would take the period past
 * sync.epsilonBudget is withheld — never sent, never rebuilt, audited, counted in the metrics — and
 * windows are sent again once the spending has rolled out of the period. Without noise nothing is
 * charged. (The earlier builder had no budget: every window spent epsilon again.)
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../appliance/log/logger.js';
import { Store } from '../../../appliance/store/database.js';
import { hmacSigner } from '../../../appliance/sync/signing.js';
import { SyncService, type SyncOptions } from '../../../appliance/sync/syncService.js';
import { scratchDir } from '../../helpers/paths.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 20, 0);
const WINDOWS = 6;

/** The same three calls in each of the first WINDOWS hours. */
function siteStore(): Store {
  const store = Store.open(scratchDir('budget'));
  for (let w = 0; w < WINDOWS; w++)
    for (let i = 0; i < 3; i++) {
      const id = `w${w}-${i}`;
      const s = T0 + w * HOUR + i * 60_000;
      store.calls.create({ id, source: 'sip', callerHash: null, startedAt: s });
      store.calls.markAnswered(id, s + 2000);
      store.calls.end(id, s + 60_000, 'bye');
    }
  return store;
}

function sync(store: Store, o: Partial<SyncOptions>, now: () => number): SyncService {
  return new SyncService(
    {
      siteId: 'branch-1',
      endpoint: 'http://127.0.0.1:9/api/v1/aggregates', // never reached: only windows are closed here
      signer: hmacSigner('enrollment-key-for-the-budget-test'),
      windowMs: HOUR,
      settleMs: 0,
      intervalMs: 1000,
      k: 1,
      epsilon: 0.5,
      epsilonBudget: 10,
      epsilonBudgetMs: 3 * HOUR,
      outboxMaxWindows: 100,
      backoffBaseMs: 50,
      backoffMaxMs: 1000,
      requestTimeoutMs: 1000,
      backfillFromMs: T0,
      ...o,
    },
    { store, logger: createLogger({ level: 'silent', includePii: false }), now, random: () => 0.5 },
  );
}

describe('privacy budget of the aggregates', () => {
  it('withholds the windows that would overspend the rolling period, and sends again once spending rolls out', async () => {
    const store = siteStore();
    const now = T0 + WINDOWS * HOUR; // the newest settled window is the last with calls
    // what one window spends, from a first service with room to spare
    const spendOf = (s: SyncService): number => s.status().privacy.spent;
    const one = sync(store, { epsilonBudget: 1e6, outboxMaxWindows: 1 }, () => T0 + HOUR + 1);
    expect(one.closeWindows()).toBe(1);
    const spend = spendOf(one);
    expect(spend).toBeGreaterThan(0);
    await one.close();
    store.db.exec('DELETE FROM sync_windows; DELETE FROM sync_outbox;');

    // budget 2.5 windows per 3 hours: w0 and w1 go (2 spent), w2 and w3 would make 3 (withheld),
    // w4 (the period from w1 holds w1 only) and w5 (w4 only; withheld windows spent nothing) go
    const s = sync(store, { epsilonBudget: 2.5 * spend }, () => now);
    s.closeWindows();
    const sent = (): number[] =>
      (store.db.prepare(`SELECT window_start AS w FROM sync_outbox ORDER BY w`).all() as { w: number }[]).map((r) => (r.w - T0) / HOUR);
    expect(sent()).toEqual([0, 1, 4, 5]);
    expect(s.counters.withheld).toBe(2);
    const withheld = s.outbox.audit(100).filter((a) => a.outcome === 'withheld');
    expect(withheld.map((a) => a.idempotencyKey).sort()).toEqual([`branch-1:${T0 + 2 * HOUR}`, `branch-1:${T0 + 3 * HOUR}`]);
    expect(withheld.every((a) => !a.body.includes('calls'))).toBe(true); // nothing of the window itself
    // withheld windows are not built again on the next tick
    s.closeWindows();
    expect(s.counters.withheld).toBe(2);
    expect(sent()).toEqual([0, 1, 4, 5]);
    expect(s.status().privacy).toMatchObject({ epsilon: 0.5, budget: 2.5 * spend, periodMs: 3 * HOUR });
    await s.close();
    store.close();
  });

  it('charges nothing without noise', async () => {
    const store = siteStore();
    const s = sync(store, { epsilon: 0, epsilonBudget: 0 }, () => T0 + WINDOWS * HOUR);
    expect(s.closeWindows()).toBe(WINDOWS);
    expect(s.counters.withheld).toBe(0);
    expect(s.status().privacy.spent).toBe(0);
    await s.close();
    store.close();
  });
});
