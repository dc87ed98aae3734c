/**
 * Chats through the call analysis pipeline on a real store: each message's sentiment is stored as it
 * arrives (scores only), and at close the conversation's sentiment, a QA scorecard with the default
 * rules (silence and talk-over not applicable, never failed) and a summary are stored. Mandarin gets
 * no sentiment (no lexicon, as for transcripts) but is scored and summarised; a typed card number is
 * in none of it; a chat the agent never answered scores no agent rule.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../../appliance/api/errors.js';
import { registerConversationAnalysisRoutes } from '../../../appliance/api/routes/conversationAnalysis.js';
import { CallerHasher } from '../../../appliance/calls/callerHash.js';
import { ConversationAnalysis, scoreConversation } from '../../../appliance/conversations/conversationAnalysis.js';
import { ConversationAnalysisRepo, type ConversationQaRow } from '../../../appliance/conversations/conversationAnalysisRepo.js';
import { ConversationRepo } from '../../../appliance/conversations/conversationRepo.js';
import { ConversationService, type ConversationRouting } from '../../../appliance/conversations/conversationService.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { Redactor } from '../../../appliance/privacy/redactor.js';
import { DEFAULT_RULES as QA_RULES } from '../../../appliance/qa/rules.js';
import { DEFAULT_RULES, type SkillGroup } from '../../../appliance/routing/types.js';
import { Store } from '../../../appliance/store/database.js';
import { plantedIn } from '../../helpers/planted.js';

function group(id: string, intents: string[]): SkillGroup {
  return { id, name: id, intents, adjacent: [], overflow: { afterMs: 0, action: 'none' } } as unknown as SkillGroup;
}

const routing: ConversationRouting = {
  configured: true,
  groupList: () => [group('general', []), group('cards', ['lost_or_stolen_card'])],
  rules: () => ({ ...DEFAULT_RULES, defaultGroup: 'general' }),
};

describe('conversation analysis', () => {
  let dir: string;
  let store: Store;
  let service: ConversationService;
  let repo: ConversationRepo;
  let analysis: ConversationAnalysis;
  let clock = 1_800_000_000_000;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'evx-conv-an-'));
    store = Store.open(dir);
    repo = new ConversationRepo(store.db, store.write.bind(store));
    const now = () => (clock += 1000);
    service = new ConversationService({
      repo,
      redactor: new Redactor(),
      hasher: CallerHasher.fromDataDir(dir),
      // A stand-in for the intent models: card words are lost_or_stolen_card.
      intent: (text) =>
        Promise.resolve(/card|卡/i.test(text) ? { intent: 'lost_or_stolen_card', confidence: 0.9, outOfScope: false, top: [] } : null),
      routing,
      agentGroups: () => ['cards', 'general'],
      logger: createLogger({ level: 'silent', includePii: false }),
      options: { maxChatsPerAgent: 5, maxMessagesBeforeDefault: 1, maxMessageChars: 2000 },
      now,
    });
    analysis = new ConversationAnalysis({
      service,
      repo: new ConversationAnalysisRepo(store.db, store.write.bind(store)),
      rules: () => ({ version: 0, rules: QA_RULES }),
      qa: true,
      passScore: 80,
      messages: (id) => repo.messagesAfter(id, 0, 5000),
      logger: createLogger({ level: 'silent', includePii: false }),
      audit: store.audit,
      now,
    });
  });

  afterAll(async () => {
    await analysis.close();
    if (store.isOpen) store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const sentiments = (id: string) =>
    store.db.prepare(`SELECT seq, label, compound FROM conversation_message_sentiment WHERE conversation_id = ? ORDER BY seq`).all(id) as {
      seq: number;
      label: string;
      compound: number;
    }[];

  it('stores each message sentiment, and at close sentiment, QA (audio rules na) and a summary', async () => {
    const c = service.start({ channel: 'chat' });
    await service.postCustomer(c.id, 'v1', 'My card 4111 1111 1111 1111 was stolen and this is awful, I am really angry');
    service.accept(c.id, 'alice');
    service.postAgent(c.id, 'alice', 'a1', 'Hello, I am sorry to hear that. I guarantee you will not lose any money.');
    service.postAgent(c.id, 'alice', 'a2', 'I have blocked the card and I will send you a new one by Friday.');
    await service.postCustomer(c.id, 'v2', 'Thank you so much, that is great help!');
    const rows = sentiments(c.id);
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(rows[0]!.label).toBe('negative');
    expect(rows[3]!.label).toBe('positive');
    expect(Object.keys(rows[0]!)).not.toContain('text');

    expect(analysis.get(c.id)).toBeUndefined();
    service.close(c.id, { side: 'agent', agentId: 'alice' });
    await analysis.idle();
    const a = analysis.get(c.id)!;
    expect(a.channel).toBe('chat');
    // The customer's side only: one negative, one positive message; ended positive.
    expect(a.sentiment.scored).toBe(2);
    expect(a.sentiment.counts).toEqual({ positive: 1, neutral: 0, negative: 1 });
    expect(a.sentiment.last).toBe('positive');
    const outcome = (id: string) => a.qa.results.find((r) => r.ruleId === id)?.outcome;
    expect(outcome('silence')).toBe('na');
    expect(outcome('talk-over')).toBe('na');
    expect(outcome('greeting')).toBe('pass');
    expect(outcome('no-over-promising')).toBe('fail');
    expect(outcome('disclosure')).toBe('fail');
    expect(a.qa.passed).toBe(false); // a critical rule failed
    // Hits point at the agent's message by seq.
    expect(a.qa.results.find((r) => r.ruleId === 'no-over-promising')!.hits[0]!.utteranceId).toBe(2);
    expect(a.summary.reason.intent).toBe('lost_or_stolen_card');
    expect(a.summary.actions.length).toBeGreaterThan(0);
    const stored = JSON.stringify(store.db.prepare(`SELECT * FROM conversation_analysis`).all());
    expect(plantedIn(stored, ['1111', '4111'])).toEqual([]);
  });

  it('Mandarin: no sentiment (no lexicon), but QA and summary', async () => {
    const c = service.start({ channel: 'chat', language: 'zh' });
    await service.postCustomer(c.id, 'v1', '我的银行卡丢了，怎么办');
    service.accept(c.id, 'alice');
    service.postAgent(c.id, 'alice', 'a1', '您好，我马上帮您冻结这张卡。');
    service.close(c.id, { side: 'visitor' });
    await analysis.idle();
    expect(sentiments(c.id)).toEqual([]);
    const a = analysis.get(c.id)!;
    expect(a.sentiment).toMatchObject({ label: null, compound: null, scored: 0 });
    expect(a.qa.results.find((r) => r.ruleId === 'greeting')!.outcome).toBe('pass');
    expect(a.summary.language).toBe('zh');
  });

  it('a chat no agent answered: agent rules na, no score; hostile text is only scored, never failed', async () => {
    const c = service.start({ channel: 'chat' });
    const hostile = ['\u0000\u202e'.repeat(50), '😡'.repeat(500), '[CARD] '.repeat(200), 'a'.repeat(1999)];
    for (const [i, t] of hostile.entries()) await service.postCustomer(c.id, `h${i}`, t);
    service.close(c.id, { side: 'visitor' });
    await analysis.idle();
    const a = analysis.get(c.id)!;
    expect(a.qa.score).toBeNull();
    expect(a.qa.passed).toBeNull();
    expect(a.qa.results.every((r) => r.outcome === 'na')).toBe(true);
    expect(analysis.counters.errors).toBe(0);
  });

  it('a supervisor override is audited and survives the conversation being analysed again', async () => {
    const c = service.start({ channel: 'chat' });
    await service.postCustomer(c.id, 'v1', 'Where is my refund?');
    service.accept(c.id, 'alice');
    service.postAgent(c.id, 'alice', 'a1', 'Hello, I promise you a refund, it is guaranteed.');
    service.close(c.id, { side: 'agent', agentId: 'alice' });
    await analysis.idle();
    const { effective } = analysis.override(c.id, { ruleId: 'no-over-promising', outcome: 'pass', reason: 'pre-approved' }, 'sup');
    expect(effective.results.find((r) => r.ruleId === 'no-over-promising')).toMatchObject({ outcome: 'pass', original: 'fail' });
    expect(store.audit.forTarget(`conversation:${c.id}`)).toMatchObject([{ actor: 'sup', action: 'qa.override' }]);
    const row = () =>
      new ConversationAnalysisRepo(store.db, store.write.bind(store)).qaList({ limit: 500 }).find((r) => r.conversationId === c.id);
    expect(row()).toMatchObject({ effectiveScore: effective.score, overridden: true });
    service.events.emit('closed', { conversation: service.find(c.id)! });
    await analysis.idle();
    expect(row()).toMatchObject({ effectiveScore: effective.score, effectivePassed: effective.passed, overridden: true });
    expect(analysis.qa(c.id)).toMatchObject({ effective, overrides: [{ ruleId: 'no-over-promising', author: 'sup' }] });
  });

  it("the QA list filters on the server like the calls' scorecards, and pages by when analysed without gaps or repeats", async () => {
    const make = async (channel: 'chat' | 'email', agent: string, reply: string) => {
      const c = service.start({ channel });
      await service.postCustomer(c.id, `v-${c.id}`, 'I have a question about my card');
      service.accept(c.id, agent);
      service.postAgent(c.id, agent, `a-${c.id}`, reply);
      service.close(c.id, { side: 'agent', agentId: agent });
      return c.id;
    };
    await make('chat', 'alice', 'Hello, thank you for waiting. I promise it is guaranteed.');
    await make('email', 'alice', 'Hello, thank you for your mail. Let me check that for you.');
    await make('chat', 'bob', 'Hello, thank you for waiting. Let me check that for you.');
    await analysis.idle();
    const app = Fastify({ logger: false });
    installErrorHandling(app, createLogger({ level: 'silent', includePii: false }));
    registerConversationAnalysisRoutes(app, { analysis, repo: new ConversationAnalysisRepo(store.db, store.write.bind(store)) });
    const list = async (query: string) => {
      const res = await app.inject({ method: 'GET', url: `/api/v1/qa/conversations?${query}` });
      expect(res.statusCode, res.body).toBe(200);
      return res.json<{ conversations: ConversationQaRow[]; nextBefore: number | null }>();
    };
    const all = (await list('limit=500')).conversations;
    expect(all.length).toBeGreaterThanOrEqual(3);
    const ids = (rows: ConversationQaRow[]) => rows.map((r) => r.conversationId).sort();
    const expectFilter = async (query: string, keep: (r: ConversationQaRow) => boolean) => {
      const want = ids(all.filter(keep));
      expect(want.length, query).toBeGreaterThan(0);
      expect(ids((await list(`limit=500&${query}`)).conversations), query).toEqual(want);
    };
    await expectFilter('channel=email', (r) => r.channel === 'email');
    await expectFilter('agent=alice', (r) => r.agentId === 'alice');
    await expectFilter('agent=bob&channel=chat', (r) => r.agentId === 'bob' && r.channel === 'chat');
    await expectFilter('passed=false', (r) => r.effectivePassed === false);
    await expectFilter('rule=no-over-promising', (r) => r.failedRules.includes('no-over-promising'));
    const first = Math.min(...all.map((r) => r.startedAt));
    await expectFilter(`from=${first + 1}`, (r) => r.startedAt >= first + 1);
    await expectFilter(`to=${first + 1}`, (r) => r.startedAt < first + 1);
    // pages of 2, newest analysed first: together they are the whole list, in order, once each
    const paged: ConversationQaRow[] = [];
    let before: number | null = null;
    do {
      const page = await list(`limit=2${before === null ? '' : `&before=${before}`}`);
      paged.push(...page.conversations);
      before = page.nextBefore;
    } while (before !== null);
    expect(paged.map((r) => r.conversationId)).toEqual(all.map((r) => r.conversationId));
    // hostile or unknown filters are refused, not ignored
    for (const bad of ['channel=voice', 'limit=0', 'passed=maybe', "agent=' OR 1=1 --&limit=abc"])
      expect((await app.inject({ method: 'GET', url: `/api/v1/qa/conversations?${bad}` })).statusCode, bad).toBe(400);
    expect((await list("agent=' OR 1=1 --")).conversations).toEqual([]);
    await app.close();
  });

  it('scoreConversation: an operator rule set of only audio rules gives no score rather than a failure', () => {
    const c = { id: 'x', createdAt: 0, closedAt: 10_000, updatedAt: 10_000, language: 'en' as const };
    const card = scoreConversation(c, [], [{ id: 's', kind: 'silence', weight: 10, maxRatio: 0.1 }], 80);
    expect(card.results[0]!.outcome).toBe('na');
    expect(card.score).toBeNull();
  });
});
