/**
 * Retention per channel on a real store through the retention sweep: chat messages and closed chats
 * follow privacy.retention.chatMessagesHours / chatsHours, e-mail cases' messages and closed cases
 * emailMessagesHours / emailCasesHours, each independently of the voice keys (transcriptsHours,
 * callsHours) and of each other; unset (0), they follow the voice keys as before. Files visitors
 * sent follow chatFilesHours (unset: chatMessagesHours), and go with their conversation.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testConversationService } from '../../helpers/conversations.js';
import { validateConfig } from '../../../appliance/config/load.js';
import { ChatFileRepo } from '../../../appliance/conversations/chatFiles.js';
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
    files: () => number;
    chat: string;
    email: string;
  }) => void,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'evx-conv-ret-ch-'));
  const store = Store.open(dir);
  try {
    let now = T0;
    const logger = createLogger({ level: 'silent', includePii: false });
    const service = testConversationService(store, dir, {
      redactor: null,
      logger,
      options: { maxChatsPerAgent: 3, maxMessagesBeforeDefault: 3, maxMessageChars: 2000 },
      now: () => now,
    });
    const chat = service.start({ channel: 'chat' });
    await service.postCustomer(chat.id, 'c1', 'chat words');
    const file = new ChatFileRepo(store.db, store.write.bind(store)).add({
      conversationId: chat.id,
      name: 'receipt.pdf',
      type: 'application/pdf',
      data: Buffer.from('%PDF-1.4'),
      at: now,
    });
    service.postCustomerFile(chat.id, 'f1', file.name, { id: file.id, name: file.name, type: file.type, bytes: file.bytes });
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
      files: () => (store.db.prepare('SELECT COUNT(*) AS n FROM conversation_files').get() as { n: number }).n,
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
      expect(at.messages(at.chat)).toBe(2); // the voice limits do not touch chats any more
      expect(at.files()).toBe(1); // chatFilesHours unset: files follow chatMessagesHours
      expect(at.exists(at.chat)).toBe(true);
      expect(at.exists(at.email)).toBe(false); // e-mail: emailCasesHours unset, callsHours (2 h)
      at.sweep(11);
      expect(at.messages(at.chat)).toBe(0);
      expect(at.files()).toBe(0);
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
      expect(at.messages(at.chat)).toBe(2);
      at.sweep(6);
      expect(at.exists(at.email)).toBe(false);
      expect(at.messages(at.chat)).toBe(2);
      at.sweep(101);
      expect(at.messages(at.chat)).toBe(0); // transcriptsHours, as before
      expect(at.exists(at.chat)).toBe(true);
      at.sweep(201);
      expect(at.exists(at.chat)).toBe(false);
    });
  });

  it('deletes files visitors sent by chatFilesHours, before their messages and chat; with the chat at the latest', async () => {
    await withConversations({ chatFilesHours: 2, chatMessagesHours: 10, chatsHours: 20 }, (at) => {
      at.sweep(1);
      expect(at.files()).toBe(1);
      at.sweep(3);
      expect(at.files()).toBe(0);
      expect(at.messages(at.chat)).toBe(2); // the message that showed it stays (its download is gone)
    });
    await withConversations({ chatFilesHours: 100, chatMessagesHours: 100, chatsHours: 5 }, (at) => {
      at.sweep(6);
      expect(at.exists(at.chat)).toBe(false);
      expect(at.files()).toBe(0); // deleted with its conversation
    });
  });

  it('refuses a negative or fractional limit, as for the other retention keys', () => {
    expect(() => validateConfig({ privacy: { retention: { chatMessagesHours: -1 } } })).toThrow();
    expect(() => validateConfig({ privacy: { retention: { emailCasesHours: 1.5 } } })).toThrow();
  });
});
