/**
 * The softphone's view of a caller's customer on a real store: the verified (token-linked) open chat
 * and the attached e-mail case come first, the chat with its last three messages in order, the case
 * with its subject; then the earlier call. A chat where the visitor only typed another number is in
 * nobody's view; an anonymous caller has none. Neither the number nor any identifier hash is in it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallerHasher } from '../../../appliance/calls/callerHash.js';
import { ConversationRepo } from '../../../appliance/conversations/conversationRepo.js';
import { CustomerRepo } from '../../../appliance/customers/customerRepo.js';
import { CustomerService } from '../../../appliance/customers/customerService.js';
import { SoftphoneCustomerReader } from '../../../appliance/customers/softphoneCustomer.js';
import { EventBus } from '../../../appliance/events/appEvents.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { ProfileService } from '../../../appliance/profiles/profileService.js';
import { ProfilesRepo } from '../../../appliance/profiles/repo.js';
import { Store } from '../../../appliance/store/database.js';

const P = '+15550123456';
const Q = '+15550199999';
const noHashes = { nameHash: null, customerHash: null, emailHash: null, phoneHash: null };

describe('the caller’s customer as the softphone shows it', () => {
  let dir: string;
  let store: Store;
  let hasher: CallerHasher;
  let customers: CustomerService;
  let reader: SoftphoneCustomerReader;
  const t0 = Date.now() - 3_600_000;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'evx-softcust-'));
    store = Store.open(dir);
    hasher = CallerHasher.fromDataDir(dir);
    const write = store.write.bind(store);
    const convs = new ConversationRepo(store.db, write);
    const customerRepo = new CustomerRepo(store.db, write);
    const profilesRepo = new ProfilesRepo(store.db, write);
    const profiles = new ProfileService({
      repo: profilesRepo,
      calls: store.calls,
      bus: new EventBus(),
      logger: createLogger({ level: 'silent', includePii: false }),
    });
    customers = new CustomerService({
      repo: customerRepo,
      db: store.db,
      profiles: profilesRepo,
      audit: store.audit,
      settings: () => profiles.settings,
    });
    reader = new SoftphoneCustomerReader(store.db);

    // an earlier call from P
    store.calls.create({ id: 'call-old', source: 'sip', callerHash: hasher.hash(P), startedAt: t0 - 86_400_000 });
    // a chat a site's identity token linked to P, five messages (stored redacted)
    convs.create({ id: 'chat-verified', channel: 'chat', language: 'en', subject: null, at: t0, ...noHashes });
    const texts: [string, 'visitor' | 'agent'][] = [
      ['Hello', 'visitor'],
      ['Hi, how can I help?', 'agent'],
      ['My card [CARD] was charged twice', 'visitor'],
      ['Let me look at that', 'agent'],
      ['Thanks, I will call you', 'visitor'],
    ];
    texts.forEach(([text, sender], i) =>
      convs.addMessage('chat-verified', {
        clientId: `c${i}`,
        sender,
        agentId: sender === 'agent' ? 'alice' : null,
        text,
        redactions: text.includes('[CARD]') ? 1 : 0,
        at: t0 + i * 1000,
      }),
    );
    customerRepo.linkVerified('chat-verified', [{ kind: 'phone', hash: hasher.hash(P) }], t0);
    // a chat where the visitor only typed Q: a claim, linked to nobody
    convs.create({ id: 'chat-typed', channel: 'chat', language: 'en', subject: null, at: t0 + 10, ...noHashes, phoneHash: hasher.hash(Q) });
    convs.addMessage('chat-typed', {
      clientId: 'x',
      sender: 'visitor',
      agentId: null,
      text: 'typed number chat',
      redactions: 0,
      at: t0 + 10,
    });
    // an e-mail case an agent attaches to P's customer
    convs.create({ id: 'mail-1', channel: 'email', language: 'en', subject: 'Refund for [CARD]', at: t0 + 20, ...noHashes });
    convs.addMessage('mail-1', { clientId: 'mid:1', sender: 'visitor', agentId: null, text: 'Please refund', redactions: 0, at: t0 + 20 });
    store.calls.create({ id: 'call-p', source: 'sip', callerHash: hasher.hash(P), startedAt: Date.now() });
    const pCustomer = customers.ofCall({ callerHash: hasher.hash(P) });
    customers.attach('mail-1', pCustomer!.id, 'console:sup');
  });

  afterAll(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the open chat and e-mail case first, the chat’s last three messages and the case’s subject, then the earlier call', () => {
    const view = reader.view(customers.ofCall({ callerHash: hasher.hash(P) }));
    expect(view).not.toBeNull();
    expect(view!.openCases.map((c) => [c.conversationId, c.channel, c.linkedBy])).toEqual([
      ['mail-1', 'email', 'agent'],
      ['chat-verified', 'chat', 'token'],
    ]);
    const chat = view!.openCases[1]!;
    expect(chat.subject).toBeNull();
    expect(chat.state).toBe('waiting');
    expect(chat.lastMessages.map((m) => [m.from, m.text])).toEqual([
      ['visitor', 'My card [CARD] was charged twice'],
      ['agent', 'Let me look at that'],
      ['visitor', 'Thanks, I will call you'],
    ]);
    expect(view!.openCases[0]!.subject).toBe('Refund for [CARD]');
    expect(view!.timeline.map((e) => e.channel)).toContain('call');
    expect(view!.timeline.length).toBeLessThanOrEqual(5);
    // no number and no identifier hash in what goes to the page
    const json = JSON.stringify(view);
    for (const secret of [P, P.slice(1), hasher.hash(P), hasher.hash(Q), 'chat-typed']) expect(json).not.toContain(secret);
  });

  it('a caller whose number was only typed in a chat gets no open case; an anonymous caller no customer', () => {
    const view = reader.view(customers.ofCall({ callerHash: hasher.hash(Q) }));
    expect(view?.openCases).toEqual([]);
    expect(JSON.stringify(view)).not.toContain('chat-typed');
    expect(reader.view(customers.ofCall({ callerHash: null }))).toBeNull();
  });
});
