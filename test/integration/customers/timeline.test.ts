/**
 * One customer across channels on a real store and a real chat socket: a chat whose visitor a site's
 * signed identity token names with phone P is in the screen-pop of the next call from P (open case
 * first); a chat where the visitor merely typed P is not, until an agent attaches it, and unmerge
 * undoes exactly that; forged, expired and tampered tokens start nothing; a negative chat raises the
 * caller's churn risk (calls-only code did not); hostile bodies on the routes are refused; neither
 * the number nor the e-mail is stored in the customer tables or returned.
 */
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import websocketPlugin from '@fastify/websocket';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../../appliance/api/errors.js';
import { registerCustomerRoutes } from '../../../appliance/api/routes/customers.js';
import { registerProfileRoutes } from '../../../appliance/api/routes/profiles.js';
import { AlertsRepo } from '../../../appliance/alerts/repo.js';
import { CallerHasher } from '../../../appliance/calls/callerHash.js';
import type { ChatServerMessage } from '../../../appliance/conversations/chatProtocol.js';
import { CHAT_SOCKET_PATH, registerChatSocket } from '../../../appliance/conversations/chatSocket.js';
import { ConversationRepo } from '../../../appliance/conversations/conversationRepo.js';
import { ConversationService } from '../../../appliance/conversations/conversationService.js';
import { CustomerRepo } from '../../../appliance/customers/customerRepo.js';
import { CustomerService } from '../../../appliance/customers/customerService.js';
import { identityLinker, mintIdentityToken } from '../../../appliance/customers/identityToken.js';
import { EventBus } from '../../../appliance/events/appEvents.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { ProfileService } from '../../../appliance/profiles/profileService.js';
import { ProfilesRepo } from '../../../appliance/profiles/repo.js';
import { RoutingRepo } from '../../../appliance/routing/repo.js';
import { Store } from '../../../appliance/store/database.js';

interface Ws {
  send(data: string): void;
  close(): void;
  on(event: 'message', l: (data: Buffer) => void): void;
  on(event: 'close', l: (code: number) => void): void;
  on(event: 'open', l: () => void): void;
  on(event: 'error', l: (err: Error) => void): void;
}
const WebSocket = createRequire(import.meta.url)('ws') as new (url: string, opts?: { origin?: string }) => Ws;

const ID_SECRET = 'site-identity-secret-0123456789abcdef';
const P = '+15550123456';
const EMAIL = 'grace@example.org';
const DAY = 86_400_000;

describe('one customer timeline across calls and chats', () => {
  let dir: string;
  let store: Store;
  let app: FastifyInstance;
  let url: string;
  let origin: string;
  let socket: { close(): void };
  let hasher: CallerHasher;
  let convs: ConversationRepo;
  const now = Date.now();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'evx-cust-'));
    store = Store.open(dir);
    hasher = CallerHasher.fromDataDir(dir);
    const logger = createLogger({ level: 'silent', includePii: false });
    const write = store.write.bind(store);
    convs = new ConversationRepo(store.db, write);
    const service = new ConversationService({
      repo: convs,
      redactor: null,
      hasher,
      intent: null,
      routing: null,
      agentGroups: () => [],
      logger,
      options: { maxChatsPerAgent: 3, maxMessagesBeforeDefault: 3, maxMessageChars: 1000 },
    });
    const profilesRepo = new ProfilesRepo(store.db, write);
    const profiles = new ProfileService({ repo: profilesRepo, calls: store.calls, bus: new EventBus(), logger });
    const customerRepo = new CustomerRepo(store.db, write);
    const customers = new CustomerService({
      repo: customerRepo,
      db: store.db,
      profiles: profilesRepo,
      audit: store.audit,
      settings: () => profiles.settings,
    });
    app = Fastify({ logger: false });
    installErrorHandling(app, logger);
    await app.register(websocketPlugin, { options: { maxPayload: 64 * 1024 } });
    await app.register(async (instance) => {
      socket = registerChatSocket(instance, {
        service,
        secret: Buffer.alloc(32, 9),
        verifyAgent: () => undefined,
        verifyCallerToken: () => false,
        identity: identityLinker({ secret: ID_SECRET, hasher, repo: customerRepo }),
        logger,
        options: {
          allowedOrigins: [],
          maxFrameBytes: 8192,
          visitorMessagesPerMinute: 100,
          ipMessagesPerMinute: 1000,
          ipSessionsPerMinute: 100,
        },
      });
      registerProfileRoutes(instance, {
        store,
        profiles,
        profilesRepo,
        routingRepo: new RoutingRepo(store.db, write),
        alertsRepo: new AlertsRepo(store.db, write),
        customers,
      });
      registerCustomerRoutes(instance, { customers });
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    url = `ws://127.0.0.1:${port}${CHAT_SOCKET_PATH}`;
    origin = `http://127.0.0.1:${port}`;
    // an earlier, calm call from P a week ago (its profile: one call, no emotion)
    store.calls.create({ id: 'call-old', source: 'sip', callerHash: hasher.hash(P), startedAt: now - 7 * DAY });
    profilesRepo.put({
      callerHash: hasher.hash(P),
      firstSeenAt: now - 7 * DAY,
      lastCallAt: now - 7 * DAY,
      callsTotal: 1,
      recentCalls: [now - 7 * DAY],
      lastIntents: [],
      lastEmotion: null,
      unresolvedRepeats: 0,
      churnRisk: 0.047,
      vip: false,
      tags: [],
      updatedAt: now - 7 * DAY,
    });
  });

  afterAll(async () => {
    socket.close();
    await app.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Opens a visitor socket, sends `start`, returns the first answer (started or error). */
  const startChat = (start: Record<string, unknown>) =>
    new Promise<ChatServerMessage>((resolve, reject) => {
      const ws = new WebSocket(url, { origin });
      ws.on('open', () => ws.send(JSON.stringify({ type: 'start', ...start })));
      ws.on('message', (d) => {
        resolve(JSON.parse(d.toString('utf8')) as ChatServerMessage);
        ws.close();
      });
      ws.on('error', reject);
    });
  const api = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const r = await app.inject({ method, url: path, ...(body !== undefined ? { payload: body as object } : {}) });
    return { status: r.statusCode, body: r.json<Record<string, unknown>>() };
  };
  interface Pop {
    customer: { id: string; openCases: { id: string; channel: string; linkedBy: string }[]; timeline: { id: string; channel: string }[] };
    caller: { churnRisk: number; tags: string[]; churnFactors: { factor: string }[] };
  }
  let n = 0;
  const callFrom = async (number: string): Promise<Pop> => {
    const id = `call-${++n}`;
    store.calls.create({ id, source: 'sip', callerHash: hasher.hash(number), startedAt: Date.now() });
    const r = await api('GET', `/api/v1/calls/${id}/screen-pop`);
    expect(r.status).toBe(200);
    return r.body as unknown as Pop;
  };

  let typedChat = '';
  let tokenChat = '';

  it("a chat where the visitor only typed P does not appear in P's screen-pop", async () => {
    const s = await startChat({ phone: P, email: EMAIL, customerId: 'C-1' });
    expect(s.type).toBe('started');
    typedChat = (s as Extract<ChatServerMessage, { type: 'started' }>).conversationId;
    expect(convs.get(typedChat)?.phoneHash).toBe(hasher.hash(P)); // kept as an unverified claim
    const pop = await callFrom(P);
    expect(pop.customer.openCases).toEqual([]);
    expect(pop.customer.timeline.map((e) => e.id)).not.toContain(typedChat);
    expect(pop.customer.timeline.map((e) => e.id)).toContain('call-old');
  });

  it('forged, tampered, expired and unsigned tokens are refused and start no chat', async () => {
    const before = (store.db.prepare('SELECT count(*) AS n FROM conversations').get() as { n: number }).n;
    const good = mintIdentityToken(ID_SECRET, { customerId: 'C-1', phone: P, expiresAtMs: now + 3_600_000 });
    const [payload, sig] = good.split('.') as [string, string];
    const otherPayload = Buffer.from(JSON.stringify({ cid: 'C-2', phone: P, exp: Math.floor(now / 1000) + 3600 })).toString('base64url');
    const bad = [
      mintIdentityToken('another-secret-0123456789abcdefghij', { customerId: 'C-1', phone: P, expiresAtMs: now + 3_600_000 }),
      `${otherPayload}.${sig}`,
      mintIdentityToken(ID_SECRET, { customerId: 'C-1', phone: P, expiresAtMs: now - 1000 }),
      payload,
      `${payload}.`,
      `${payload}.${sig}.x`,
      'x'.repeat(1999),
    ];
    for (const token of bad) {
      const m = await startChat({ identity: token });
      expect(m, token.slice(0, 20)).toMatchObject({ type: 'error', code: 'EVX_ERR_CUSTOMER_IDENTITY' });
    }
    expect((await startChat({ identity: 'y'.repeat(2001) })).type).toBe('error');
    expect((store.db.prepare('SELECT count(*) AS n FROM conversations').get() as { n: number }).n).toBe(before);
  });

  it("a chat identified by the site's signed token with phone P comes first in the next call's screen-pop", async () => {
    const token = mintIdentityToken(ID_SECRET, { customerId: 'C-1', phone: P, email: EMAIL, expiresAtMs: now + 3_600_000 });
    const s = await startChat({ identity: token });
    expect(s.type).toBe('started');
    tokenChat = (s as Extract<ChatServerMessage, { type: 'started' }>).conversationId;
    const pop = await callFrom(P);
    expect(pop.customer.openCases.map((e) => [e.id, e.channel, e.linkedBy])).toEqual([[tokenChat, 'chat', 'token']]);
    expect(pop.customer.timeline.map((e) => e.id)).not.toContain(typedChat);
    // another number's screen-pop does not get it
    expect((await callFrom('+15559990000')).customer.openCases).toEqual([]);
  });

  it("an agent attaches the typed chat to the caller's customer; unmerge undoes exactly that (audited)", async () => {
    const pop = await callFrom(P);
    const att = await api('POST', '/api/v1/customers/merge', { into: pop.customer.id, conversationId: typedChat });
    expect(att.status).toBe(200);
    const ids = (p: Pop) => p.customer.openCases.map((e) => e.id).sort();
    expect(ids(await callFrom(P))).toEqual([tokenChat, typedChat].sort());
    expect((await api('POST', '/api/v1/customers/merge', { into: pop.customer.id, conversationId: typedChat })).status).toBe(409);
    const un = await api('POST', '/api/v1/customers/unmerge', { mergeId: att.body['id'] });
    expect(un).toMatchObject({ status: 200, body: { undoneAt: expect.any(Number) } });
    expect(ids(await callFrom(P))).toEqual([tokenChat]);
    expect((await api('POST', '/api/v1/customers/unmerge', { mergeId: att.body['id'] })).status).toBe(409);
    const audit = store.db.prepare(`SELECT action FROM audit_log WHERE action LIKE 'customer.%' ORDER BY id`).all() as { action: string }[];
    expect(audit.map((a) => a.action)).toEqual(['customer.attached', 'customer.unmerged']);
  });

  it('merging two customers joins their timelines; unmerge splits them back', async () => {
    const a = await callFrom(P);
    const b = await callFrom('+15558887777');
    const m = await api('POST', '/api/v1/customers/merge', { from: b.customer.id, into: a.customer.id });
    expect(m.status).toBe(200);
    const merged = await api('GET', `/api/v1/customers/${a.customer.id}/timeline`);
    const callIds = (merged.body['timeline'] as { id: string }[]).map((e) => e.id);
    expect(callIds).toContain('call-old');
    expect(callIds.length).toBeGreaterThan(a.customer.timeline.length);
    expect((await callFrom('+15558887777')).customer.id).toBe(a.customer.id);
    expect((await api('POST', '/api/v1/customers/unmerge', { mergeId: m.body['id'] })).status).toBe(200);
    expect((await callFrom('+15558887777')).customer.id).toBe(b.customer.id);
    expect((await api('POST', '/api/v1/customers/merge', { from: a.customer.id, into: a.customer.id })).status).toBe(409);
  });

  it("a negative chat counts in the caller's churn risk and tags like a negative call", async () => {
    const before = await callFrom(P);
    expect(before.caller.churnRisk).toBeLessThan(0.3);
    store.db
      .prepare(
        `INSERT INTO conversation_analysis (conversation_id, channel, sentiment_label, sentiment_json, qa_rules_version, qa_json, summary_outcome, summary_json, created_at)
         VALUES (?, 'chat', 'negative', '{}', 0, '{}', 'unresolved', '{"text":"Customer upset about a card fee."}', ?)`,
      )
      .run(tokenChat, Date.now());
    const after = await callFrom(P);
    // the calls-only screen-pop gave the stored profile's 0.047 here
    expect(after.caller.churnRisk).toBeGreaterThan(before.caller.churnRisk);
    expect(after.caller.tags).toContain('negative-last-chat');
    expect(after.caller.churnFactors.map((f) => f.factor)).toContain('negative on the last chat');
  });

  it('refuses hostile bodies and ids on the routes', async () => {
    const pop = await callFrom(P);
    const cases: [string, string, unknown][] = [
      ['GET', '/api/v1/customers/not-a-uuid/timeline', undefined],
      ['GET', `/api/v1/customers/${'0'.repeat(8)}-0000-0000-0000-000000000000/timeline`, undefined],
      ['POST', '/api/v1/customers/merge', { into: pop.customer.id }],
      ['POST', '/api/v1/customers/merge', { into: pop.customer.id, conversationId: "x' OR 1=1 --" }],
      ['POST', '/api/v1/customers/merge', { into: pop.customer.id, conversationId: 'no-such-chat' }],
      ['POST', '/api/v1/customers/merge', { into: pop.customer.id, from: 'not-a-uuid' }],
      ['POST', '/api/v1/customers/merge', { into: pop.customer.id, from: ['a'] }],
      ['POST', '/api/v1/customers/merge', { into: '__proto__', from: pop.customer.id }],
      ['POST', '/api/v1/customers/unmerge', { mergeId: -1 }],
      ['POST', '/api/v1/customers/unmerge', { mergeId: 99_999 }],
      ['POST', '/api/v1/customers/unmerge', { mergeId: '1; DROP TABLE customers' }],
    ];
    for (const [method, path, body] of cases) {
      const r = await api(method as 'GET' | 'POST', path, body);
      expect([400, 404], `${method} ${path} ${JSON.stringify(body)}`).toContain(r.status);
    }
    expect(store.db.prepare(`SELECT count(*) AS n FROM customer_merges WHERE undone_at IS NULL`).get()).toEqual({ n: 0 });
  });

  it('stores and returns only hashes: neither the number nor the e-mail', async () => {
    const dump = JSON.stringify([
      store.db.prepare('SELECT * FROM customer_identifiers').all(),
      store.db.prepare('SELECT * FROM customer_merges').all(),
      await callFrom(P),
    ]);
    for (const raw of ['5550123456', EMAIL, 'C-1']) expect(dump).not.toContain(raw);
    const kinds = (
      store.db.prepare(`SELECT kind, source FROM customer_identifiers ORDER BY kind`).all() as { kind: string; source: string }[]
    ).map((r) => `${r.kind}:${r.source}`);
    expect(kinds).toEqual(expect.arrayContaining(['customerId:token', 'email:token', 'phone:network']));
  });
});
