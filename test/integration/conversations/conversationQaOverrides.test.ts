/**
 * Supervisors override a conversation's QA scorecard as they do a call's, on a running box: an e-mail
 * case (sent over SMTP to the box's listener, answered and closed through the API) is scored at close;
 * overriding a rule and the result is refused as for calls (no scorecard, no reason, unknown rule, a
 * result to 'na', a viewer), audited as conversation:<id>, and the list and the detail show the
 * effective score beside the original with the overrides. Deleting the conversation deletes them.
 */
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { authedFetch } from '../../helpers/auth.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { startLocalMailbox, type LocalMailbox } from '../../helpers/mailbox.js';

let app: Appliance;
let relay: LocalMailbox;
let viewer: ReturnType<typeof authedFetch>;
let supervisor: ReturnType<typeof authedFetch>;

beforeAll(async () => {
  relay = await startLocalMailbox();
  ({ app } = await startTestAppliance({
    sip: { enabled: false },
    console: { enabled: false },
    email: {
      enabled: true,
      host: '127.0.0.1',
      port: 0,
      recipients: [{ address: 'help@branch.example', group: '' }],
      relay: { host: '127.0.0.1', port: relay.port, requireTls: false, from: 'support@branch.example', timeoutMs: 5000 },
    },
  }));
  viewer = authedFetch(app, 'viewer');
  supervisor = authedFetch(app, 'supervisor');
}, 60_000);
afterAll(async () => {
  await app?.close();
  await relay?.close();
});

const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

interface Detail {
  qa: { score: number | null; passed: boolean | null; results: { ruleId: string; outcome: string }[] };
  effective: { score: number | null; passed: boolean | null; results: { ruleId: string; outcome: string; original?: string }[] };
  overrides: { ruleId: string | null; outcome: string; reason: string; author: string; at: number }[];
}
interface ListRow {
  conversationId: string;
  score: number | null;
  passed: boolean | null;
  effectiveScore: number | null;
  effectivePassed: boolean | null;
  overridden: boolean;
}

/** A case from the customer's mail, `answer` sent by a supervisor; closed (and so scored) when `close`. */
async function emailCase(subject: string, answer: string | null, close: boolean): Promise<string> {
  const mail = nodemailer.createTransport({ host: '127.0.0.1', port: app.emailIntake!.port, secure: false, ignoreTLS: true });
  await mail.sendMail({ from: 'carol@client.example', to: 'help@branch.example', subject, text: 'I was charged twice, please help.' });
  const { cases } = (await (await supervisor('/api/v1/email/cases')).json()) as { cases: { id: string; subject: string }[] };
  const id = cases.find((c) => c.subject === subject)!.id;
  if (answer !== null) expect((await supervisor(`/api/v1/email/cases/${id}/reply`, json({ text: answer }))).status).toBe(200);
  if (close) {
    expect((await supervisor(`/api/v1/email/cases/${id}/close`, { method: 'POST' })).status).toBe(200);
    await expect.poll(async () => (await viewer(`/api/v1/conversations/${id}/analysis`)).status, { timeout: 10_000 }).toBe(200);
  }
  return id;
}

const detail = async (id: string) => (await (await viewer(`/api/v1/conversations/${id}/analysis`)).json()) as Detail;
const listed = async (id: string) =>
  ((await (await viewer('/api/v1/qa/conversations')).json()) as { conversations: ListRow[] }).conversations.find(
    (c) => c.conversationId === id,
  );

describe('QA overrides of conversations', () => {
  let promised = '';

  it('refuses what a call refuses: a viewer, no scorecard, no reason, an unknown rule, a result to na', async () => {
    promised = await emailCase('Charged twice', 'Hello, thank you for waiting. I promise you a refund, it is guaranteed!', true);
    const open = await emailCase('Still open', null, false);
    const path = `/api/v1/qa/conversations/${promised}/overrides`;
    expect((await viewer(path, json({ outcome: 'pass', reason: 'checked it' }))).status).toBe(403);
    expect((await supervisor(path, json({ outcome: 'pass' }))).status).toBe(400);
    expect((await supervisor(path, json({ outcome: 'pass', reason: '   ' }))).status).toBe(400);
    expect((await supervisor(path, json({ outcome: 'na', reason: 'not applicable' }))).status).toBe(400);
    const rule = await supervisor(path, json({ ruleId: 'nope', outcome: 'pass', reason: 'checked it' }));
    expect(rule.status).toBe(404);
    expect(((await rule.json()) as { error: { message: string } }).error.message).toBe(
      'This conversation was not scored on a rule "nope".',
    );
    expect((await supervisor(`/api/v1/qa/conversations/nope/overrides`, json({ outcome: 'pass', reason: 'checked it' }))).status).toBe(404);
    expect((await supervisor(`/api/v1/qa/conversations/${open}/overrides`, json({ outcome: 'pass', reason: 'checked it' }))).status).toBe(
      404,
    );
    expect(await detail(promised)).toMatchObject({ overrides: [] });
    expect(app.store.audit.forTarget(`conversation:${promised}`)).toEqual([]);
  });

  it('a supervisor overrides a rule, then the result: effective beside the original in the detail and the list, audited', async () => {
    const before = await detail(promised);
    expect(before.qa.results.find((r) => r.ruleId === 'no-over-promising')!.outcome).toBe('fail');
    expect(before.qa.passed).toBe(false); // the critical rule failed
    expect(before.effective).toEqual({ score: before.qa.score, passed: false, results: before.qa.results });
    expect(await listed(promised)).toMatchObject({
      score: before.qa.score,
      effectiveScore: before.qa.score,
      effectivePassed: false,
      overridden: false,
    });

    const res = await supervisor(
      `/api/v1/qa/conversations/${promised}/overrides`,
      json({ ruleId: 'no-over-promising', outcome: 'pass', reason: 'Refund was pre-approved by billing' }),
    );
    expect(res.status).toBe(201);
    const d = await detail(promised);
    expect(await res.json()).toMatchObject({ conversationId: promised, effective: d.effective, overrides: d.overrides });
    expect(d.qa).toEqual(before.qa); // the original stays
    expect(d.effective.results.find((r) => r.ruleId === 'no-over-promising')).toMatchObject({ outcome: 'pass', original: 'fail' });
    // the rule's weight counts again: the score rises; with no critical failure left the result follows the score
    expect(d.effective.score).toBeGreaterThan(before.qa.score!);
    expect(d.effective.passed).toBe(d.effective.score! >= app.config.qa.passScore);
    expect(d.overrides).toEqual([
      expect.objectContaining({
        ruleId: 'no-over-promising',
        outcome: 'pass',
        reason: 'Refund was pre-approved by billing',
        author: expect.stringMatching(/^token:test-supervisor-/),
        at: expect.any(Number),
      }),
    ]);

    await supervisor(`/api/v1/qa/conversations/${promised}/overrides`, json({ outcome: 'fail', reason: ' Tone was unacceptable ' }));
    const after = await detail(promised);
    expect(after.effective).toMatchObject({ score: d.effective.score, passed: false });
    expect(after.overrides.map((o) => [o.ruleId, o.outcome, o.reason])).toEqual([
      ['no-over-promising', 'pass', 'Refund was pre-approved by billing'],
      [null, 'fail', 'Tone was unacceptable'],
    ]);
    expect(await listed(promised)).toMatchObject({
      score: before.qa.score,
      passed: false,
      effectiveScore: d.effective.score,
      effectivePassed: false,
      overridden: true,
    });

    const audit = app.store.audit.forTarget(`conversation:${promised}`);
    expect(audit.map((e) => e.action)).toEqual(['qa.override', 'qa.override']);
    expect(audit.map((e) => e.details)).toEqual([
      expect.objectContaining({
        rule: null,
        outcome: 'fail',
        reason: 'Tone was unacceptable',
        before: { score: d.effective.score, passed: d.effective.passed },
        after: { score: d.effective.score, passed: false },
        original: { score: before.qa.score, passed: false },
      }),
      expect.objectContaining({ rule: 'no-over-promising', outcome: 'pass', reason: 'Refund was pre-approved by billing' }),
    ]);
  });

  it('deleting the conversation deletes its overrides with its analysis', async () => {
    const count = (table: string) =>
      (app.store.db.prepare(`SELECT count(*) AS n FROM ${table} WHERE conversation_id = ?`).get(promised) as { n: number }).n;
    expect(count('conversation_qa_overrides')).toBe(2);
    app.store.db.prepare(`DELETE FROM conversations WHERE id = ?`).run(promised);
    expect(count('conversation_qa_overrides')).toBe(0);
    expect(count('conversation_analysis')).toBe(0);
    expect(await listed(promised)).toBeUndefined();
  });
});
