/**
 * The insight API on a running appliance: contact reasons per hour/day, rising reasons, repeat
 * callers and the wallboard summary (supervisors and up; a viewer is refused), counts and labels
 * only; and a call's mood (acoustic emotion and text sentiment apart, combined) for any signed-in role.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch, quietApplianceOverrides } from '../../helpers/auth.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
let app: Appliance;
let now: number;
let n = 0;

function call(at: number, caller: string | null, intent: string, analysis: Record<string, unknown> = {}): string {
  const id = `insight-${++n}`;
  app.store.calls.create({ id, source: 'sip', callerHash: caller, startedAt: at });
  app.store.utterances.insert({
    callId: id,
    legId: null,
    speaker: 'caller',
    startMs: 0,
    endMs: 1000,
    text: 'SECRET WORDS',
    words: [],
    confidence: 1,
    analysis: { intent: { intent, outOfScope: false }, ...analysis },
    createdAt: at,
  });
  return id;
}

beforeAll(async () => {
  ({ app } = await startTestAppliance(quietApplianceOverrides({ sip: { enabled: false } }), { transcribers: null }));
  now = Date.now();
  // a week of ordinary hours: one card_lost call in the same hour each day
  for (let d = 1; d <= 8; d++) call(now - d * DAY - 10 * 60_000, `hash-day-${d}`, 'card_lost');
  // the last hour: a spike of card_lost, two of them repeat callers (same reason two days before)
  for (let i = 0; i < 10; i++) call(now - (i + 1) * 60_000, i < 2 ? `hash-day-${i + 2}` : `hash-new-${i}`, 'card_lost');
  call(now - 5 * 60_000, 'hash-other', 'balance');
});
afterAll(async () => {
  await app?.close();
});

describe('insight API', () => {
  it('refuses a viewer and serves a supervisor', async () => {
    for (const path of [
      '/api/v1/insight/contact-reasons',
      '/api/v1/insight/rising',
      '/api/v1/insight/repeat-callers',
      '/api/v1/insight/summary',
    ]) {
      expect((await authedFetch(app, 'viewer')(path)).status, path).toBe(403);
      expect((await authedFetch(app, 'supervisor')(path)).status, path).toBe(200);
    }
  });

  it('counts calls per reason per hour and per day', async () => {
    const r = (await (
      await authedFetch(app, 'supervisor')(`/api/v1/insight/contact-reasons?bucket=hour&from=${now - 2 * HOUR}&to=${now}`)
    ).json()) as {
      top: { intent: string; calls: number }[];
      buckets: { startMs: number; calls: number }[];
    };
    expect(r.top).toEqual([
      { intent: 'card_lost', calls: 10 },
      { intent: 'balance', calls: 1 },
    ]);
    expect(r.buckets.reduce((a, b) => a + b.calls, 0)).toBe(11);
    const days = (await (await authedFetch(app, 'supervisor')('/api/v1/insight/contact-reasons?bucket=day')).json()) as {
      buckets: { startMs: number }[];
    };
    expect(days.buckets.every((b) => b.startMs % DAY === 0)).toBe(true);
    expect(days.buckets.length).toBeGreaterThanOrEqual(8);
    const bad = await authedFetch(app, 'supervisor')(`/api/v1/insight/contact-reasons?from=${now}&to=${now - 1}`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('EVX_ERR_BAD_REQUEST');
  });

  it('finds the rising reason, the repeat callers, and says it on the summary with counts only', async () => {
    const rising = (await (await authedFetch(app, 'supervisor')('/api/v1/insight/rising')).json()) as {
      topics: { intent: string; rising: boolean; count: number; baseline: number[] }[];
    };
    expect(rising.topics[0]).toMatchObject({ intent: 'card_lost', rising: true, count: 10 });
    expect(rising.topics[0]!.baseline).toHaveLength(7);
    expect(rising.topics.find((t) => t.intent === 'balance')?.rising).toBe(false);
    const repeats = (await (await authedFetch(app, 'supervisor')(`/api/v1/insight/repeat-callers?days=4&from=${now - HOUR}`)).json()) as {
      repeatCalls: number;
      byIntent: unknown[];
    };
    expect(repeats.repeatCalls).toBe(2);
    expect(repeats.byIntent).toEqual([{ intent: 'card_lost', calls: 10, repeatCalls: 2, repeatCallers: 2 }]);
    // the earlier calls were two and three days (and minutes) before: a 3-day window keeps one, 1 day none
    const within = async (days: number) =>
      (
        (await (await authedFetch(app, 'supervisor')(`/api/v1/insight/repeat-callers?days=${days}&from=${now - HOUR}`)).json()) as {
          repeatCalls: number;
        }
      ).repeatCalls;
    expect(await within(3)).toBe(1);
    expect(await within(1)).toBe(0);
    const summary = await (await authedFetch(app, 'supervisor')('/api/v1/insight/summary')).text();
    expect(JSON.parse(summary)).toMatchObject({ rising: [{ intent: 'card_lost', count: 10 }], repeats: { days: 7, repeatCalls: 2 } });
    for (const banned of ['hash-', 'insight-', 'SECRET']) expect(summary).not.toContain(banned);
  });

  it("serves a call's mood: voice and words apart, and combined", async () => {
    const id = call(now - 30_000, 'hash-mood', 'card_lost', {
      emotion: { category: 'angry', agitation: 0.8 },
      sentiment: { label: 'negative', compound: -0.6 },
    });
    const r = (await (await authedFetch(app, 'viewer')(`/api/v1/calls/${id}/mood`)).json()) as {
      speakers: { speaker: string; points: { acoustic: number; text: number; combined: number; sentiment: number }[] }[];
      method: { acousticWeight: number };
    };
    expect(r.speakers[0]!.points[0]).toMatchObject({ acoustic: 0.8, sentiment: -0.6, text: 0.6, combined: 0.7 });
    expect(JSON.stringify(r)).not.toContain('SECRET');
    expect((await authedFetch(app, 'viewer')('/api/v1/calls/nope/mood')).status).toBe(404);
  });
});
