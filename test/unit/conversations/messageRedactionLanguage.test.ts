/**
 * Messages of a Chinese conversation (a chat started with language 'zh', an e-mail case written in
 * Chinese) are redacted by the Chinese rules before they are stored: the English rules, which the
 * service used for every message, leave a mainland mobile, a resident ID or a name after 我叫 as typed.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { CallerHasher } from '../../../appliance/calls/callerHash.js';
import { ConversationRepo } from '../../../appliance/conversations/conversationRepo.js';
import { ConversationService } from '../../../appliance/conversations/conversationService.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { Redactor } from '../../../appliance/privacy/redactor.js';
import { Store } from '../../../appliance/store/database.js';
import { scratchDir } from '../../helpers/paths.js';

describe('conversation messages are redacted in the conversation language', () => {
  let dir = '';
  let store: Store | null = null;
  afterEach(() => {
    store?.close();
    store = null;
    rmSync(dir, { recursive: true, force: true });
  });

  function service(): ConversationService {
    dir = scratchDir('conv-zh');
    store = Store.open(dir);
    return new ConversationService({
      repo: new ConversationRepo(store.db, store.write.bind(store)),
      redactor: new Redactor(),
      hasher: CallerHasher.fromDataDir(dir),
      intent: null,
      routing: null,
      agentGroups: () => [],
      logger: createLogger({ level: 'silent', includePii: false }),
      options: { maxChatsPerAgent: 2, maxMessagesBeforeDefault: 3, maxMessageChars: 2000 },
      now: () => 1_800_000_000_000,
    });
  }

  it('a Chinese chat: mobile, resident ID and name are not stored', async () => {
    const s = service();
    const c = s.start({ channel: 'chat', language: 'zh' });
    const m = await s.postCustomer(c.id, 'v-1', '我叫王小明，手机号是13800138000，身份证号码是11010519491231002X');
    expect(m.text).not.toMatch(/王小明|13800138000|11010519491231002X/);
    expect(m.text).toContain('[PHONE]');
    expect(m.redactions).toBeGreaterThanOrEqual(3);
    const mail = await s.postCustomer(c.id, 'v-2', '我的邮箱是 wang.xm+bank@qq.com');
    expect(mail.text).toBe('我的邮箱是 [EMAIL]');
    const stored = s
      .history(c.id)
      .map((x) => x.text)
      .join('\n');
    expect(stored).not.toMatch(/王小明|13800138000|11010519491231002X|wang\.xm/);
  });

  it('a Chinese chat with English words in it: the English rules still apply', async () => {
    const s = service();
    const c = s.start({ channel: 'chat', language: 'zh' });
    const m = await s.postCustomer(c.id, 'v-1', 'Hello, my name is John Smith. 我的手机号是13800138000');
    expect(m.text).toBe('Hello, my name is [NAME]. 我的手机号是[PHONE]');
    expect(m.redactions).toBe(2);
  });

  it('a chat started without a language: Chinese text typed in it still gets the Chinese rules', async () => {
    const s = service();
    const c = s.start({ channel: 'chat' });
    expect(c.language).toBe('en');
    const m = await s.postCustomer(c.id, 'v-1', '你好，我叫王小明，我的手机号是13800138000');
    expect(m.text).toBe('你好，我叫[NAME]，我的手机号是[PHONE]');
    expect(m.redactions).toBe(2);
  });

  it('a Chinese e-mail case: the subject too', () => {
    const s = service();
    const c = s.start({ channel: 'email', language: 'zh', subject: '请回电，手机号是13800138000' });
    expect(c.subject).toBe('请回电，手机号是[PHONE]');
  });

  it('an English conversation keeps the English rules', async () => {
    const s = service();
    const c = s.start({ channel: 'chat' });
    const m = await s.postCustomer(c.id, 'v-1', 'my card 4111 1111 1111 1111 was stolen');
    expect(m.text).toBe('my card [CARD] was stolen');
  });
});
