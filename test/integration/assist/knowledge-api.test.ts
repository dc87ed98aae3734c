/**
 * The knowledge base over HTTP with real auth: supervisors upload (Markdown, CSV with quoted line
 * breaks), viewers search and read, lower roles and strangers are refused; hostile uploads (too
 * large, streamed past the limit, not UTF-8, broken CSV, JSON) get their registry error and leave
 * the articles and the served index exactly as they were.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { MAX_KB_UPLOAD_BYTES } from '../../../appliance/assist/articleUpload.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { apiToken } from '../../helpers/auth.js';

let app: Appliance;
let base: string;
const bearer: Record<string, { authorization: string }> = {};

beforeAll(async () => {
  ({ app } = await startTestAppliance({ sip: { enabled: false }, console: { enabled: false } }, { transcribers: null }));
  base = app.httpUrl;
  for (const role of ['technician', 'supervisor', 'viewer', 'kiosk'] as const)
    bearer[role] = { authorization: `Bearer ${apiToken(app, role)}` };
});
afterAll(async () => {
  await app?.close();
});

async function upload(
  body: NonNullable<RequestInit['body']>,
  contentType: string,
  query = '',
  role = 'supervisor',
): Promise<{ status: number; json: Record<string, unknown> & { error?: { code: string; message: string } } }> {
  const res = await fetch(`${base}/api/v1/knowledge/articles${query}`, {
    method: 'POST',
    headers: { 'content-type': contentType, ...bearer[role] },
    body,
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> & { error?: { code: string; message: string } } };
}

async function search(
  text: string,
  extra = '',
  role = 'viewer',
): Promise<{ status: number; cards: { articleId: string; version: number; title: string; snippet: string }[] }> {
  const res = await fetch(`${base}/api/v1/knowledge/search?text=${encodeURIComponent(text)}${extra}`, { headers: bearer[role] });
  const json = (await res.json()) as { cards: { articleId: string; version: number; title: string; snippet: string }[] };
  return { status: res.status, cards: json.cards };
}

const LOST_CARD =
  '---\nintents: lost_or_stolen_card\ntags: cards\n---\n# Lost or stolen card\n\nFreeze the card in the app at once, then order a replacement.\n';
const CSV =
  'question,answer,intents\n"How do I top up, by card?","Open Top up.\nChoose ""Card"".",topping_up_by_card\nIs exchange free?,Free up to a monthly allowance.,exchange_charge\n';

describe('knowledge API', () => {
  it('lets a supervisor upload Markdown and a viewer find it as a card, read it and its versions', async () => {
    const up = await upload(LOST_CARD, 'text/markdown');
    expect(up).toEqual({ status: 200, json: { articles: [{ articleId: 'lost-or-stolen-card', version: 1, changed: true }], indexed: 1 } });
    const found = await search('somebody stole my card', '&language=en&intent=lost_or_stolen_card');
    expect(found.status).toBe(200);
    expect(found.cards[0]).toMatchObject({ articleId: 'lost-or-stolen-card', version: 1, title: 'Lost or stolen card' });
    expect(found.cards[0]!.snippet).toContain('Freeze the card');
    const read = await fetch(`${base}/api/v1/knowledge/articles/lost-or-stolen-card`, { headers: bearer['viewer'] });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({
      current: { version: 1, intents: ['lost_or_stolen_card'], tags: ['cards'], format: 'markdown' },
    });
  });

  it('reads a CSV with quoted commas, doubled quotes and line breaks, one article per row', async () => {
    const up = await upload(CSV, 'text/csv', '', 'technician');
    expect(up.status).toBe(200);
    expect(up.json['articles']).toEqual([
      { articleId: 'how-do-i-top-up-by-card', version: 1, changed: true },
      { articleId: 'is-exchange-free', version: 1, changed: true },
    ]);
    const read = (await (
      await fetch(`${base}/api/v1/knowledge/articles/how-do-i-top-up-by-card`, { headers: bearer['viewer'] })
    ).json()) as {
      current: { title: string; body: string };
    };
    expect(read.current).toMatchObject({ title: 'How do I top up, by card?', body: 'Open Top up.\nChoose "Card".' });
    const list = (await (await fetch(`${base}/api/v1/knowledge/articles?language=en`, { headers: bearer['viewer'] })).json()) as {
      articles: unknown[];
    };
    expect(list.articles).toHaveLength(3);
  });

  it('refuses uploads from viewers and kiosks, and everything from strangers', async () => {
    expect((await upload(LOST_CARD, 'text/markdown', '', 'viewer')).json.error?.code).toBe('EVX_ERR_FORBIDDEN');
    expect((await upload(LOST_CARD, 'text/markdown', '', 'kiosk')).status).toBe(403);
    expect((await search('card', '', 'kiosk')).status).toBe(403);
    const anon = await fetch(`${base}/api/v1/knowledge/search?text=card`);
    expect(anon.status).toBe(401);
    const del = await fetch(`${base}/api/v1/knowledge/articles/lost-or-stolen-card`, { method: 'DELETE', headers: bearer['viewer'] });
    expect(del.status).toBe(403);
  });

  it('refuses hostile uploads with their registry error and keeps serving the old index', async () => {
    const before = await search('top up by card');
    const listBefore = await (await fetch(`${base}/api/v1/knowledge/articles`, { headers: bearer['viewer'] })).text();
    expect(before.cards[0]?.articleId).toBe('how-do-i-top-up-by-card');

    const huge = await upload(Buffer.alloc(MAX_KB_UPLOAD_BYTES + 10, 0x61), 'text/plain');
    expect([huge.status, huge.json.error?.code]).toEqual([413, 'EVX_ERR_KB_TOO_LARGE']);
    // streamed without a Content-Length: refused as soon as it passes the limit, not after reading it all
    const chunk = new Uint8Array(256 * 1024).fill(0x62);
    const total = 16 * MAX_KB_UPLOAD_BYTES;
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= total) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const streamed = await upload(stream, 'text/plain');
    expect([streamed.status, streamed.json.error?.code]).toEqual([413, 'EVX_ERR_KB_TOO_LARGE']);
    expect(sent).toBeLessThan(total / 2);

    const latin1 = await upload(Buffer.from('# Top up\n\nCaf\xe9 top up by card', 'latin1'), 'text/markdown');
    expect([latin1.status, latin1.json.error?.code]).toEqual([400, 'EVX_ERR_KB_ENCODING']);
    expect(latin1.json.error?.message).toContain('UTF-8');

    // a new answer for the same question, in a file whose quote never closes
    const broken = await upload('question,answer\n"How do I top up, by card?","Never closed\n', 'text/csv');
    expect([broken.status, broken.json.error?.code]).toEqual([400, 'EVX_ERR_KB_CSV']);
    expect(broken.json.error?.message).toMatch(/never closed \(line 2\)/);

    const json = await upload(JSON.stringify({ title: 'x' }), 'application/json');
    expect(json.status).toBe(400);

    expect(await search('top up by card')).toEqual(before);
    expect(await (await fetch(`${base}/api/v1/knowledge/articles`, { headers: bearer['viewer'] })).text()).toBe(listBefore);
  });

  it('versions a changed article and deletes one from the index', async () => {
    const changed = LOST_CARD.replace('then order a replacement', 'then call us to order a replacement');
    expect((await upload(changed, 'text/markdown')).json['articles']).toEqual([
      { articleId: 'lost-or-stolen-card', version: 2, changed: true },
    ]);
    expect((await search('stolen card')).cards[0]).toMatchObject({ articleId: 'lost-or-stolen-card', version: 2 });
    const del = await fetch(`${base}/api/v1/knowledge/articles/lost-or-stolen-card`, { method: 'DELETE', headers: bearer['supervisor'] });
    expect(await del.json()).toEqual({ articleId: 'lost-or-stolen-card', deleted: true });
    expect((await search('stolen card')).cards.map((c) => c.articleId)).not.toContain('lost-or-stolen-card');
    const again = await fetch(`${base}/api/v1/knowledge/articles/lost-or-stolen-card`, { method: 'DELETE', headers: bearer['supervisor'] });
    expect(again.status).toBe(404);
  });
});
