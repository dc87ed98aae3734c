/**
 * An agent's chat socket lasts no longer than the agent's place on the roster: once the agent is
 * removed, a customer's next message to a chat they held is not delivered, the socket closes
 * (CREDENTIAL_ENDED), and the same (unexpired) agent token signs in no more.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import websocketPlugin from '@fastify/websocket';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConversationService } from '../../helpers/conversations.js';
import { installErrorHandling } from '../../../appliance/api/errors.js';
import { CREDENTIAL_ENDED } from '../../../appliance/auth/socketClose.js';
import { CHAT_SOCKET_PATH, registerChatSocket } from '../../../appliance/conversations/chatSocket.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { Store } from '../../../appliance/store/database.js';
import { openChat, type Client } from '../../helpers/chatSocketClient.js';
import type { ChatServerMessage } from '../../../appliance/conversations/chatProtocol.js';

const roster = new Set(['alice', 'bob']);

/** Whichever comes first: the socket closing, or a message of `type` reaching it. */
const closedOr = (c: Client, type: ChatServerMessage['type']) =>
  Promise.race([
    c.closed().then((code) => `closed ${code}`),
    c.next(type).then(
      () => `got ${type}`,
      () => new Promise<string>(() => undefined),
    ),
  ]);

describe('chat socket of an agent removed from the roster', () => {
  let dir: string;
  let store: Store;
  let app: FastifyInstance;
  let url: string;
  let origin: string;
  let socket: { close(): void };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'evx-chat-revoke-'));
    store = Store.open(dir);
    const logger = createLogger({ level: 'silent', includePii: false });
    const service = testConversationService(store, dir, { logger });
    app = Fastify({ logger: false });
    installErrorHandling(app, logger);
    await app.register(websocketPlugin, { options: { maxPayload: 64 * 1024 } });
    await app.register(async (instance) => {
      socket = registerChatSocket(instance, {
        service,
        secret: Buffer.alloc(32, 9),
        // tokens stay valid for an hour: only the roster changes
        verifyAgent: (t) => (t.startsWith('token-') ? { subject: t.slice(6), expiresAtMs: Date.now() + 3_600_000 } : undefined),
        agentActive: (agentId) => roster.has(agentId),
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

  it('gets no customer message after the removal, is closed, and cannot sign in again', async () => {
    const agent = await openChat(url, origin);
    agent.send({ type: 'agent', token: 'token-alice' });
    await agent.next('agent-ready');
    const v = await openChat(url, origin);
    v.send({ type: 'start', language: 'en' });
    const { conversationId } = await v.next('started');
    v.send({ type: 'message', clientId: 'c1', text: 'my account number is 12345678' });
    await agent.next('offers', (m) => m.conversations.some((c) => c.conversationId === conversationId));
    agent.send({ type: 'accept', conversationId });
    await agent.next('history');

    roster.delete('alice');
    v.send({ type: 'message', clientId: 'c2', text: 'my new address is 1 High Street' });
    expect(await closedOr(agent, 'message')).toBe(`closed ${CREDENTIAL_ENDED}`);
    expect(agent.got.filter((m) => m.type === 'message')).toEqual([]);
    await v.next('ack', (m) => m.clientId === 'c2');

    const again = await openChat(url, origin);
    again.send({ type: 'agent', token: 'token-alice' });
    expect(await closedOr(again, 'agent-ready')).toBe('closed 1008');
    v.ws.close();
  });

  it('a removed agent can send nothing more to a chat it held', async () => {
    const agent = await openChat(url, origin);
    agent.send({ type: 'agent', token: 'token-bob' });
    await agent.next('agent-ready');
    const v = await openChat(url, origin);
    v.send({ type: 'start', language: 'en' });
    const { conversationId } = await v.next('started');
    v.send({ type: 'message', clientId: 'c1', text: 'hello' });
    await agent.next('offers', (m) => m.conversations.some((c) => c.conversationId === conversationId));
    agent.send({ type: 'accept', conversationId });
    await agent.next('history');

    roster.delete('bob');
    agent.send({ type: 'message', conversationId, clientId: 'a1', text: 'please read me your card number' });
    expect(await closedOr(agent, 'ack')).toBe(`closed ${CREDENTIAL_ENDED}`);
    // the visitor is still there; the agent's words never reached the chat
    v.send({ type: 'message', clientId: 'c2', text: 'anyone?' });
    await v.next('ack', (m) => m.clientId === 'c2');
    expect(v.got.some((m) => m.type === 'message' && m.message.from === 'agent')).toBe(false);
    v.ws.close();
  });

  it('an agent still on the roster goes on', async () => {
    roster.add('carol');
    const agent = await openChat(url, origin);
    agent.send({ type: 'agent', token: 'token-carol' });
    await agent.next('agent-ready');
    roster.delete('somebody-else');
    const v = await openChat(url, origin);
    v.send({ type: 'start', language: 'en' });
    const { conversationId } = await v.next('started');
    v.send({ type: 'message', clientId: 'c1', text: 'hello' });
    await agent.next('offers', (m) => m.conversations.some((c) => c.conversationId === conversationId));
    expect(agent.closedWith).toBeNull();
    agent.ws.close();
    v.ws.close();
  });
});
