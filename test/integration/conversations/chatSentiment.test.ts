/**
 * The agent sees the customer's sentiment on each of their messages in the chat socket (live and in
 * the history of an accepted chat); the visitor's copy never carries it; Mandarin gets none (no
 * lexicon, as on the transcript path).
 */
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import websocketPlugin from '@fastify/websocket';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../../appliance/api/errors.js';
import { CallerHasher } from '../../../appliance/calls/callerHash.js';
import type { ChatServerMessage } from '../../../appliance/conversations/chatProtocol.js';
import { CHAT_SOCKET_PATH, registerChatSocket } from '../../../appliance/conversations/chatSocket.js';
import { ConversationRepo } from '../../../appliance/conversations/conversationRepo.js';
import { ConversationService } from '../../../appliance/conversations/conversationService.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { Redactor } from '../../../appliance/privacy/redactor.js';
import { Store } from '../../../appliance/store/database.js';

interface Ws {
  send(data: string): void;
  close(): void;
  on(event: 'message', l: (data: Buffer) => void): void;
  on(event: 'open', l: () => void): void;
  on(event: 'error', l: (err: Error) => void): void;
}
const WebSocket = createRequire(import.meta.url)('ws') as new (url: string, opts?: { origin?: string }) => Ws;

class Client {
  readonly got: ChatServerMessage[] = [];
  private waiters: (() => void)[] = [];
  constructor(readonly ws: Ws) {
    ws.on('message', (d) => {
      this.got.push(JSON.parse(d.toString('utf8')) as ChatServerMessage);
      for (const w of this.waiters.splice(0)) w();
    });
  }
  send(m: object): void {
    this.ws.send(JSON.stringify(m));
  }
  async next<T extends ChatServerMessage['type']>(type: T, pred: (m: Extract<ChatServerMessage, { type: T }>) => boolean = () => true) {
    for (;;) {
      const found = this.got.find((m): m is Extract<ChatServerMessage, { type: T }> => m.type === type && pred(m as never));
      if (found !== undefined) return found;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
}

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
    const service = new ConversationService({
      repo: new ConversationRepo(store.db, store.write.bind(store)),
      redactor: new Redactor(),
      hasher: CallerHasher.fromDataDir(dir),
      intent: null,
      routing: null,
      agentGroups: () => [],
      logger,
      options: { maxChatsPerAgent: 3, maxMessagesBeforeDefault: 3, maxMessageChars: 1000 },
    });
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

  const open = () =>
    new Promise<Client>((resolve, reject) => {
      const ws = new WebSocket(url, { origin });
      const c = new Client(ws);
      ws.on('open', () => resolve(c));
      ws.on('error', reject);
    });

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
