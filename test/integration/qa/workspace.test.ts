/**
 * The QA workspace API on a running appliance (calls scored through the real call path, transcripts
 * scripted per leg as in qaService.test.ts): a call's scorecard with its transcript and where rules
 * matched, filters, trends, supervisor overrides (audited, original kept), the rule editor one rule at
 * a time with plain-language errors, and a dry run that stores nothing. Hostile input is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import type { TranscriberFactory } from '../../../appliance/calls/transcriber.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch } from '../../helpers/auth.js';

type Line = [startS: number, endS: number, text: string];
let scripts: Record<string, Line[]> = {};
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
let viewer: ReturnType<typeof authedFetch>;
let supervisor: ReturnType<typeof authedFetch>;
const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
const put = (body: unknown): RequestInit => ({ ...json(body), method: 'PUT' });

beforeAll(async () => {
  ({ app } = await startTestAppliance({ sip: { enabled: false }, console: { enabled: false } }, { transcribers: scripted }));
  viewer = authedFetch(app, 'viewer');
  supervisor = authedFetch(app, 'supervisor');
});
afterAll(async () => {
  await app?.close();
});

async function runCall(meta: Record<string, unknown>): Promise<string> {
  const call = app.calls.startCall({ source: 'sip', meta });
  call.answer();
  call.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
  call.addLeg({ label: 'agent', codec: 'PCMU', sampleRateHz: 8000 });
  await call.end('bye');
  for (let i = 0; i < 200; i++) {
    if ((await viewer(`/api/v1/qa/scorecards/${call.id}`)).status === 200) return call.id;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('no scorecard');
}

interface Detail {
  scorecard: {
    score: number;
    passed: boolean;
    results: { ruleId: string; outcome: string; hits: { index: number; start: number; end: number }[] }[];
  };
  effective: { score: number; passed: boolean; results: { ruleId: string; outcome: string; original?: string }[] };
  overrides: { ruleId: string | null; outcome: string; reason: string; author: string }[];
  transcript: { index: number; speaker: string; text: string }[];
}

let promised: string;
let clean: string;

describe('QA workspace API', () => {
  it("serves a call's scorecard with the transcript and where each rule matched", async () => {
    scripts = {
      agent: [
        [0, 2, 'HELLO THANK YOU FOR CALLING'],
        [2, 6, 'THIS CALL MAY BE RECORDED FOR QUALITY AND TRAINING PURPOSES'],
        [10, 14, 'I PROMISE YOU A REFUND IT IS GUARANTEED'],
      ],
      caller: [[6, 10, 'I WANT MY MONEY BACK']],
    };
    promised = await runCall({ groupId: 'billing', agentId: 'alice' });
    scripts = { agent: [[0, 2, 'GOOD MORNING']], caller: [] };
    clean = await runCall({ groupId: 'sales', agentId: 'bob' });

    const d = (await (await viewer(`/api/v1/qa/calls/${promised}`)).json()) as Detail;
    expect(d.transcript.map((u) => u.text)).toContain('I PROMISE YOU A REFUND IT IS GUARANTEED');
    const forbidden = d.scorecard.results.find((r) => r.ruleId === 'no-over-promising')!;
    expect(forbidden.outcome).toBe('fail');
    const marked = forbidden.hits.map((h) => d.transcript[h.index]!.text.slice(h.start, h.end));
    expect(marked).toEqual(['I PROMISE YOU A REFUND', 'GUARANTEED']);
    const greeting = d.scorecard.results.find((r) => r.ruleId === 'greeting')!;
    expect(greeting.hits.map((h) => d.transcript[h.index]!.text.slice(h.start, h.end))).toEqual(['HELLO']);
    expect(d.effective.score).toBe(d.scorecard.score);
    expect((await viewer(`/api/v1/qa/calls/no-such-call`)).status).toBe(404);
  });

  it('lists scored calls by agent, group, result, failed rule and period, in bounded pages', async () => {
    const ids = async (q: string) =>
      ((await (await viewer(`/api/v1/qa/scorecards?${q}`)).json()) as { scorecards: { callId: string }[] }).scorecards.map((s) => s.callId);
    expect(await ids('agent=alice')).toEqual([promised]);
    expect(await ids('group=sales')).toEqual([clean]);
    expect(await ids('rule=no-over-promising')).toEqual([promised]);
    expect(await ids('rule=no-over-promising&ruleOutcome=pass')).toEqual([clean]);
    expect(await ids('passed=false&group=billing')).toEqual([promised]);
    expect(await ids(`from=${Date.now() + 60_000}`)).toEqual([]);
    expect((await viewer('/api/v1/qa/scorecards?limit=100000000')).status).toBe(400);
    expect((await viewer('/api/v1/qa/scorecards?limit=1')).status).toBe(200);
  });

  it('a supervisor overrides a rule and the result with a reason: audited, the original score kept, trends follow', async () => {
    expect((await viewer(`/api/v1/qa/calls/${promised}/overrides`, json({ outcome: 'pass', reason: 'checked' }))).status).toBe(403);
    expect((await supervisor(`/api/v1/qa/calls/${promised}/overrides`, json({ outcome: 'pass' }))).status).toBe(400);
    expect((await supervisor(`/api/v1/qa/calls/${promised}/overrides`, json({ outcome: 'pass', reason: '   ' }))).status).toBe(400);
    expect((await supervisor(`/api/v1/qa/calls/nope/overrides`, json({ outcome: 'pass', reason: 'checked it' }))).status).toBe(404);
    expect(
      (await supervisor(`/api/v1/qa/calls/${promised}/overrides`, json({ ruleId: 'nope', outcome: 'pass', reason: 'checked it' }))).status,
    ).toBe(404);

    const res = await supervisor(
      `/api/v1/qa/calls/${promised}/overrides`,
      json({ ruleId: 'no-over-promising', outcome: 'pass', reason: 'Refund was pre-approved by billing' }),
    );
    expect(res.status).toBe(201);
    const d = (await (await viewer(`/api/v1/qa/calls/${promised}`)).json()) as Detail;
    expect(d.scorecard).toMatchObject({ score: 75, passed: false });
    expect(d.effective).toMatchObject({ score: 100, passed: true });
    expect(d.effective.results.find((r) => r.ruleId === 'no-over-promising')).toMatchObject({ outcome: 'pass', original: 'fail' });
    // the acting principal (here a supervisor's API token), never a body field
    expect(d.overrides).toEqual([
      expect.objectContaining({
        ruleId: 'no-over-promising',
        reason: 'Refund was pre-approved by billing',
        author: expect.stringMatching(/^token:test-supervisor-/),
      }),
    ]);

    await supervisor(`/api/v1/qa/calls/${promised}/overrides`, json({ outcome: 'fail', reason: 'Tone was unacceptable' }));
    const after = (await (await viewer(`/api/v1/qa/scorecards/${promised}`)).json()) as Record<string, unknown>;
    expect(after).toMatchObject({ score: 75, passed: false, effectiveScore: 100, effectivePassed: false, overridden: true });
    const audit = app.store.audit.list(50).filter((e) => e.action === 'qa.override');
    expect(audit.map((e) => e.details)).toEqual([
      expect.objectContaining({ rule: null, outcome: 'fail', reason: 'Tone was unacceptable', original: { score: 75, passed: false } }),
      expect.objectContaining({ rule: 'no-over-promising', outcome: 'pass', reason: 'Refund was pre-approved by billing' }),
    ]);

    const day = new Date().toISOString().slice(0, 10);
    type Trends = { days: string[]; series: { key: string; points: { day: string; count: number; passed: number }[] }[] };
    const byAgent = (await (await viewer('/api/v1/qa/trends?by=agent')).json()) as Trends;
    expect(byAgent.days).toHaveLength(15);
    const alice = byAgent.series.find((s) => s.key === 'alice')!.points.find((p) => p.day === day);
    expect(alice).toMatchObject({ count: 1, passed: 0 });
    const byRule = (await (await viewer('/api/v1/qa/trends?by=rule')).json()) as Trends;
    // the rule override counts: both calls pass no-over-promising now
    expect(byRule.series.find((s) => s.key === 'no-over-promising')!.points.find((p) => p.day === day)).toMatchObject({
      count: 2,
      passed: 2,
    });
    expect((await viewer(`/api/v1/qa/trends?from=0&to=${Date.now()}`)).status).toBe(400);
  });

  it('edits rules one at a time with plain-language errors; refuses bad and ReDoS-prone patterns', async () => {
    const rule = { id: 'ref-number', kind: 'pattern', weight: 5, pattern: 'refund (now|today)', expect: 'absent' };
    expect((await viewer('/api/v1/qa/rules/items', json(rule))).status).toBe(403);
    const created = await supervisor('/api/v1/qa/rules/items', json(rule));
    expect(created.status).toBe(201);
    const v1 = (await created.json()) as { version: number; rules: { id: string }[] };
    expect(v1.rules.map((r) => r.id)).toContain('ref-number');

    const redos = await supervisor('/api/v1/qa/rules/items/ref-number', put({ ...rule, pattern: '(a+)+$' }));
    expect(redos.status).toBe(400);
    const body = (await redos.json()) as {
      error: { code: string; message: string; details: { issues: { field: string; message: string }[] } };
    };
    expect(body.error.code).toBe('EVX_ERR_QA_RULES');
    expect(body.error.details.issues).toEqual([
      expect.objectContaining({ rule: 'ref-number', field: 'pattern', message: expect.stringMatching(/nested repeats/) }),
    ]);
    const syntax = (await (await supervisor('/api/v1/qa/rules/items/ref-number', put({ ...rule, pattern: '([' }))).json()) as typeof body;
    expect(syntax.error.details.issues[0]!.message).toMatch(/not a valid regular expression/);
    const many = (await (
      await supervisor('/api/v1/qa/rules/items', json({ id: 'X', kind: 'greeting', weight: -1 }))
    ).json()) as typeof body;
    expect(many.error.details.issues.map((i) => i.field)).toEqual(expect.arrayContaining(['id', 'weight', 'withinMs', 'phrases']));
    expect(many.error.message).toMatch(/^The QA rules cannot be used/);
    expect((await supervisor('/api/v1/qa/rules/items', json(rule))).status).toBe(400); // duplicate id
    expect((await supervisor('/api/v1/qa/rules/items/no-such-rule', put(rule))).status).toBe(404);
    expect((await supervisor('/api/v1/qa/rules/items/no-such-rule', { method: 'DELETE' })).status).toBe(404);

    const renamed = await supervisor('/api/v1/qa/rules/items/ref-number', put({ ...rule, id: 'refund-now', pattern: 'refund' }));
    expect(renamed.status).toBe(200);
    const del = await supervisor('/api/v1/qa/rules/items/refund-now', { method: 'DELETE' });
    expect(((await del.json()) as { rules: { id: string }[] }).rules.map((r) => r.id)).not.toContain('refund-now');
  });

  it('a dry run scores stored calls with proposed rules and stores nothing', async () => {
    const before = (await (await viewer(`/api/v1/qa/scorecards/${clean}`)).json()) as Record<string, unknown>;
    const rulesBefore = (await (await viewer('/api/v1/qa/rules')).json()) as { version: number };
    const res = await supervisor(
      '/api/v1/qa/rules/dry-run',
      json({ rules: { rules: [{ id: 'morning', kind: 'greeting', weight: 1, withinMs: 10_000, phrases: ['GOOD MORNING'] }] } }),
    );
    expect(res.status).toBe(200);
    const dry = (await res.json()) as {
      scanned: number;
      calls: { callId: string; proposed: { passed: boolean }; results: { ruleId: string; outcome: string; hits: number }[] }[];
      rules: { ruleId: string; pass: number; fail: number }[];
    };
    const mine = dry.calls.filter((c) => c.callId === clean || c.callId === promised);
    expect(mine.find((c) => c.callId === clean)).toMatchObject({
      proposed: { passed: true },
      results: [{ ruleId: 'morning', outcome: 'pass', hits: 1 }],
    });
    expect(mine.find((c) => c.callId === promised)).toMatchObject({ proposed: { passed: false } });
    expect(dry.rules[0]).toMatchObject({ ruleId: 'morning' });
    expect(dry.rules[0]!.pass + dry.rules[0]!.fail).toBe(dry.scanned);
    expect(await (await viewer(`/api/v1/qa/scorecards/${clean}`)).json()).toEqual(before);
    expect(((await (await viewer('/api/v1/qa/rules')).json()) as { version: number }).version).toBe(rulesBefore.version);

    const bad = await supervisor(
      '/api/v1/qa/rules/dry-run',
      json({ rules: { rules: [{ id: 'p', kind: 'pattern', weight: 1, pattern: '(x*)*y', expect: 'present' }] } }),
    );
    expect(bad.status).toBe(400);
    expect((await supervisor('/api/v1/qa/rules/dry-run', json({ rules: { rules: [] }, limit: 10_000_000 }))).status).toBe(400);
    expect((await viewer('/api/v1/qa/rules/dry-run', json({ rules: { rules: [] } }))).status).toBe(403);
  });
});
