/**
 * The chat socket with real WebSockets (ws) on a real fastify server and store: a visitor chats with
 * an agent (offer, accept, replies, typing, read), reconnects after a drop without losing or
 * duplicating messages, escalates to a call; and hostile input: foreign or missing Origin, bad JSON,
 * binary and huge frames, floods, uploads, a socket that never starts, a half-open socket.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import websocketPlugin from '@fastify/websocket';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConversationService } from '../../helpers/conversations.js';
import { installErrorHandling } from '../../../appliance/api/errors.js';
import { CHAT_SOCKET_PATH, registerChatSocket } from '../../../appliance/conversations/chatSocket.js';
import { ConversationService } from '../../../appliance/conversations/conversationService.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { Store } from '../../../appliance/store/database.js';
import { mintCallerToken, verifyCallerToken } from '../../../appliance/webrtc/tokens.js';
import { Client, WebSocket, openChat } from '../../helpers/chatSocketClient.js';
import { plantedIn } from '../../helpers/planted.js';

const SECRET = Buffer.alloc(32, 7);
const FRAME = 4096;

describe('chat socket', () => {
  let dir: string;
  let store: Store;
  let app: FastifyInstance;
  let url: string;
  let origin: string;
  let service: ConversationService;
  let socket: { close(): void };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'evx-chat-'));
    store = Store.open(dir);
    const logger = createLogger({ level: 'silent', includePii: false });
    service = testConversationService(store, dir, { logger });
    app = Fastify({ logger: false });
    installErrorHandling(app, logger);
    await app.register(websocketPlugin, { options: { maxPayload: 64 * 1024 } });
    await app.register(async (instance) => {
      socket = registerChatSocket(instance, {
        service,
        secret: SECRET,
        verifyAgent: (t) => (t === 'agent-token-alice' ? { subject: 'alice', expiresAtMs: Date.now() + 3_600_000 } : undefined),
        // the real caller-token check of the signalling layer
        verifyCallerToken: (callId, token) => {
          try {
            return verifyCallerToken(SECRET, token).callId === callId;
          } catch {
            return false;
          }
        },
        logger,
        options: {
          allowedOrigins: ['https://shop.example'],
          maxFrameBytes: FRAME,
          visitorMessagesPerMinute: 20,
          ipMessagesPerMinute: 1000,
          ipSessionsPerMinute: 1000,
          joinTimeoutMs: 400,
          heartbeatMs: 200,
          maxStrikes: 5,
        },
      });
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    url = `ws://127.0.0.1:${port}${CHAT_SOCKET_PATH}`;
    origin = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    socket.close();
    await app.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = (o: string | undefined = origin) => openChat(url, o);
  const refusedStatus = (o: string | undefined) =>
    new Promise<number>((resolve) => {
      const ws = new WebSocket(url, o === undefined ? {} : { origin: o });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });

  it('refuses handshakes from origins not allowed, and without an Origin; takes its own and listed ones', async () => {
    expect(await refusedStatus('https://evil.example')).toBe(403);
    expect(await refusedStatus(undefined)).toBe(403);
    expect(await refusedStatus('https://shop.example')).toBe(101);
    expect(await refusedStatus(origin)).toBe(101);
  });

  it('a visitor chats with an agent: offer, accept, replies both ways, typing, read, redaction before the agent sees it', async () => {
    const agent = await open();
    agent.send({ type: 'agent', token: 'agent-token-alice' });
    await agent.next('agent-ready');
    const v = await open();
    v.send({ type: 'start', name: 'Grace', language: 'en' });
    const started = await v.next('started');
    v.send({ type: 'message', clientId: 'c1', text: 'hello, my card 4111 1111 1111 1111 is lost' });
    const ack = await v.next('ack', (m) => m.clientId === 'c1');
    expect(ack.seq).toBe(1);
    expect(ack.text).toContain('[CARD]');
    const offer = await agent.next('offers', (m) => m.conversations.some((c) => c.conversationId === started.conversationId));
    expect(plantedIn(JSON.stringify(offer), ['1111'])).toEqual([]);
    agent.send({ type: 'accept', conversationId: started.conversationId });
    const hist = await agent.next('history');
    expect(hist.messages.map((m) => m.text)).toEqual([ack.text]);
    expect(await v.next('state', (m) => m.conversation.state === 'assigned')).toBeTruthy();
    v.send({ type: 'typing', typing: true });
    expect((await agent.next('typing')).from).toBe('visitor');
    agent.send({ type: 'message', conversationId: started.conversationId, clientId: 'a1', text: 'I blocked it' });
    const reply = await v.next('message', (m) => m.message.from === 'agent');
    expect(reply.message.seq).toBe(2);
    v.send({ type: 'read', seq: 2 });
    expect((await agent.next('read')).seq).toBe(2);
    agent.send({ type: 'read', conversationId: started.conversationId, seq: 1 });
    expect((await v.next('read')).by).toBe('agent');
    expect(plantedIn(JSON.stringify(agent.got), ['4111'])).toEqual([]);
    agent.ws.close();
    v.ws.close();
  });

  it('reconnect after a drop: resume from the last seq, resends de-duplicated, order kept', async () => {
    const v = await open();
    v.send({ type: 'start' });
    const s = await v.next('started');
    v.send({ type: 'message', clientId: 'm1', text: 'one' });
    await v.next('ack', (m) => m.clientId === 'm1');
    v.ws.terminate(); // network drop: no close handshake
    // the agent side keeps talking while the visitor is away (held by alice)
    service.accept(s.conversationId, 'alice');
    service.postAgent(s.conversationId, 'alice', 'r1', 'reply while away');
    const v2 = await open();
    v2.send({ type: 'resume', conversationId: s.conversationId, token: s.token, afterSeq: 1 });
    const again = await v2.next('started');
    expect(again.lastSeq).toBe(2);
    expect((await v2.next('message')).message).toMatchObject({ seq: 2, text: 'reply while away' });
    // the page did not know whether 'm1' arrived: it resends it, then a new one
    v2.send({ type: 'message', clientId: 'm1', text: 'one' });
    v2.send({ type: 'message', clientId: 'm2', text: 'two' });
    expect((await v2.next('ack', (m) => m.clientId === 'm1')).seq).toBe(1);
    expect((await v2.next('ack', (m) => m.clientId === 'm2')).seq).toBe(3);
    expect(service.history(s.conversationId).map((m) => m.text)).toEqual(['one', 'reply while away', 'two']);
    // a forged token resumes nothing
    const v3 = await open();
    v3.send({ type: 'resume', conversationId: s.conversationId, token: 'chat1.forged', afterSeq: 0 });
    expect((await v3.next('error')).code).toBe('EVX_ERR_CHAT_NOT_FOUND');
    v2.ws.close();
    v3.ws.close();
  });

  it("escalates to a call only with that call's caller token", async () => {
    const v = await open();
    v.send({ type: 'start' });
    const s = await v.next('started');
    v.send({ type: 'call', callId: 'call-1', callerToken: mintCallerToken(SECRET, 'call-2') });
    expect((await v.next('error')).code).toBe('EVX_ERR_WEBRTC_AUTH');
    v.send({ type: 'call', callId: 'call-1', callerToken: mintCallerToken(SECRET, 'call-1') });
    expect((await v.next('linked')).callId).toBe('call-1');
    expect(service.byCall('call-1')?.id).toBe(s.conversationId);
    v.ws.close();
  });

  it('refuses uploads with a clear error, and bad JSON; closes after repeated refusals', async () => {
    const v = await open();
    v.send({ type: 'upload', name: 'x.pdf', data: 'AAAA' });
    expect((await v.next('error')).code).toBe('EVX_ERR_CHAT_UPLOAD_REFUSED');
    v.ws.send('{not json');
    v.ws.send('[]');
    v.send({ type: 'message', clientId: 'x', text: 'before start' });
    v.send({ type: 'start', extra: 1 });
    expect(v.got.filter((m) => m.type === 'error').length).toBeGreaterThanOrEqual(1);
    expect(await v.closed()).toBe(1008);
    expect(v.got.filter((m) => m.type === 'error').map((m) => (m as { code: string }).code)).toContain('EVX_ERR_CHAT_PROTOCOL');
  });

  it('closes on a frame over maxFrameBytes (1009) and on a binary frame (1003); the server keeps serving', async () => {
    const v = await open();
    v.send({ type: 'start' });
    await v.next('started');
    v.send({ type: 'message', clientId: 'big', text: 'x'.repeat(FRAME * 2) });
    expect(await v.closed()).toBe(1009);
    const b = await open();
    b.ws.send(Buffer.from([1, 2, 3]));
    expect(await b.closed()).toBe(1003);
    const ok = await open();
    ok.send({ type: 'start' });
    expect((await ok.next('started')).conversationId).toBeTruthy();
    ok.ws.close();
  });

  it('rate-limits a flooding visitor: refused messages are not stored, the socket is closed', async () => {
    const v = await open();
    v.send({ type: 'start' });
    const s = await v.next('started');
    for (let i = 0; i < 60; i++) v.send({ type: 'message', clientId: `f${i}`, text: `flood ${i}` });
    expect(await v.closed()).toBe(1008);
    const stored = service.history(s.conversationId).length;
    expect(stored).toBeLessThanOrEqual(20);
    expect(stored).toBeGreaterThan(0);
    expect(v.got.some((m) => m.type === 'error' && m.code === 'EVX_ERR_CHAT_RATE_LIMITED')).toBe(true);
  });

  it('closes a socket that never says who it is, and terminates a half-open one (no pongs)', async () => {
    const silent = await open();
    expect(await silent.closed()).toBe(1008);
    const ws = new WebSocket(url, { origin, autoPong: false });
    const half = new Client(ws);
    await new Promise<void>((r) => ws.on('open', () => r()));
    half.send({ type: 'start' });
    await half.next('started');
    // the peer answers no pings: terminated without a close frame (1006 on this side)
    expect(await half.closed()).toBe(1006);
  });
});
