/**
 * Cards during the call, in a running appliance with the 77-article BANKING77 knowledge base: a
 * caller's final and its intent bring the right article as the top card (published as assist.cards
 * and stored with the call), a repeated question brings no card twice, an angry caller who wants to
 * close the account gets the retention action, a final whose intent never comes still gets its
 * cards after the wait; the feedback API (supervisor only) stores the verdict and moves the card's
 * rank on the next call; unknown calls and cards get their registry errors.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import type { ApplianceEvent, AssistCard } from '../../../appliance/events/appEvents.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { apiToken } from '../../helpers/auth.js';
import { REPO_ROOT } from '../../helpers/paths.js';

let app: Appliance;
const events: ApplianceEvent[] = [];
const auth = (role: 'supervisor' | 'viewer' | 'kiosk'): { authorization: string } => ({ authorization: `Bearer ${apiToken(app, role)}` });

beforeAll(async () => {
  ({ app } = await startTestAppliance({ sip: { enabled: false }, console: { enabled: false } }, { transcribers: null }));
  const dir = join(REPO_ROOT, 'models/assist/banking77-kb');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.md') && n !== 'README.md'))
    await app.knowledge!.upload(readFileSync(join(dir, f)), { format: 'markdown' }, 'test');
  app.bus.subscribe((e) => events.push(e));
}, 60_000);
afterAll(async () => {
  await app?.close();
});

let utterance = 0;
function startCall(id: string): void {
  app.store.calls.create({ id, source: 'sip', callerHash: null, startedAt: Date.now() });
}
function final(callId: string, text: string, speaker = 'caller'): number {
  const utteranceId = ++utterance;
  app.bus.publish({
    type: 'asr.final',
    at: Date.now(),
    callId,
    legId: `${callId}-leg`,
    speaker,
    utteranceId,
    text,
    words: [],
    startMs: 0,
    endMs: 1000,
    confidence: 0.9,
    latencyMs: 100,
  });
  return utteranceId;
}
function intent(callId: string, utteranceId: number, label: string | null): void {
  app.bus.publish({
    type: 'intent',
    at: Date.now(),
    callId,
    legId: `${callId}-leg`,
    speaker: 'caller',
    utteranceId,
    intent: label,
    confidence: 0.9,
    outOfScope: label === null,
    top: [],
    latencyMs: 5,
  });
}
function emotion(callId: string, utteranceId: number, category: string): void {
  app.bus.publish({
    type: 'emotion',
    at: Date.now(),
    callId,
    legId: `${callId}-leg`,
    speaker: 'caller',
    utteranceId,
    category,
    confidence: 0.8,
    arousal: 0.8,
    valence: -0.6,
    scores: {},
    agitation: 0.8,
    trend: 'escalating',
    audioMs: 1000,
    latencyMs: 20,
  });
}
const pushes = (callId: string): Extract<ApplianceEvent, { type: 'assist.cards' }>[] =>
  events.filter((e): e is Extract<ApplianceEvent, { type: 'assist.cards' }> => e.type === 'assist.cards' && e.callId === callId);
const until = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
};
async function feedback(
  callId: string,
  cardId: string,
  useful: boolean,
  role: 'supervisor' | 'viewer' | 'kiosk' = 'supervisor',
): Promise<Response> {
  return fetch(`${app.httpUrl}/api/v1/calls/${encodeURIComponent(callId)}/cards/${encodeURIComponent(cardId)}/feedback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth(role) },
    body: JSON.stringify({ useful }),
  });
}

describe('cards during the call', () => {
  it('pushes the lost-card article first when the caller reports a lost card, once per call', async () => {
    startCall('c-lost');
    const u = final('c-lost', 'i lost my card yesterday and i think someone took it');
    intent('c-lost', u, 'lost_or_stolen_card');
    expect(pushes('c-lost')).toHaveLength(1); // the intent flushes at once, no waiting
    const [push] = pushes('c-lost');
    expect(push!.cards[0]).toMatchObject({
      cardId: 'article:lost-or-stolen-card',
      kind: 'article',
      title: 'Lost or stolen card',
      intent: 'lost_or_stolen_card',
    });
    expect(push!.cards.length).toBeLessThanOrEqual(3);
    expect(push!.latencyMs).toBeGreaterThanOrEqual(0);
    expect(push!.utteranceId).toBe(u);

    // the same question again: no card comes twice
    const u2 = final('c-lost', 'my card is lost can you block it');
    intent('c-lost', u2, 'lost_or_stolen_card');
    const all = pushes('c-lost').flatMap((p) => p.cards.map((c) => c.cardId));
    expect(new Set(all).size).toBe(all.length);

    // the agent's own speech brings no cards
    final('c-lost', 'i am sorry to hear that about your lost card', 'agent');
    await new Promise((r) => setTimeout(r, 250));
    expect(pushes('c-lost').flatMap((p) => p.cards).length).toBe(all.length);

    const res = await fetch(`${app.httpUrl}/api/v1/calls/c-lost/cards`, { headers: auth('viewer') });
    expect(res.status).toBe(200);
    const stored = (await res.json()) as { cards: { cardId: string; rank: number; feedback: string | null; latencyMs: number }[] };
    expect(stored.cards.map((c) => c.cardId)).toEqual(all);
    expect(stored.cards[0]).toMatchObject({ cardId: 'article:lost-or-stolen-card', rank: 0, feedback: null, steps: [] });
    expect((stored.cards[0] as unknown as { snippet: string }).snippet).toMatch(/freeze/i);
  });

  it('offers retention to an angry caller closing the account, when the emotion comes after the final', async () => {
    startCall('c-leave');
    const u = final('c-leave', 'i want to close my account right now');
    intent('c-leave', u, 'terminate_account');
    expect(pushes('c-leave')[0]!.cards.map((c) => c.cardId)).not.toContain('action:builtin-retention-offer');
    emotion('c-leave', u, 'angry');
    const cards = pushes('c-leave').flatMap((p) => p.cards);
    const action = cards.find((c) => c.cardId === 'action:builtin-retention-offer') as AssistCard;
    expect(action).toMatchObject({ kind: 'action', emotion: 'angry', intent: 'terminate_account' });
    expect(action.steps.length).toBeGreaterThan(1);
    emotion('c-leave', u, 'angry');
    expect(
      pushes('c-leave')
        .flatMap((p) => p.cards)
        .filter((c) => c.cardId === action.cardId),
    ).toHaveLength(1);
    const res = await fetch(`${app.httpUrl}/api/v1/calls/c-leave/cards`, { headers: auth('viewer') });
    const stored = ((await res.json()) as { cards: { cardId: string; steps: string[]; snippet: string }[] }).cards;
    expect(stored.find((c) => c.cardId === action.cardId)).toMatchObject({ steps: action.steps, snippet: '' });
  });

  it('does not wait for an intent that never comes', async () => {
    startCall('c-nointent');
    final('c-nointent', 'can i add my card to apple pay or google pay');
    expect(pushes('c-nointent')).toHaveLength(0);
    await until(() => pushes('c-nointent').length > 0);
    const [push] = pushes('c-nointent');
    expect(push!.cards.map((c) => c.cardId)).toEqual(['article:apple-pay-or-google-pay']); // a clear text match, nothing else
    expect(push!.cards[0]!.intent).toBeNull();
    expect(push!.latencyMs).toBeGreaterThanOrEqual(100);
  });

  it('stores feedback (supervisors only), replaces a changed verdict, and ranks with it on later calls', async () => {
    expect((await feedback('c-lost', 'article:lost-or-stolen-card', true, 'viewer')).status).toBe(403);
    expect((await feedback('c-lost', 'article:lost-or-stolen-card', true, 'kiosk')).status).toBe(403);
    const missingCall = await feedback('no-such-call', 'article:lost-or-stolen-card', true);
    expect(missingCall.status).toBe(404);
    const missingCard = await feedback('c-lost', 'article:age-limit', true);
    expect(missingCard.status).toBe(404);
    expect(((await missingCard.json()) as { error: { code: string } }).error.code).toBe('EVX_ERR_ASSIST_CARD_NOT_FOUND');
    const bad = await fetch(`${app.httpUrl}/api/v1/calls/c-lost/cards/x/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth('supervisor') },
      body: JSON.stringify({ useful: 'yes' }),
    });
    expect(bad.status).toBe(400);

    const ok = await feedback('c-lost', 'article:lost-or-stolen-card', false);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ cardId: 'article:lost-or-stolen-card', feedback: 'not_useful' });
    const again = await feedback('c-lost', 'article:lost-or-stolen-card', true);
    expect(await again.json()).toMatchObject({ feedback: 'useful' });
    const row = app.store.db
      .prepare(
        `SELECT useful, not_useful FROM assist_card_ratings WHERE kind = 'article' AND ref_id = 'lost-or-stolen-card' AND intent = 'lost_or_stolen_card'`,
      )
      .get();
    expect(row).toEqual({ useful: 1, not_useful: 0 }); // the changed mind took the first vote back
    expect(events.some((e) => e.type === 'assist.feedback' && e.callId === 'c-lost' && e.useful)).toBe(true);

    // two more articles for one intent (a site's own): votes against the first put the second on top
    for (const [id, title, body] of [
      [
        'declined-abroad',
        'Card declined abroad',
        'A card payment declined abroad: turn on payments abroad in the app, then try the payment again.',
      ],
      [
        'declined-online',
        'Card declined online',
        'A card payment declined online: check the card is enabled for online payments and the address matches.',
      ],
    ])
      await app.knowledge!.upload(
        Buffer.from(`---\nid: ${id}\nintents: declined_card_payment\n---\n# ${title}\n\n${body}\n`),
        { format: 'markdown' },
        'test',
      );
    const query = 'my card payment was declined';
    const ask = async (id: string): Promise<string[]> => {
      startCall(id);
      intent(id, final(id, query), 'declined_card_payment');
      await until(() => pushes(id).length > 0);
      return pushes(id)[0]!.cards.map((c) => c.refId);
    };
    const before = await ask('c-rank-1');
    expect(before.length).toBeGreaterThan(1);
    for (let i = 0; i < 6; i++) {
      const id = `c-vote-${i}`;
      await ask(id);
      expect((await feedback(id, `article:${before[0]}`, false)).status).toBe(200);
      expect((await feedback(id, `article:${before[1]}`, true)).status).toBe(200);
    }
    expect((await ask('c-rank-2'))[0]).toBe(before[1]);
  });

  it('counts cards, verdicts and the final-to-card latency for ops, with no call in the labels', async () => {
    const metrics = (await app.http.inject({ method: 'GET', url: '/metrics' })).body;
    const value = (series: string): number =>
      Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    expect(value('edgevox_assist_cards_total{kind="article"}')).toBeGreaterThan(0);
    expect(value('edgevox_assist_cards_total{kind="action"}')).toBeGreaterThan(0);
    expect(value('edgevox_assist_card_feedback_total{verdict="useful"}')).toBeGreaterThanOrEqual(7);
    expect(value('edgevox_assist_card_latency_seconds_count')).toBe(events.filter((e) => e.type === 'assist.cards').length);
    expect(metrics).not.toMatch(/c-lost|lost-or-stolen/);
  });

  it('forgets a call when it ends', async () => {
    startCall('c-end');
    final('c-end', 'i lost my card');
    app.bus.publish({ type: 'call.ended', at: Date.now(), callId: 'c-end', reason: 'bye', durationMs: 1000 });
    await new Promise((r) => setTimeout(r, 250));
    expect(pushes('c-end')).toHaveLength(0);
  });
});
