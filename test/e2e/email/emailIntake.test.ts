/**
 * E-mail end to end: a customer's SMTP client (nodemailer) sends to the box's listener on loopback;
 * the mail becomes a case routed to its address's group (or by intent for an address without one);
 * a supervisor replies through the API and the reply goes out through the configured relay — here a
 * local SMTP server delivering into a Maildir — threaded under the customer's mail; the customer's
 * answer to the reply joins the same case. The card number the customer wrote is in neither the
 * SQLite file nor its WAL, nor the API's answer; no address is in the log.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { authedFetch } from '../../helpers/auth.js';
import { startTestAppliance, type CapturedLog } from '../../helpers/appliance.js';
import { startLocalMailbox, type LocalMailbox } from '../../helpers/mailbox.js';
import { plantedIn } from '../../helpers/planted.js';

const CARD = '4111 1111 1111 1111';
const CUSTOMER = 'carol.customer@client.example';

let app: Appliance;
let log: CapturedLog;
let relay: LocalMailbox;

beforeAll(async () => {
  relay = await startLocalMailbox();
  ({ app, log } = await startTestAppliance({
    sip: { enabled: false },
    email: {
      enabled: true,
      host: '127.0.0.1',
      port: 0,
      recipients: [
        { address: 'billing@branch.example', group: 'billing' },
        { address: 'help@branch.example', group: '' },
      ],
      relay: { host: '127.0.0.1', port: relay.port, requireTls: false, from: 'support@branch.example', timeoutMs: 5000 },
    },
  }));
  const put = await authedFetch(app)('/api/v1/routing/config', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      groups: [
        { id: 'general', name: 'General', intents: [], adjacent: [], overflow: { maxWaitMs: 300_000, action: 'none' } },
        { id: 'billing', name: 'Billing', intents: [], adjacent: [], overflow: { maxWaitMs: 300_000, action: 'none' } },
      ],
      agents: [],
      rules: { defaultGroup: 'general' },
    }),
  });
  expect(put.status, await put.clone().text()).toBe(200);
}, 60_000);
afterAll(async () => {
  await app?.close();
  await relay?.close();
});

const customer = () => nodemailer.createTransport({ host: '127.0.0.1', port: app.emailIntake!.port, secure: false, ignoreTLS: true });

interface CaseList {
  cases: { id: string; groupId: string | null; routeReason: string | null; state: string; subject: string | null }[];
}
interface CaseView {
  case: { id: string; state: string; agentId: string | null };
  messages: { seq: number; sender: string; text: string; redactions: number }[];
}

describe('e-mail intake end to end', () => {
  it('creates and routes a case, the reply reaches the customer through the relay threaded, the answer joins the case', async () => {
    const api = authedFetch(app, 'supervisor');
    const sent = await customer().sendMail({
      from: `Carol <${CUSTOMER}>`,
      to: 'billing@branch.example',
      subject: 'Charged twice',
      text: `Hello, I was charged twice on my card ${CARD} last week.`,
      messageId: '<first.1@client.example>',
    });
    expect(sent.accepted).toEqual(['billing@branch.example']);

    const list = (await (await api('/api/v1/email/cases')).json()) as CaseList;
    expect(list.cases).toHaveLength(1);
    const c = list.cases[0]!;
    expect(c).toMatchObject({ groupId: 'billing', routeReason: 'email.address', state: 'waiting', subject: 'Charged twice' });

    const view = (await (await api(`/api/v1/email/cases/${c.id}`)).json()) as CaseView;
    expect(view.messages).toHaveLength(1);
    expect(view.messages[0]!.text).not.toContain('4111');
    expect(view.messages[0]!.redactions).toBeGreaterThan(0);

    const reply = await api(`/api/v1/email/cases/${c.id}/reply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Sorry about that, the second charge is refunded.' }),
    });
    expect(reply.status, await reply.clone().text()).toBe(200);

    expect(relay.messages()).toHaveLength(1);
    expect(relay.envelopes[0]).toEqual([CUSTOMER]);
    const delivered = await simpleParser(relay.messages()[0]!);
    expect(delivered.subject).toBe('Re: Charged twice');
    expect(delivered.inReplyTo).toBe('<first.1@client.example>');
    expect([delivered.references].flat()).toContain('<first.1@client.example>');
    expect(delivered.text?.trim()).toBe('Sorry about that, the second charge is refunded.');
    expect(delivered.from?.value[0]?.address).toBe('support@branch.example');

    // The customer answers the reply (threaded under it): the same case, not a new one.
    await customer().sendMail({
      from: CUSTOMER,
      to: 'billing@branch.example',
      subject: 'Re: Re: Charged twice',
      text: 'Thanks, received.',
      inReplyTo: delivered.messageId!,
      references: [...[delivered.references ?? []].flat(), delivered.messageId!],
    });
    const after = (await (await api('/api/v1/email/cases')).json()) as CaseList;
    expect(after.cases.map((x) => x.id)).toEqual([c.id]);
    const thread = (await (await api(`/api/v1/email/cases/${c.id}`)).json()) as CaseView;
    expect(thread.messages.map((m) => m.sender)).toEqual(['visitor', 'agent', 'visitor']);
    expect(thread.case.agentId).toMatch(/^console:/);

    // An address without a group: routed like a chat (here: no intent model → the default group).
    await customer().sendMail({ from: 'dave@client.example', to: 'help@branch.example', subject: 'Question', text: 'Where is my order?' });
    const both = (await (await api('/api/v1/email/cases')).json()) as CaseList;
    expect(both.cases).toHaveLength(2);
    const other = both.cases.find((x) => x.id !== c.id)!;
    expect(other.routeReason).not.toBe('email.address');

    // Closing the case: it leaves the open list (and expires with retention).
    const closed = await api(`/api/v1/email/cases/${c.id}/close`, { method: 'POST' });
    expect(closed.status, await closed.clone().text()).toBe(200);
    expect(((await closed.json()) as { state: string }).state).toBe('closed');
    const open = (await (await api('/api/v1/email/cases')).json()) as CaseList;
    expect(open.cases.map((x) => x.id)).not.toContain(c.id);

    // No raw card number in the database file or its WAL; no address in the log.
    const dir = app.config.dataDir;
    const files = readdirSync(dir).filter((f) => f.startsWith('edgevox.sqlite'));
    expect(files).toContain('edgevox.sqlite-wal');
    for (const f of files) {
      const bytes = readFileSync(join(dir, f)).toString('latin1');
      expect(bytes.includes(CARD), f).toBe(false);
      expect(bytes.includes(CARD.replace(/ /g, '')), f).toBe(false);
      expect(bytes.includes(CUSTOMER), f).toBe(false);
    }
    const text = JSON.stringify(log.lines);
    expect(log.lines.some((l) => l['msg'] === 'e-mail received')).toBe(true);
    // Digits count only as a number of their own: a bare '4111' also turns up inside a port, a
    // timestamp or a duration of the log by chance.
    expect(plantedIn(text, [CUSTOMER, 'dave@client.example', '4111', 'charged twice', 'Charged twice'])).toEqual([]);
  }, 60_000);
});
