/**
 * Files in chats on a real fastify server, store and chat socket: refused while chat.uploads is off;
 * when on, a visitor's PNG reaches the agent who downloads the same bytes as an attachment; and the
 * doors: no or wrong credentials, another chat's token, another agent, a foreign origin, a type not
 * accepted or bytes that do not match it, an oversized body, a hostile file name, resends, the
 * hourly limit, a closed chat. Retention deletes files by their own key.
 */
import { request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import websocketPlugin from '@fastify/websocket';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConversationService } from '../../helpers/conversations.js';
import { installErrorHandling } from '../../../appliance/api/errors.js';
import { registerChatFileRoutes, type ChatUploadOptions } from '../../../appliance/conversations/chatFileRoutes.js';
import { ChatFileRepo } from '../../../appliance/conversations/chatFiles.js';
import { CHAT_SOCKET_PATH, registerChatSocket } from '../../../appliance/conversations/chatSocket.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { Store } from '../../../appliance/store/database.js';
import { openChat, type Client } from '../../helpers/chatSocketClient.js';

const SECRET = Buffer.alloc(32, 9);
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(3000, 0x42)]);
const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(2000, 0x20)]);
const AGENTS: Record<string, string> = { 'agent-token-alice': 'alice', 'agent-token-bob': 'bob' };

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One HTTP request with exactly these headers (Origin included, which fetch may not send). */
function send(url: string, method: string, headers: Record<string, string>, body?: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    // the box may answer (413) before reading the whole body and close: that is the answer we want
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A request whose headers go out at once and whose body follows `holdMs` later (a slow upload):
 * the box decides what it can from the headers while the body is still on its way.
 */
function sendLate(url: string, headers: Record<string, string>, body: Buffer, holdMs: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest(url, { method: 'POST', headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    // once answered (a refusal before the body), the box may close: writing then fails, which is expected
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    req.flushHeaders();
    setTimeout(() => req.end(body), holdMs);
  });
}

const codeOf = (r: Reply) => (JSON.parse(r.body.toString('utf8')) as { error?: { code?: string } }).error?.code;

async function rig(uploads: ChatUploadOptions) {
  const dir = mkdtempSync(join(tmpdir(), 'evx-chatfiles-'));
  const store = Store.open(dir);
  const logger = createLogger({ level: 'silent', includePii: false });
  let clock = Date.now();
  const service = testConversationService(store, dir, { logger });
  const files = new ChatFileRepo(store.db, store.write.bind(store));
  const app: FastifyInstance = Fastify({ logger: false });
  installErrorHandling(app, logger);
  await app.register(websocketPlugin, { options: { maxPayload: 64 * 1024 } });
  const verifyAgent = (t: string) => (AGENTS[t] !== undefined ? { subject: AGENTS[t], expiresAtMs: Date.now() + 3_600_000 } : undefined);
  /** Agents taken off the roster. */
  const removed = new Set<string>();
  const agentActive = (agentId: string) => !removed.has(agentId);
  let socket: { close(): void } = { close: () => undefined };
  await app.register(async (instance) => {
    socket = registerChatSocket(instance, {
      service,
      secret: SECRET,
      verifyAgent,
      verifyCallerToken: () => false,
      logger,
      options: {
        allowedOrigins: ['https://shop.example'],
        maxFrameBytes: 4096,
        visitorMessagesPerMinute: 100,
        ipMessagesPerMinute: 1000,
        ipSessionsPerMinute: 1000,
        ...(uploads.enabled ? { uploads } : {}),
      },
    });
    await registerChatFileRoutes(instance, {
      service,
      files,
      secret: SECRET,
      verifyAgent,
      agentActive,
      allowedOrigins: ['https://shop.example'],
      uploads,
      logger,
      now: () => clock,
    });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  const base = `http://127.0.0.1:${port}`;
  const chat = async (language: 'en' | 'zh' = 'en'): Promise<{ v: Client; id: string; token: string; uploads: unknown }> => {
    const v = await openChat(`ws://127.0.0.1:${port}${CHAT_SOCKET_PATH}`, base);
    v.send({ type: 'start', language });
    const s = await v.next('started');
    return { v, id: s.conversationId, token: s.token, uploads: s.uploads };
  };
  const agent = async (token: string): Promise<Client> => {
    const a = await openChat(`ws://127.0.0.1:${port}${CHAT_SOCKET_PATH}`, base);
    a.send({ type: 'agent', token });
    await a.next('agent-ready');
    return a;
  };
  const upload = (id: string, token: string, body: Buffer, h: Record<string, string> = {}) =>
    send(
      `${base}/api/v1/chat/conversations/${id}/files`,
      'POST',
      {
        origin: base,
        authorization: `Chat ${token}`,
        'content-type': 'image/png',
        'x-file-name': 'receipt.png',
        'x-client-id': `f-${Math.random().toString(36).slice(2)}`,
        ...h,
      },
      body,
    );
  const download = (fileId: string, authorization?: string) =>
    send(`${base}/api/v1/chat/files/${fileId}`, 'GET', authorization === undefined ? {} : { authorization });
  const count = () => (store.db.prepare('SELECT COUNT(*) AS n FROM conversation_files').get() as { n: number }).n;
  const uploadLate = (id: string, token: string, body: Buffer, holdMs: number) =>
    sendLate(
      `${base}/api/v1/chat/conversations/${id}/files`,
      {
        origin: base,
        authorization: `Chat ${token}`,
        'content-type': 'image/png',
        'x-file-name': 'receipt.png',
        'x-client-id': `f-${Math.random().toString(36).slice(2)}`,
      },
      body,
      holdMs,
    );
  return {
    store,
    service,
    chat,
    uploadLate,
    agent,
    upload,
    download,
    count,
    base,
    advance: (ms: number) => (clock += ms),
    removeAgent: (agentId: string) => removed.add(agentId),
    async close() {
      socket.close();
      await app.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const ON: ChatUploadOptions = {
  enabled: true,
  types: ['image/png', 'application/pdf'],
  maxBytes: 8192,
  perVisitorPerHour: 4,
  perAddressPerHour: 1000,
};

describe('chat files, uploads off (the default)', () => {
  let r: Awaited<ReturnType<typeof rig>>;
  beforeAll(async () => {
    r = await rig({ ...ON, enabled: false });
  });
  afterAll(() => r.close());

  it('refuses an upload with a clear error, and the socket says no files', async () => {
    const { v, id, token, uploads } = await r.chat();
    expect(uploads).toBeUndefined();
    const res = await r.upload(id, token, PNG);
    expect(res.status).toBe(415);
    expect(codeOf(res)).toBe('EVX_ERR_CHAT_UPLOAD_REFUSED');
    v.send({ type: 'upload', name: 'x.png' });
    expect((await v.next('error')).code).toBe('EVX_ERR_CHAT_UPLOAD_REFUSED');
    expect(r.count()).toBe(0);
    v.ws.close();
  });
});

describe('chat files, uploads on', () => {
  let r: Awaited<ReturnType<typeof rig>>;
  beforeAll(async () => {
    r = await rig(ON);
  });
  afterAll(() => r.close());

  it('a visitor sends a PNG; the agent offered and then holding the chat downloads the same bytes as an attachment', async () => {
    const alice = await r.agent('agent-token-alice');
    const { v, id, token, uploads } = await r.chat();
    expect(uploads).toEqual({ maxBytes: 8192, types: ['image/png', 'application/pdf'] });
    v.send({ type: 'message', clientId: 'm1', text: 'here is my receipt' });
    await v.next('ack');
    const res = await r.upload(id, token, PNG, { 'x-client-id': 'f1' });
    expect(res.status).toBe(201);
    const up = JSON.parse(res.body.toString('utf8')) as { seq: number; file: { id: string; name: string; type: string; bytes: number } };
    expect(up.seq).toBe(2);
    expect(up.file).toMatchObject({ name: 'receipt.png', type: 'image/png', bytes: PNG.length });
    // the visitor's page sees its own file message
    const mine = await v.next('message', (m) => m.message.seq === 2);
    expect(mine.message.file).toEqual(up.file);
    // offered: alice may already look at it
    await alice.next('offers', (m) => m.conversations.some((c) => c.conversationId === id));
    expect((await r.download(up.file.id, 'Agent agent-token-alice')).status).toBe(200);
    alice.send({ type: 'accept', conversationId: id });
    const hist = await alice.next('history', (m) => m.conversation.conversationId === id);
    const shown = hist.messages.find((m) => m.seq === 2);
    expect(shown?.file).toEqual(up.file);
    expect(shown?.sentiment).toBeUndefined();
    const got = await r.download(up.file.id, 'Agent agent-token-alice');
    expect(got.status).toBe(200);
    expect(got.body.equals(PNG)).toBe(true);
    expect(got.headers['content-type']).toBe('image/png');
    expect(got.headers['content-disposition']).toBe("attachment; filename*=UTF-8''receipt.png");
    expect(got.headers['x-content-type-options']).toBe('nosniff');
    expect(got.headers['content-security-policy']).toContain('sandbox');
    expect(got.headers['cache-control']).toContain('no-store');
    // the visitor with the chat's own token, too
    expect((await r.download(up.file.id, `Chat ${token}`)).body.equals(PNG)).toBe(true);
    // nobody else: no credentials 401; another agent, a bad token, another chat's token, an unknown id: 404 alike
    const bob = await r.agent('agent-token-bob');
    expect((await r.download(up.file.id)).status).toBe(401);
    expect((await r.download(up.file.id, 'Bearer agent-token-alice')).status).toBe(401);
    expect((await r.download(up.file.id, 'Agent agent-token-bob')).status).toBe(404);
    expect((await r.download(up.file.id, 'Agent forged')).status).toBe(404);
    const other = await r.chat();
    expect((await r.download(up.file.id, `Chat ${other.token}`)).status).toBe(404);
    expect((await r.download('AAAAAAAAAAAAAAAAAAAAAA', 'Agent agent-token-alice')).status).toBe(404);
    expect((await r.download('..%2F..%2Fetc%2Fpasswd', 'Agent agent-token-alice')).status).toBe(400);
    // alice taken off the roster: her token, still unexpired, opens the chat's file no more
    r.removeAgent('alice');
    expect((await r.download(up.file.id, 'Agent agent-token-alice')).status).toBe(404);
    for (const c of [v, alice, bob, other.v]) c.ws.close();
  });

  it('refuses what it must not keep, and keeps nothing of it', async () => {
    const { v, id, token } = await r.chat();
    const before = r.count();
    // a foreign origin, no credentials, another chat's token
    expect((await r.upload(id, token, PNG, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await r.upload(id, token, PNG, { authorization: '' })).status).toBe(401);
    const other = await r.chat();
    expect(codeOf(await r.upload(id, other.token, PNG))).toBe('EVX_ERR_CHAT_NOT_FOUND');
    // a type not accepted, bytes that are not what they claim, a PDF claimed as PNG
    const html = await r.upload(id, token, Buffer.from('<script>alert(1)</script>'), { 'content-type': 'text/html' });
    expect([html.status, codeOf(html)]).toEqual([415, 'EVX_ERR_CHAT_FILE_TYPE']);
    expect(codeOf(await r.upload(id, token, Buffer.from('GIF89a....'), { 'content-type': 'image/gif' }))).toBe('EVX_ERR_CHAT_FILE_TYPE');
    expect(codeOf(await r.upload(id, token, PDF))).toBe('EVX_ERR_CHAT_FILE_TYPE');
    // who may not send is refused before the body is read: an oversized body with a forged token is 404, not 413
    const huge = Buffer.concat([PNG, Buffer.alloc(8192)]);
    expect((await r.upload(id, 'chat1.forged', huge)).status).toBe(404);
    expect((await r.upload(id, token, huge, { origin: 'https://evil.example' })).status).toBe(403);
    // over maxBytes: 413 before the body is stored
    expect((await r.upload(id, token, Buffer.concat([PNG, Buffer.alloc(8192)]))).status).toBe(413);
    // no client id, an empty body
    expect((await r.upload(id, token, PNG, { 'x-client-id': '' })).status).toBe(400);
    expect((await r.upload(id, token, Buffer.alloc(0))).status).toBe(400);
    expect(r.count()).toBe(before);
    expect(r.service.history(id)).toEqual([]);
    v.ws.close();
    other.v.ws.close();
  });

  it('cleans and redacts the file name, takes a resend once, keeps to the hourly limit, refuses a closed chat', async () => {
    const { v, id, token } = await r.chat();
    const hostile = encodeURIComponent('../../etc/\u202Egnp.card_4111 1111 1111 1111\u0007.pdf');
    const res = await r.upload(id, token, PDF, { 'content-type': 'application/pdf', 'x-file-name': hostile, 'x-client-id': 'same' });
    expect(res.status).toBe(201);
    const up = JSON.parse(res.body.toString('utf8')) as { seq: number; file: { id: string; name: string } };
    expect(up.file.name).not.toContain('/');
    expect(up.file.name).not.toContain('4111');
    expect([...up.file.name].some((ch) => ch.charCodeAt(0) < 0x20 || ch === '\u202e')).toBe(false);
    expect(up.file.name).toContain('[CARD]');
    const raw = r.store.db.prepare('SELECT name FROM conversation_files WHERE id = ?').get(up.file.id) as { name: string };
    expect(raw.name).toBe(up.file.name);
    // redacted once, as any text the chat stores, and counted on the message
    expect(r.service.history(id)[0]!.redactions).toBeGreaterThan(0);
    // the same client id again: the same message and file, nothing new stored
    const again = await r.upload(id, token, PDF, { 'content-type': 'application/pdf', 'x-client-id': 'same' });
    expect(again.status).toBe(200);
    expect(JSON.parse(again.body.toString('utf8'))).toMatchObject({ seq: up.seq, file: { id: up.file.id } });
    expect(r.service.history(id)).toHaveLength(1);
    // perVisitorPerHour is 4: three more, then refused; an hour later accepted again
    for (let i = 0; i < 3; i++) expect((await r.upload(id, token, PNG)).status).toBe(201);
    const limited = await r.upload(id, token, PNG);
    expect([limited.status, codeOf(limited)]).toEqual([429, 'EVX_ERR_CHAT_RATE_LIMITED']);
    expect(limited.headers['retry-after']).toBeDefined();
    r.advance(3_600_001);
    expect((await r.upload(id, token, PNG)).status).toBe(201);
    v.send({ type: 'close' });
    await v.next('state', (m) => m.conversation.state === 'closed');
    const closed = await r.upload(id, token, PNG);
    expect([closed.status, codeOf(closed)]).toEqual([409, 'EVX_ERR_CHAT_CLOSED']);
    // the visitor may still fetch their own file of the closed chat
    expect((await r.download(up.file.id, `Chat ${token}`)).status).toBe(200);
    v.ws.close();
  });
});

describe('chat files, limits that slow or parallel uploads cannot pass', () => {
  let r: Awaited<ReturnType<typeof rig>>;
  beforeAll(async () => {
    r = await rig({ ...ON, perVisitorPerHour: 4, perAddressPerHour: 7 });
  });
  afterAll(() => r.close());

  it('20 uploads whose bodies arrive after all their headers: 4 kept (perVisitorPerHour), the rest refused before their bodies', async () => {
    const { v, id, token } = await r.chat();
    const replies = await Promise.all(Array.from({ length: 20 }, () => r.uploadLate(id, token, PNG, 300)));
    const statuses = replies.map((x) => x.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(4);
    expect(statuses.filter((s) => s === 429)).toHaveLength(16);
    expect(r.count()).toBe(4);
    // the uploads in flight are released once answered: still refused (4 stored), not more
    expect((await r.upload(id, token, PNG)).status).toBe(429);
    v.ws.close();
  });

  it('one address over all its chats: perAddressPerHour (7 here, 4 of them above), then refused in a new chat too', async () => {
    const a = await r.chat();
    expect((await r.upload(a.id, a.token, PNG)).status).toBe(201);
    expect((await r.upload(a.id, a.token, PNG)).status).toBe(201);
    const b = await r.chat();
    expect((await r.upload(b.id, b.token, PNG)).status).toBe(201);
    const refused = await r.upload(b.id, b.token, PNG);
    expect([refused.status, codeOf(refused)]).toEqual([429, 'EVX_ERR_CHAT_RATE_LIMITED']);
    const c = await r.chat();
    expect((await r.upload(c.id, c.token, PNG)).status).toBe(429);
    expect(r.count()).toBe(7);
    for (const x of [a, b, c]) x.v.ws.close();
  });
});

describe('chat files, the saved name', () => {
  let r: Awaited<ReturnType<typeof rig>>;
  beforeAll(async () => {
    r = await rig(ON);
  });
  afterAll(() => r.close());

  it('ends with the extension of the checked type: a PDF named invoice.html is saved as invoice.html.pdf', async () => {
    const { v, id, token } = await r.chat();
    const res = await r.upload(id, token, PDF, { 'content-type': 'application/pdf', 'x-file-name': 'invoice.html' });
    expect(res.status).toBe(201);
    const up = JSON.parse(res.body.toString('utf8')) as { file: { id: string; name: string } };
    expect(up.file.name).toBe('invoice.html.pdf');
    const got = await r.download(up.file.id, `Chat ${token}`);
    expect(got.headers['content-disposition']).toBe("attachment; filename*=UTF-8''invoice.html.pdf");
    const scan = await r.upload(id, token, PNG, { 'x-file-name': 'scan' });
    expect((JSON.parse(scan.body.toString('utf8')) as { file: { name: string } }).file.name).toBe('scan.png');
    v.ws.close();
  });

  it("is redacted by the rules of the chat's language: a mainland mobile in a Latin-letter name of a Chinese chat", async () => {
    const { v, id, token } = await r.chat('zh');
    const res = await r.upload(id, token, PNG, { 'x-file-name': 'zhangsan-13800138000.png' });
    expect(res.status).toBe(201);
    const up = JSON.parse(res.body.toString('utf8')) as { file: { id: string; name: string } };
    expect(up.file.name).toBe('zhangsan-[PHONE].png');
    expect(r.service.history(id)[0]!.text).not.toContain('13800138000');
    v.ws.close();
  });
});
