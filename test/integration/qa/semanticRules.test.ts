/**
 * A semantic QA rule in a running appliance: set through PUT /api/v1/qa/rules (a bad threshold is
 * refused), then every ended call is scored with it: the agent's paraphrase satisfies it, a negated
 * wording does not. The embedding model runs in the QA service's worker thread (real model).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import type { TranscriberFactory } from '../../../appliance/calls/transcriber.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch } from '../../helpers/auth.js';

const apiFetch = (app: Appliance, url: string, init?: RequestInit) => authedFetch(app)(url, init);

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
beforeAll(async () => {
  ({ app } = await startTestAppliance({ sip: { enabled: false }, console: { enabled: false } }, { transcribers: scripted }));
});
afterAll(async () => {
  await app?.close();
});

async function runCall(): Promise<string> {
  const call = app.calls.startCall({ source: 'sip', meta: {} });
  call.answer();
  call.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
  call.addLeg({ label: 'agent', codec: 'PCMU', sampleRateHz: 8000 });
  await call.end('bye');
  // the first call loads the embedding model (seconds on a busy box)
  for (let i = 0; i < 600; i++) {
    const res = await apiFetch(app, `/api/v1/qa/scorecards/${call.id}`);
    if (res.status === 200) return call.id;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no scorecard');
}

const put = (rules: unknown[]) =>
  apiFetch(app, '/api/v1/qa/rules', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rules }) });

const resolveRule = { id: 'resolve', kind: 'semantic', weight: 1, phrases: ['I will resolve this'], threshold: 0.55, expect: 'present' };

describe('semantic QA rules in the appliance', () => {
  it('refuses a semantic rule with a threshold outside 0.5..0.99', async () => {
    for (const threshold of [1.5, 0.1]) {
      const res = await put([{ ...resolveRule, threshold }]);
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: string; details: { issues: { field: string }[] } } };
      expect(body.error.code).toBe('EVX_ERR_QA_RULES');
      expect(body.error.details.issues[0]!.field).toBe('threshold');
    }
  });

  it('a paraphrase by the agent satisfies the rule, a negated wording does not', async () => {
    expect((await put([resolveRule])).status).toBe(200);
    type Card = { score: number; results: { ruleId: string; outcome: string; matched: string[]; hits: { index: number }[] }[] };
    const card = async (id: string) => (await (await apiFetch(app, `/api/v1/qa/scorecards/${id}`)).json()) as Card;

    scripts = { caller: [[0, 2, 'MY CARD DOES NOT WORK']], agent: [[3, 6, "I'LL MAKE SURE THIS GETS FIXED TODAY"]] };
    const good = await card(await runCall());
    expect(good.results[0]).toMatchObject({ ruleId: 'resolve', outcome: 'pass', matched: ['I will resolve this'] });
    expect(good.results[0]!.hits).toHaveLength(1);
    expect(good.score).toBe(100);

    scripts = { caller: [[0, 2, 'MY CARD DOES NOT WORK']], agent: [[3, 6, 'I WILL NOT RESOLVE THIS']] };
    const negated = await card(await runCall());
    expect(negated.results[0]).toMatchObject({ ruleId: 'resolve', outcome: 'fail', matched: [] });
    expect(negated.score).toBe(0);

    // A dry run of a proposed semantic rule over the stored calls embeds them too.
    const dry = await apiFetch(app, '/api/v1/qa/rules/dry-run', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rules: { rules: [{ ...resolveRule, id: 'resolve-2', expect: 'absent' }] } }),
    });
    expect(dry.status).toBe(200);
    const body = (await dry.json()) as { scanned: number; rules: { ruleId: string; pass: number; fail: number }[] };
    expect(body.scanned).toBe(2);
    expect(body.rules).toEqual([{ ruleId: 'resolve-2', pass: 1, fail: 1, na: 0 }]);
  });
});
