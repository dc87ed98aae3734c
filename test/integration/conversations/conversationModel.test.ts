/**
 * The conversation model on a real store, the shipped intent model and the transcript redactor: a
 * typed card number is redacted before storage (searched for in the bytes of the SQLite file and
 * its WAL), messages are ordered and de-duplicated by client id, and a chat is routed by intent.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallerHasher } from '../../../appliance/calls/callerHash.js';
import { ConversationRepo } from '../../../appliance/conversations/conversationRepo.js';
import { ConversationService, type ConversationRouting } from '../../../appliance/conversations/conversationService.js';
import { messageIntentOf } from '../../../appliance/conversations/messageIntent.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { IntentClassifier } from '../../../appliance/intent/classifier.js';
import { defaultIntentSidecar } from '../../../appliance/intent/modelPaths.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { Redactor } from '../../../appliance/privacy/redactor.js';
import { DEFAULT_RULES, type SkillGroup } from '../../../appliance/routing/types.js';
import { storeRetentionClasses } from '../../../appliance/retention/storeClasses.js';
import { Store } from '../../../appliance/store/database.js';
import { plantedIn } from '../../helpers/planted.js';

const CARD = '4111 1111 1111 1111';
const CARD_DIGITS = '4111111111111111';

function group(id: string, intents: string[]): SkillGroup {
  return { id, name: id, intents, adjacent: [], overflow: { afterMs: 0, action: 'none' } } as unknown as SkillGroup;
}

const routing: ConversationRouting = {
  configured: true,
  groupList: () => [group('general', []), group('cards', ['lost_or_stolen_card', 'card_arrival', 'compromised_card'])],
  rules: () => ({ ...DEFAULT_RULES, defaultGroup: 'general' }),
};

describe('conversation model', () => {
  let dir: string;
  let store: Store;
  let clf: IntentClassifier;
  let service: ConversationService;
  const logLines: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'evx-conv-'));
    store = Store.open(dir);
    clf = await IntentClassifier.load(defaultIntentSidecar());
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    });
    service = new ConversationService({
      repo: new ConversationRepo(store.db, store.write.bind(store)),
      redactor: new Redactor(),
      hasher: CallerHasher.fromDataDir(dir),
      intent: messageIntentOf({ en: clf }),
      routing,
      agentGroups: (agentId) => (agentId === 'alice' ? ['cards'] : ['general']),
      logger: createLogger({ level: 'debug', includePii: false, destination }),
      options: { maxChatsPerAgent: 2, maxMessagesBeforeDefault: 3, maxMessageChars: 2000 },
    });
  });

  afterAll(async () => {
    await clf.close();
    if (store.isOpen) store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('redacts a typed card number before storage: not in the SQLite file, its WAL, the log or the events', async () => {
    const seen: string[] = [];
    const off = service.events.on('message', (e) => seen.push(JSON.stringify(e)));
    const c = service.start({ channel: 'chat', name: 'Ada Lovelace', email: 'ada@example.org', customerId: 'C-991' });
    const m = await service.postCustomer(c.id, 'v-1', `my card ${CARD} was stolen, please block it`);
    off();
    expect(m.text).not.toContain('1111');
    expect(m.text).toContain('[CARD]');
    expect(m.redactions).toBeGreaterThan(0);
    // routed on the first message: the intent is taken from the redacted text (raw digits make it out of scope)
    expect(service.get(c.id)).toMatchObject({ groupId: 'cards', intent: 'lost_or_stolen_card', routeReason: 'intent.group' });
    expect(seen.join('')).toContain('[CARD]');
    // the identifiers are stored only as hashes
    const row = store.db.prepare(`SELECT * FROM conversations WHERE id = ?`).get(c.id) as Record<string, unknown>;
    // as written: a case-blind /ada/ also finds the letters inside a hex hash of the row, by chance
    expect(plantedIn(JSON.stringify(row), ['Ada', 'Lovelace', 'ada@example', 'C-991'])).toEqual([]);
    expect(row['email_hash']).toMatch(/^[0-9a-f]{32}$/);
    const files = readdirSync(dir).filter(
      (f) => f.endsWith('.sqlite') || f.endsWith('.sqlite-wal') || f.endsWith('.db') || f.endsWith('-wal'),
    );
    expect(files.some((f) => f.endsWith('-wal'))).toBe(true);
    for (const f of files) {
      const bytes = readFileSync(join(dir, f));
      expect(bytes.includes(Buffer.from(CARD)), f).toBe(false);
      expect(bytes.includes(Buffer.from(CARD_DIGITS)), f).toBe(false);
      // the redacted text did reach the store (so the search can find text at all)
      if (f.endsWith('-wal')) expect(bytes.includes(Buffer.from('was stolen, please block it'))).toBe(true);
    }
    const log = logLines.join('');
    expect(log).toContain('conversation started');
    expect(plantedIn(log, ['1111', 'Lovelace'])).toEqual([]);
    for (const e of seen) expect(plantedIn(e, ['1111'])).toEqual([]);
  });

  it('routes a chat by the intent of the visitor message to the skill group, and offers it to that group only', async () => {
    const c = service.start({ channel: 'chat' });
    await service.postCustomer(c.id, 'a', 'I lost my card, someone stole my wallet');
    const routed = service.get(c.id);
    expect(routed.groupId).toBe('cards');
    expect(routed.intent).toBe('lost_or_stolen_card');
    expect(routed.routeReason).toBe('intent.group');
    expect(service.offersFor('alice').map((x) => x.id)).toContain(c.id);
    expect(service.offersFor('bob').map((x) => x.id)).not.toContain(c.id);
  });

  it('sends a chat without a usable intent to the default group after maxMessagesBeforeDefault messages', async () => {
    const c = service.start({ channel: 'chat' });
    await service.postCustomer(c.id, '1', 'hello');
    expect(service.get(c.id).groupId).toBeNull();
    await service.postCustomer(c.id, '2', 'hi there');
    await service.postCustomer(c.id, '3', 'anyone?');
    expect(service.get(c.id).groupId).toBe('general');
  });

  it('orders messages by seq and de-duplicates resends by client id', async () => {
    const c = service.start({ channel: 'chat' });
    const a = await service.postCustomer(c.id, 'x1', 'first');
    const again = await service.postCustomer(c.id, 'x1', 'first');
    const b = await service.postCustomer(c.id, 'x2', 'second');
    expect(again.seq).toBe(a.seq);
    expect([a.seq, b.seq]).toEqual([1, 2]);
    service.accept(c.id, 'bob');
    const r = service.postAgent(c.id, 'bob', 'x1', 'agent reply'); // the same client id from the other side is another message
    expect(r.seq).toBe(3);
    expect(service.history(c.id).map((m) => [m.seq, m.sender, m.text])).toEqual([
      [1, 'visitor', 'first'],
      [2, 'visitor', 'second'],
      [3, 'agent', 'agent reply'],
    ]);
    expect(service.history(c.id, 2).map((m) => m.seq)).toEqual([3]);
  });

  it('holds concurrent chats per agent up to the limit; a taken chat cannot be taken again; closed chats refuse messages', async () => {
    const mk = async () => {
      const c = service.start({ channel: 'chat' });
      await service.postCustomer(c.id, 'm', 'my card has not arrived yet');
      return c.id;
    };
    const ids = [await mk(), await mk(), await mk()];
    for (const held of service.heldBy('alice')) service.close(held.id, { side: 'agent', agentId: 'alice' });
    service.accept(ids[0]!, 'alice');
    service.accept(ids[1]!, 'alice');
    const code = (fn: () => unknown) => {
      try {
        fn();
        return 'none';
      } catch (err) {
        return isEdgeVoxError(err) ? err.code : 'other';
      }
    };
    expect(code(() => service.accept(ids[2]!, 'alice'))).toBe('EVX_ERR_CHAT_AGENT_FULL');
    expect(code(() => service.accept(ids[0]!, 'bob'))).toBe('EVX_ERR_CHAT_TAKEN');
    expect(code(() => service.postAgent(ids[0]!, 'bob', 'z', 'hi'))).toBe('EVX_ERR_CHAT_NOT_FOUND');
    service.close(ids[0]!, { side: 'visitor' });
    await expect(service.postCustomer(ids[0]!, 'late', 'still there?')).rejects.toMatchObject({ code: 'EVX_ERR_CHAT_CLOSED' });
    expect(code(() => service.accept(ids[2]!, 'alice'))).toBe('none');
  });

  it('links an escalated call and finds the conversation by call id', async () => {
    const c = service.start({ channel: 'chat' });
    await service.postCustomer(c.id, '1', 'my card was stolen');
    service.linkCall(c.id, 'call-123');
    expect(service.byCall('call-123')?.id).toBe(c.id);
  });
});

describe('conversation retention', () => {
  it('purges messages past the transcripts limit and closed conversations past the calls limit; open ones stay', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evx-conv-ret-'));
    const store = Store.open(dir);
    try {
      let now = 1_000_000;
      const service = new ConversationService({
        repo: new ConversationRepo(store.db, store.write.bind(store)),
        redactor: new Redactor(),
        hasher: CallerHasher.fromDataDir(dir),
        intent: null,
        routing: null,
        agentGroups: () => [],
        logger: createLogger({ level: 'silent', includePii: false }),
        options: { maxChatsPerAgent: 3, maxMessagesBeforeDefault: 3, maxMessageChars: 2000 },
        now: () => now,
      });
      const old = service.start({ channel: 'chat' });
      await service.postCustomer(old.id, 'a', 'old words');
      service.close(old.id, { side: 'visitor' });
      const open = service.start({ channel: 'chat' });
      await service.postCustomer(open.id, 'b', 'old words of an open chat');
      now = 5_000_000;
      await service.postCustomer(open.id, 'c', 'new words');
      const classes = new Map(
        storeRetentionClasses(store, { transcriptsHours: 1, callsHours: 1 } as Parameters<typeof storeRetentionClasses>[1]).map((c) => [
          c.name,
          c,
        ]),
      );
      expect(classes.get('chatMessages')!.purge(2_000_000)).toBe(2);
      expect(classes.get('chats')!.purge(2_000_000)).toBe(1);
      expect(service.find(old.id)).toBeUndefined();
      expect(service.history(open.id).map((m) => m.text)).toEqual(['new words']);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
