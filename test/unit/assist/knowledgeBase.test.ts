import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KnowledgeBase } from '../../../appliance/assist/knowledgeBase.js';
import { KnowledgeIndex } from '../../../appliance/assist/knowledgeIndex.js';
import { KnowledgeRepo } from '../../../appliance/assist/knowledgeRepo.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { Store } from '../../../appliance/store/database.js';
import { scratchDir } from '../../helpers/paths.js';

const md = (s: string): Buffer => Buffer.from(s, 'utf8');
let dir: string;
let store: Store;
let kb: KnowledgeBase;
let clock = 1_000;

beforeEach(async () => {
  dir = scratchDir('kb');
  store = Store.open(dir);
  kb = await KnowledgeBase.open(new KnowledgeRepo(store.db, store.write.bind(store)), { now: () => clock++ });
});
afterEach(async () => {
  await kb.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('knowledge base', () => {
  it('ranks the article that matches what the caller said, in the caller language, with a snippet', async () => {
    await kb.upload(
      md('# Lost or stolen card\n\nFreeze the card in the app at once. Then order a replacement card.'),
      { format: 'markdown', intents: ['lost_or_stolen_card'] },
      'sup',
    );
    await kb.upload(
      md('# Exchange rates\n\nWe use the interbank rate for every currency exchange.'),
      { format: 'markdown', intents: ['exchange_rate'] },
      'sup',
    );
    await kb.upload(
      md('# 银行卡丢失\n\n请立即在应用中冻结您的银行卡，然后补办新卡。'),
      { format: 'markdown', articleId: 'lost-card-zh' },
      'sup',
    );
    const cards = kb.search('I think my card was stolen', { language: 'en', limit: 5 });
    expect(cards[0]).toMatchObject({ articleId: 'lost-or-stolen-card', version: 1, title: 'Lost or stolen card' });
    expect(cards[0]!.snippet).toBe('Freeze the card in the app at once.');
    expect(cards.map((c) => c.articleId)).not.toContain('lost-card-zh');
    const zh = kb.search('我的银行卡丢了怎么办', { language: 'zh' });
    expect(zh.map((c) => c.articleId)).toEqual(['lost-card-zh']);
    expect(kb.search('?!', { language: 'en' })).toEqual([]);
  });

  it("boosts the articles of the caller's intent over a better text match", async () => {
    await kb.upload(
      md('# Card fees\n\nA card payment fee applies to card payments in another currency.'),
      { format: 'markdown', intents: ['card_payment_fee_charged'] },
      'sup',
    );
    await kb.upload(
      md('# Exchange rate\n\nThe rate for a card payment is set by the network.'),
      { format: 'markdown', intents: ['exchange_rate'] },
      'sup',
    );
    const text = 'why is there a fee on my card payment';
    expect(kb.search(text, { language: 'en' })[0]!.articleId).toBe('card-fees');
    expect(kb.search(text, { language: 'en', intent: 'exchange_rate', intentBoost: 10 })[0]!.articleId).toBe('exchange-rate');
    expect(kb.search(text, { language: 'en', intent: 'exchange_rate', intentBoost: 1 })[0]!.articleId).toBe('card-fees');
  });

  it('versions an article on a changed upload, not on a repeated one, and keeps versions after deletion', async () => {
    const first = await kb.upload(md('# Card delivery\n\nIt takes a week.'), { format: 'markdown' }, 'sup');
    expect(first.articles).toEqual([{ articleId: 'card-delivery', version: 1, changed: true }]);
    expect((await kb.upload(md('# Card delivery\n\nIt takes a week.'), { format: 'markdown' }, 'sup')).articles[0]).toMatchObject({
      version: 1,
      changed: false,
    });
    expect((await kb.upload(md('# Card delivery\n\nIt takes ten days.'), { format: 'markdown' }, 'tech')).articles[0]).toMatchObject({
      version: 2,
      changed: true,
    });
    expect(kb.search('how many days', { language: 'en' })[0]).toMatchObject({ articleId: 'card-delivery', version: 2 });
    expect(await kb.remove('card-delivery', 'sup')).toBe(true);
    expect(await kb.remove('card-delivery', 'sup')).toBe(false);
    expect(kb.search('card delivery', { language: 'en' })).toEqual([]);
    expect(kb.versions('card-delivery').map((v) => [v.version, v.author])).toEqual([
      [2, 'tech'],
      [1, 'sup'],
    ]);
    // uploaded again after deletion: a new version, live again
    expect((await kb.upload(md('# Card delivery\n\nIt takes ten days.'), { format: 'markdown' }, 'sup')).articles[0]).toMatchObject({
      version: 3,
      changed: true,
    });
    expect(kb.list().map((a) => a.articleId)).toEqual(['card-delivery']);
  });

  it('keeps the old articles and index when an upload is refused, and the index survives a restart', async () => {
    await kb.upload(md('question,answer\nHow do I top up?,Use a card or a bank transfer.\n'), { format: 'csv' }, 'sup');
    const before = kb.search('top up', { language: 'en' });
    expect(before).toHaveLength(1);
    const broken = md('question,answer\nHow do I top up?,"New answer that never closes\n');
    await expect(kb.upload(broken, { format: 'csv' }, 'sup')).rejects.toSatisfy((e) => isEdgeVoxError(e, 'EVX_ERR_KB_CSV'));
    await expect(kb.upload(Buffer.from([0xff, 0xfe, 0x41]), { format: 'text' }, 'sup')).rejects.toThrow(/UTF-8/);
    expect(kb.search('top up', { language: 'en' })).toEqual(before);
    expect(kb.versions('how-do-i-top-up')).toHaveLength(1);
    const reopened = await KnowledgeBase.open(new KnowledgeRepo(store.db, store.write.bind(store)));
    expect(reopened.search('top up', { language: 'en' })).toEqual(before);
  });

  it('keeps serving the old index while a new one is built, and builds in slices', async () => {
    await kb.upload(md('# Old\n\nold text about cards'), { format: 'markdown' }, 'sup');
    const articles = Array.from({ length: 400 }, (_, i) => ({
      articleId: `a${i}`,
      version: 1,
      title: `Article ${i}`,
      body: `card text number ${i} `.repeat(20),
      tags: [],
      intents: [],
      language: 'en' as const,
      format: 'text' as const,
      author: 'x',
      createdAt: 0,
    }));
    let finished = false;
    const built = KnowledgeIndex.build(articles, { sliceMs: 0 }).then((index) => {
      finished = true;
      return index;
    });
    // the event loop turns while it builds: this callback runs before the build is over
    let ranDuringBuild = false;
    setImmediate(() => {
      ranDuringBuild = !finished;
      // and between slices the old index answers searches
      expect(kb.search('old', { language: 'en' })[0]?.articleId).toBe('old');
    });
    expect((await built).size).toBe(400);
    expect(ranDuringBuild).toBe(true);
  });
});
