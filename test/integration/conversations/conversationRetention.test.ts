/**
 * Retention per channel on a real store through the retention sweep: chat messages and closed chats
 * follow privacy.retention.chatMessagesHours / chatsHours, e-mail cases' messages and closed cases
 * emailMessagesHours / emailCasesHours, each independently of the voice keys (transcriptsHours,
 * callsHours) and of each other; unset (0), they follow the voice keys as before.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CallerHasher } from '../../../appliance/calls/callerHash.js';
import { validateConfig } from '../../../appliance/config/load.js';
import { ConversationRepo } from '../../../appliance/conversations/conversationRepo.js';
import { ConversationService } from '../../../appliance/conversations/conversationService.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { RetentionService } from '../../../appliance/retention/retention.js';
import { storeRetentionClasses } from '../../../appliance/retention/storeClasses.js';
import { Store } from '../../../appliance/store/database.js';

const HOUR_MS = 3_600_000;
const T0 = 1_700_000_000_000;

/** A store with a closed chat and a closed e-mail case, one message each, written at T0; a sweep at any time. */
async function withConversations(
  retention: Record<string, number>,
  body: (at: {
    sweep: (hoursLater: number) => void;
    messages: (id: string) => number;
    exists: (id: string) => boolean;
    chat: string;
    email: string;
  }) => void,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'evx-conv-ret-ch-'));
  const store = Store.open(dir);
  try {
    let now = T0;
    const logger = createLogger({ level: 'silent', includePii: false });
    const service = new ConversationService({
      repo: new ConversationRepo(store.db, store.write.bind(store)),
      redactor: null,
      hasher: CallerHasher.fromDataDir(dir),
      intent: null,
      routing: null,
      agentGroups: () => [],
      logger,
      options: { maxChatsPerAgent: 3, maxMessagesBeforeDefault: 3, maxMessageChars: 2000 },
      now: () => now,
    });
    const chat = service.start({ channel: 'chat' });
    await service.postCustomer(chat.id, 'c1', 'chat words');
    service.close(chat.id, { side: 'visitor' });
    const email = service.start({ channel: 'email' });
    await service.postCustomer(email.id, 'e1', 'mail words');
    service.close(email.id, { side: 'visitor' });
    // validated as the appliance reads it: defaults filled in, bad values refused
    const config = validateConfig({ privacy: { retention } });
    const sweeper = new RetentionService({
      classes: storeRetentionClasses(store, config.privacy.retention),
      intervalMs: HOUR_MS,
      logger,
      now: () => now,
    });
    body({
      sweep: (hoursLater) => {
        now = T0 + hoursLater * HOUR_MS;
        sweeper.sweep();
      },
      messages: (id) => service.history(id).length,
      exists: (id) => service.find(id) !== undefined,
      chat: chat.id,
      email: email.id,
    });
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('conversation retention per channel', () => {
  it('keeps chat messages and chats by their own keys past the voice limits; e-mail follows the voice keys when unset', async () => {
    await withConversations({ transcriptsHours: 1, callsHours: 2, chatMessagesHours: 10, chatsHours: 20 }, (at) => {
      at.sweep(3);
      expect(at.messages(at.chat)).toBe(1); // the voice limits do not touch chats any more
      expect(at.exists(at.chat)).toBe(true);
      expect(at.exists(at.email)).toBe(false); // e-mail: emailCasesHours unset, callsHours (2 h)
      at.sweep(11);
      expect(at.messages(at.chat)).toBe(0);
      expect(at.exists(at.chat)).toBe(true);
      at.sweep(21);
      expect(at.exists(at.chat)).toBe(false);
    });
  });

  it('expires e-mail messages and cases sooner than transcripts and calls; chats stay with the voice keys', async () => {
    await withConversations({ transcriptsHours: 100, callsHours: 200, emailMessagesHours: 1, emailCasesHours: 5 }, (at) => {
      at.sweep(2);
      expect(at.messages(at.email)).toBe(0);
      expect(at.exists(at.email)).toBe(true);
      expect(at.messages(at.chat)).toBe(1);
      at.sweep(6);
      expect(at.exists(at.email)).toBe(false);
      expect(at.messages(at.chat)).toBe(1);
      at.sweep(101);
      expect(at.messages(at.chat)).toBe(0); // transcriptsHours, as before
      expect(at.exists(at.chat)).toBe(true);
      at.sweep(201);
      expect(at.exists(at.chat)).toBe(false);
    });
  });

  it('refuses a negative or fractional limit, as for the other retention keys', () => {
    expect(() => validateConfig({ privacy: { retention: { chatMessagesHours: -1 } } })).toThrow();
    expect(() => validateConfig({ privacy: { retention: { emailCasesHours: 1.5 } } })).toThrow();
  });
});
