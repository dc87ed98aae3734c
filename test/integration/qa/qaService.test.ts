/**
 * Every call is scored when it ends: a running appliance (scripted transcripts per leg; the ASR is
 * tested elsewhere) stores a scorecard, publishes qa.scored, serves it over the API, and scores with
 * rules replaced through PUT /api/v1/qa/rules. Aggregates per agent label and group.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import type { TranscriberFactory } from '../../../appliance/calls/transcriber.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch } from '../../helpers/auth.js';

/** The API as a technician (every /api route needs a principal). */
const apiFetch = (app: Appliance, url: string, init?: RequestInit) => authedFetch(app)(url, init);

type Line = [startS: number, endS: number, text: string];
let scripts: Record<string, Line[]> = {};

/** Emits each leg's scripted finals when the leg closes. */
const scripted: TranscriberFactory = (opts, cb) => ({
  write: () => {},
  lagMs: () => 0,
  stats: () => ({ droppedFrames: 0, decodedMs: 0, skippedMs: 0, chunkLatencyP95Ms: 0 }),
  close: async () => {
    for (const [s, e, text] of scripts[opts.speaker] ?? []) {
      const words = text.split(' ').map((word, i) => ({ word, startMs: s * 1000 + i * 100, endMs: s * 1000 + i * 100 + 80 }));
      cb.final({ text, words, startMs: s * 1000, endMs: e * 1000, confidence: 0.9, latencyMs: 100 });
    }
  },
});

let app: Appliance;
const events: ApplianceEvent[] = [];
beforeAll(async () => {
  ({ app } = await startTestAppliance({ sip: { enabled: false }, console: { enabled: false } }, { transcribers: scripted }));
  app.bus.subscribe((e) => events.push(e));
});
afterAll(async () => {
  await app?.close();
});

/** Run one call whose legs both start now, with a fake duration: end time is set by the call manager clock. */
async function runCall(meta: Record<string, unknown> = {}): Promise<string> {
  const call = app.calls.startCall({ source: 'sip', meta });
  call.answer();
  call.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
  call.addLeg({ label: 'agent', codec: 'PCMU', sampleRateHz: 8000 });
  await call.end('bye');
  for (let i = 0; i < 100; i++) {
    const res = await apiFetch(app, `/api/v1/qa/scorecards/${call.id}`);
    if (res.status === 200) return call.id;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('no scorecard');
}

describe('QA over every call', () => {
  it('scores an ended call, stores the scorecard and publishes qa.scored', async () => {
    scripts = {
      agent: [
        [0, 2, 'HELLO THANK YOU FOR CALLING'],
        [2, 6, 'THIS CALL MAY BE RECORDED FOR QUALITY AND TRAINING PURPOSES'],
        [10, 14, 'I PROMISE YOU A REFUND IT IS GUARANTEED'],
      ],
      caller: [[6, 10, 'I WANT MY MONEY BACK']],
    };
    const id = await runCall({ groupId: 'billing' });
    const card = (await (await apiFetch(app, `/api/v1/qa/scorecards/${id}`)).json()) as {
      score: number;
      passed: boolean;
      rulesVersion: number;
      agentLabel: string;
      groupId: string;
      results: { ruleId: string; outcome: string; matched: string[] }[];
    };
    expect(card.rulesVersion).toBe(0);
    expect(card.groupId).toBe('billing');
    expect(card.agentLabel).toBe('agent');
    const outcome = Object.fromEntries(card.results.map((r) => [r.ruleId, r.outcome]));
    // (The call lasts milliseconds of wall time and speech covers all of it: no silence.)
    expect(outcome).toEqual({
      greeting: 'pass',
      disclosure: 'pass',
      'no-over-promising': 'fail',
      silence: 'pass',
      'talk-over': 'pass',
      'agent-negative-words': 'pass',
    });
    // 20 + 25 + 10 + 10 + 10 of 100 = 75, above the pass score, but the critical failure fails the call
    expect(card.score).toBe(75);
    expect(card.passed).toBe(false);
    const scored = events.find((e) => e.type === 'qa.scored' && e.callId === id);
    expect(scored).toMatchObject({ score: 75, passed: false, failedRules: ['no-over-promising'], groupId: 'billing' });
  });

  it('replaces the rules through the API (validated) and scores new calls with them', async () => {
    const bad = await apiFetch(app, `/api/v1/qa/rules`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rules: [{ id: 'x', kind: 'bogus', weight: 1 }] }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('EVX_ERR_QA_RULES');
    const put = await apiFetch(app, `/api/v1/qa/rules`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rules: [{ id: 'greet', kind: 'greeting', weight: 1, withinMs: 15000, phrases: ['GOOD MORNING'] }] }),
    });
    expect(put.status).toBe(200);
    const body = (await put.json()) as { version: number };
    expect(body.version).toBeGreaterThan(0);
    expect(((await (await apiFetch(app, `/api/v1/qa/rules`)).json()) as { version: number }).version).toBe(body.version);

    scripts = { agent: [[1, 3, 'GOOD MORNING']], caller: [] };
    const pass = await runCall({ groupId: 'billing' });
    scripts = { agent: [[20, 23, 'GOOD MORNING']], caller: [] };
    const late = await runCall({ groupId: 'sales' });
    const get = async (id: string) =>
      (await (await apiFetch(app, `/api/v1/qa/scorecards/${id}`)).json()) as { score: number; passed: boolean; rulesVersion: number };
    expect(await get(pass)).toMatchObject({ score: 100, passed: true, rulesVersion: body.version });
    expect(await get(late)).toMatchObject({ score: 0, passed: false });

    const byGroup = (await (await apiFetch(app, `/api/v1/qa/summary?by=group`)).json()) as {
      rows: { key: string; calls: number; passed: number; passRate: number }[];
    };
    const billing = byGroup.rows.find((r) => r.key === 'billing')!;
    expect(billing).toMatchObject({ calls: 2, passed: 1, passRate: 0.5 });
    expect(byGroup.rows.find((r) => r.key === 'sales')).toMatchObject({ calls: 1, passed: 0 });
    const list = (await (await apiFetch(app, `/api/v1/qa/scorecards?group=sales`)).json()) as { scorecards: { callId: string }[] };
    expect(list.scorecards.map((s) => s.callId)).toEqual([late]);
  });
});
