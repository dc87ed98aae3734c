/**
 * Contact reasons from the store: calls per reason per hour and day (a call counts once per reason),
 * repeat callers for the same reason within N days (by salted caller hash; withheld numbers never
 * repeat), and the rising-topic watch raising one stored, published `topic_rising` alert per window.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { AlertsRepo } from '../../../appliance/alerts/repo.js';
import { EventBus, type ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { ContactReasonsRepo, countRepeats, DAY_MS, HOUR_MS } from '../../../appliance/insight/contactReasons.js';
import { TopicWatch } from '../../../appliance/insight/topicWatch.js';
import { Store } from '../../../appliance/store/database.js';
import { scratchDir } from '../../helpers/paths.js';

const T0 = Date.UTC(2026, 10, 20, 9);
let n = 0;
/** One call by `caller` at `at` whose caller utterances carry these intents. */
function call(store: Store, at: number, caller: string | null, ...intents: (string | { intent: string; outOfScope: true })[]): string {
  const id = `call-${++n}`;
  store.calls.create({ id, source: 'sip', callerHash: caller, startedAt: at });
  intents.forEach((it, i) =>
    store.utterances.insert({
      callId: id,
      legId: null,
      speaker: 'caller',
      startMs: i * 1000,
      endMs: i * 1000 + 900,
      text: 'REDACTED',
      words: [],
      confidence: 1,
      analysis:
        typeof it === 'string' ? { intent: { intent: it, outOfScope: false } } : { intent: { intent: it.intent, outOfScope: true } },
      createdAt: at,
    }),
  );
  return id;
}

describe('countRepeats', () => {
  const r = (callId: string, startedAt: number, callerHash: string | null, intent: string) => ({ callId, startedAt, callerHash, intent });
  it('counts a call as a repeat when the same caller called for the same reason within the window', () => {
    const rows = [
      r('a', 0, 'h1', 'card_lost'),
      r('b', 2 * DAY_MS, 'h1', 'card_lost'), // repeat of a (2 days)
      r('c', 3 * DAY_MS, 'h1', 'balance'), // same caller, other reason: not a repeat
      r('d', 3 * DAY_MS, 'h2', 'card_lost'), // other caller
      r('e', 20 * DAY_MS, 'h2', 'card_lost'), // 17 days after d: outside 7 days
      r('f', 21 * DAY_MS, null, 'card_lost'), // withheld number: never a repeat
      r('g', 21 * DAY_MS, null, 'card_lost'),
      r('h', 22 * DAY_MS, 'h2', 'card_lost'), // 2 days after e: repeat
    ];
    const s = countRepeats(rows, 0, 7 * DAY_MS);
    expect(s).toEqual({
      withinMs: 7 * DAY_MS,
      calls: 6,
      repeatCalls: 2,
      byIntent: [{ intent: 'card_lost', calls: 5, repeatCalls: 2, repeatCallers: 2 }],
    });
    // only calls of the period count, but earlier calls are what they repeat
    expect(countRepeats(rows, DAY_MS, 7 * DAY_MS).repeatCalls).toBe(2);
    expect(countRepeats(rows, 21 * DAY_MS, 7 * DAY_MS)).toMatchObject({ calls: 1, repeatCalls: 1 });
    expect(countRepeats(rows, 0, DAY_MS).repeatCalls).toBe(0);
  });
});

describe('ContactReasonsRepo', () => {
  let store: Store;
  beforeEach(() => {
    store = Store.open(scratchDir('reasons'));
  });
  afterEach(() => store.close());

  it('counts calls per reason per hour and day, once per call, leaving out-of-scope finals out', () => {
    const repo = new ContactReasonsRepo(store.db);
    call(store, T0 + 60_000, 'h1', 'card_lost', 'card_lost', 'balance');
    call(store, T0 + 120_000, 'h2', 'card_lost');
    call(store, T0 + HOUR_MS + 1, 'h3', 'balance', { intent: 'weather', outOfScope: true });
    call(store, T0 + DAY_MS, 'h1', 'card_lost');
    expect(repo.perBucket(T0, T0 + 2 * DAY_MS, 'hour', 5)).toEqual([
      {
        startMs: T0,
        calls: 2,
        intents: [
          { intent: 'card_lost', calls: 2 },
          { intent: 'balance', calls: 1 },
        ],
      },
      { startMs: T0 + HOUR_MS, calls: 1, intents: [{ intent: 'balance', calls: 1 }] },
      { startMs: T0 + DAY_MS, calls: 1, intents: [{ intent: 'card_lost', calls: 1 }] },
    ]);
    const day0 = Math.floor(T0 / DAY_MS) * DAY_MS;
    expect(repo.perBucket(T0, T0 + 2 * DAY_MS, 'day', 1)).toEqual([
      { startMs: day0, calls: 3, intents: [{ intent: 'balance', calls: 2 }] }, // tie 2-2: by label
      { startMs: day0 + DAY_MS, calls: 1, intents: [{ intent: 'card_lost', calls: 1 }] },
    ]);
    expect(repo.top(T0, T0 + 2 * DAY_MS, 10)).toEqual([
      { intent: 'card_lost', calls: 3 },
      { intent: 'balance', calls: 2 },
    ]);
    expect(repo.repeats(T0 + DAY_MS, T0 + 2 * DAY_MS, 7 * DAY_MS)).toMatchObject({ calls: 1, repeatCalls: 1 });
  });

  it('raises one topic_rising alert per reason per window, stored and published, with counts only', () => {
    const bus = new EventBus();
    const alerts = new AlertsRepo(store.db, store.write.bind(store));
    const published: Extract<ApplianceEvent, { type: 'alert' }>[] = [];
    bus.subscribe((e) => {
      if (e.type === 'alert') published.push(e);
    });
    const now = T0 + 10 * DAY_MS;
    // a week of one card_lost call an hour before now each day, and two balance calls
    for (let d = 1; d <= 9; d++) {
      call(store, now - d * DAY_MS - 600_000, `h-${d}`, 'card_lost');
      call(store, now - d * DAY_MS - 700_000, `hb-${d}`, 'balance');
      call(store, now - d * DAY_MS - 800_000, `hc-${d}`, 'balance');
    }
    call(store, now - 600_000, 'x1', 'balance');
    call(store, now - 700_000, 'x2', 'balance');
    let clock = now;
    const watch = new TopicWatch({
      reasons: new ContactReasonsRepo(store.db),
      dataSince: () => (store.db.prepare('SELECT MIN(started_at) AS t FROM calls').get() as { t: number }).t,
      alerts,
      bus,
      logger: pino({ level: 'silent' }),
      checkMs: 0,
      now: () => clock,
    });
    expect(watch.check()).toEqual([]); // an ordinary hour
    for (let i = 0; i < 12; i++) call(store, now - 1000 * (i + 1), `spike-${i}`, 'card_lost');
    const raised = watch.check();
    expect(raised.map((s) => s.intent)).toEqual(['card_lost']);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      kind: 'topic_rising',
      severity: 'warning',
      callId: null,
      details: { intent: 'card_lost', count: 12 },
    });
    expect(JSON.stringify(published[0])).not.toMatch(/spike-|REDACTED|h-1/);
    expect(alerts.list({ limit: 10 }).map((a) => a.kind)).toEqual(['topic_rising']);
    clock += 10 * 60_000; // still rising ten minutes later: no second alert in the same window
    expect(watch.check()).toEqual([]);
    watch.close();
  });
});
