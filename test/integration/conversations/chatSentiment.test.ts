/**
 * The agent sees the customer's sentiment on each of their messages in the chat socket (live and in
 * the history of an accepted chat); the visitor's copy never carries it; Mandarin gets none (no
 * lexicon, as on the transcript path).
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
import { createLogger } from '../../../appliance/log/logger.js';
import { Store } from '../../../appliance/store/database.js';
import { openChat } from '../../helpers/chatSocketClient.js';

describe('chat sentiment for the agent', () => {
  let dir: string;
  let store: Store;
  let app: FastifyInstance;
  let url: string;
  let origin: string;
  let socket: { close(): void };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'evx-chat-sent-'));
    store = Store.open(dir);
    const logger = createLogger({ level: 'silent', includePii: false });
    const service = testConversationService(store, dir, { logger });
    app = Fastify({ logger: false });
    installErrorHandling(app, logger);
    await app.register(websocketPlugin);
    await app.register(async (instance) => {
      socket = registerChatSocket(instance, {
        service,
        secret: Buffer.alloc(32, 7),
        verifyAgent: (t) => (t === 'agent-token-alice' ? { subject: 'alice', expiresAtMs: Date.now() + 3_600_000 } : undefined),
        verifyCallerToken: () => false,
        logger,
        options: {
          allowedOrigins: [],
          maxFrameBytes: 4096,
          visitorMessagesPerMinute: 100,
          ipMessagesPerMinute: 1000,
          ipSessionsPerMinute: 1000,
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

  const open = () => openChat(url, origin);

  it('history and live messages carry the sentiment for the agent only', async () => {
    const agent = await open();
    agent.send({ type: 'agent', token: 'agent-token-alice' });
    await agent.next('agent-ready');
    const v = await open();
    v.send({ type: 'start', language: 'en' });
    const started = await v.next('started');
    v.send({ type: 'message', clientId: 'c1', text: 'This is awful, I am furious and nobody helps me' });
    await v.next('ack', (m) => m.clientId === 'c1');
    await agent.next('offers', (m) => m.conversations.some((c) => c.conversationId === started.conversationId));
    agent.send({ type: 'accept', conversationId: started.conversationId });
    const hist = await agent.next('history');
    expect(hist.messages.map((m) => m.sentiment)).toEqual(['negative']);
    v.send({ type: 'message', clientId: 'c2', text: 'Thank you, that is great, I really appreciate it!' });
    const live = await agent.next('message', (m) => m.message.seq === 2);
    expect(live.message.sentiment).toBe('positive');
    agent.send({ type: 'message', conversationId: started.conversationId, clientId: 'a1', text: 'Happy to help, wonderful!' });
    const own = await agent.next('message', (m) => m.message.seq === 3);
    expect(own.message.sentiment).toBeUndefined(); // the agent's own lines are not scored for them
    await v.next('message', (m) => m.message.seq === 3);
    expect(v.got.some((m) => JSON.stringify(m).includes('sentiment'))).toBe(false);
    agent.ws.close();
    v.ws.close();
  });

  it('Mandarin messages get no sentiment', async () => {
    const agent = await open();
    agent.send({ type: 'agent', token: 'agent-token-alice' });
    await agent.next('agent-ready');
    const v = await open();
    v.send({ type: 'start', language: 'zh' });
    const started = await v.next('started');
    v.send({ type: 'message', clientId: 'z1', text: '太糟糕了，我很生气' });
    await v.next('ack');
    await agent.next('offers', (m) => m.conversations.some((c) => c.conversationId === started.conversationId));
    agent.send({ type: 'accept', conversationId: started.conversationId });
    const hist = await agent.next('history', (m) => m.conversation.conversationId === started.conversationId);
    expect(hist.messages[0]!.sentiment).toBeUndefined();
    agent.ws.close();
    v.ws.close();
  });
});
