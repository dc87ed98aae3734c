/**
 * The QA lists (calls' scorecards, conversations') page by a (when scored, id) cursor: rows that share
 * the last row's millisecond but fall past the page boundary come on the next page, not never. Chats
 * closed together are analysed in the same millisecond, so such ties are real. Every row is listed
 * exactly once, in the list's order, whatever the page size; a hostile cursor is a 400, not a 500.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../../appliance/api/errors.js';
import { installFiniteNumbers } from '../../../appliance/api/finiteNumbers.js';
import { registerConversationAnalysisRoutes } from '../../../appliance/api/routes/conversationAnalysis.js';
import { registerQaRoutes } from '../../../appliance/api/routes/qa.js';
import type { ConversationAnalysis } from '../../../appliance/conversations/conversationAnalysis.js';
import { ConversationAnalysisRepo } from '../../../appliance/conversations/conversationAnalysisRepo.js';
import { createLogger } from '../../../appliance/log/logger.js';
import type { QaService } from '../../../appliance/qa/qaService.js';
import { QaRepo } from '../../../appliance/qa/repo.js';
import { Store } from '../../../appliance/store/database.js';

/**
 * When each row was scored: a few alone, and runs sharing one millisecond that straddle the page
 * boundaries of every page size tried (ids out of their sort order, so insertion order proves nothing).
 */
const SCORED: [string, number][] = [
  ['k', 9_000],
  ['b', 8_000],
  ['a', 8_000],
  ['g', 7_000],
  ['c', 7_000],
  ['f', 7_000],
  ['e', 7_000],
  ['d', 7_000],
  ['h', 7_000],
  ['j', 6_000],
  ['i', 5_000],
  ['m', 5_000],
  ['l', 5_000],
];
/** The whole list's order: newest scored first, then by id. */
const ORDER = [...SCORED].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).map(([id]) => id);

interface Page {
  rows: string[];
  nextBefore: number | null;
  nextBeforeId?: string | null;
}

describe('QA lists page by (when scored, id) without losing rows that share a millisecond', () => {
  let dir: string;
  let store: Store;
  let app: FastifyInstance;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'evx-qa-cursor-'));
    store = Store.open(dir);
    const qaRepo = new QaRepo(store.db, store.write.bind(store));
    const convRepo = new ConversationAnalysisRepo(store.db, store.write.bind(store));
    for (const [id, at] of SCORED) {
      store.db
        .prepare(`INSERT INTO calls (id, source, state, started_at, ended_at) VALUES (?, 'sip', 'ended', ?, ?)`)
        .run(`call-${id}`, at - 60_000, at);
      qaRepo.saveScorecard({
        callId: `call-${id}`,
        scoredAt: at,
        callStartedAt: at - 60_000,
        rulesVersion: 0,
        score: 100,
        passed: true,
        agentLabel: 'alice',
        groupId: 'sales',
        results: [],
      });
      store.db
        .prepare(
          `INSERT INTO conversations (id, channel, state, agent_id, created_at, updated_at, closed_at) VALUES (?, 'chat', 'closed', 'alice', ?, ?, ?)`,
        )
        .run(`conv-${id}`, at - 60_000, at, at);
      convRepo.save(
        `conv-${id}`,
        'chat',
        {
          sentiment: { label: 'neutral' },
          qa: { score: 100, passed: true, results: [] },
          qaRulesVersion: 0,
          summary: { outcome: 'resolved' },
        } as unknown as Parameters<ConversationAnalysisRepo['save']>[2],
        at,
      );
    }
    app = Fastify({ logger: false });
    installErrorHandling(app, createLogger({ level: 'silent', includePii: false }));
    installFiniteNumbers(app); // as the appliance's server does
    registerQaRoutes(app, { qa: { repo: qaRepo } as unknown as QaService });
    registerConversationAnalysisRoutes(app, { analysis: {} as ConversationAnalysis, repo: convRepo });
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const lists = [
    {
      name: "calls' scorecards",
      url: '/api/v1/qa/scorecards',
      page: (body: { scorecards: { callId: string }[] } & Omit<Page, 'rows'>): Page => ({
        ...body,
        rows: body.scorecards.map((c) => c.callId.replace('call-', '')),
      }),
    },
    {
      name: "conversations'",
      url: '/api/v1/qa/conversations',
      page: (body: { conversations: { conversationId: string }[] } & Omit<Page, 'rows'>): Page => ({
        ...body,
        rows: body.conversations.map((c) => c.conversationId.replace('conv-', '')),
      }),
    },
  ];

  for (const list of lists) {
    it(`${list.name} list: paging with the cursor lists every row exactly once, in order, at every page size`, async () => {
      for (let limit = 1; limit <= SCORED.length + 1; limit++) {
        const seen: string[] = [];
        let cursor = '';
        for (let pages = 0; ; pages++) {
          expect(pages, `limit ${limit}: too many pages`).toBeLessThan(SCORED.length + 2);
          const res = await app.inject({ method: 'GET', url: `${list.url}?limit=${limit}${cursor}` });
          expect(res.statusCode, res.body).toBe(200);
          const page = list.page(res.json());
          seen.push(...page.rows);
          if (page.nextBefore === null) break;
          cursor = `&before=${page.nextBefore}${page.nextBeforeId == null ? '' : `&beforeId=${encodeURIComponent(page.nextBeforeId)}`}`;
        }
        expect(seen, `limit ${limit}`).toEqual(ORDER);
      }
    });

    it(`${list.name} list: the page's cursor is its last row; before alone still pages by time as before`, async () => {
      const first = list.page((await app.inject({ method: 'GET', url: `${list.url}?limit=4` })).json());
      expect(first.rows).toEqual(ORDER.slice(0, 4));
      expect(first.nextBefore).toBe(7_000);
      expect(first.nextBeforeId).toBe(list.url.endsWith('scorecards') ? 'call-c' : 'conv-c');
      // A client that sends only `before` gets what is strictly older (as it always did).
      const older = list.page((await app.inject({ method: 'GET', url: `${list.url}?limit=50&before=7000` })).json());
      expect(older.rows).toEqual(ORDER.filter((id) => SCORED.find(([x]) => x === id)![1] < 7_000));
      const last = list.page((await app.inject({ method: 'GET', url: `${list.url}?limit=50` })).json());
      expect(last.nextBefore).toBeNull();
      expect(last.nextBeforeId).toBeNull();
    });

    it(`${list.name} list: a hostile cursor is refused with 400 EVX_ERR_BAD_REQUEST`, async () => {
      for (const bad of [
        'beforeId=call-c',
        'before=abc&beforeId=x',
        'before=-1&beforeId=x',
        'before=1.5&beforeId=x',
        'before=1e400&beforeId=x',
        'before=99999999999999999999999&beforeId=x',
        'before=7000&beforeId=',
        `before=7000&beforeId=${'x'.repeat(201)}`,
        'before=7000&beforeId=a&beforeId=b',
        'before=7000&before=6000&beforeId=a',
      ]) {
        const res = await app.inject({ method: 'GET', url: `${list.url}?${bad}` });
        expect(res.statusCode, `${bad}: ${res.body}`).toBe(400);
        expect(res.json<{ error: { code: string } }>().error.code, bad).toBe('EVX_ERR_BAD_REQUEST');
      }
      // An id with SQL in it is only a value to compare.
      const odd = await app.inject({ method: 'GET', url: `${list.url}?before=7000&beforeId=${encodeURIComponent("' OR 1=1 --")}` });
      expect(odd.statusCode, odd.body).toBe(200);
    });
  }
});
