/**
 * The channel dimension of the upstream aggregates: contacts and answered ones per channel (voice,
 * chat, e-mail) as k-anonymous partitions with secondary suppression, first-response histograms,
 * answer rates only from the published (noisy) cells, the budget charged for every new group, and
 * the collector's metric rows — old payloads without channels still accepted.
 */
import { describe, expect, it } from 'vitest';
import { assertPayload, buildAggregates } from '../../../appliance/aggregates/builder.js';
import type { AggregatePayload } from '../../../appliance/aggregates/schema.js';
import { Store } from '../../../appliance/store/database.js';
import { metricRows } from '../../../collector/store.js';
import { scratchDir } from '../../helpers/paths.js';

const HOUR = 3_600_000;
const W = Date.UTC(2026, 11, 6, 9);
let seq = 0;

function seeded(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

function calls(store: Store, n: number, answered: number): void {
  for (let i = 0; i < n; i++) {
    const id = `call-${++seq}`;
    const at = W + seq * 1000;
    store.calls.create({ id, source: 'sip', callerHash: null, startedAt: at });
    if (i < answered) store.calls.markAnswered(id, at + 4000);
  }
}

/** `n` conversations of a channel started in the window; the first `replied` get an agent's reply after `replyMs`. */
function conversations(store: Store, channel: 'chat' | 'email', n: number, replied: number, replyMs: number): void {
  for (let i = 0; i < n; i++) {
    const id = `conv-${++seq}`;
    const at = W + seq * 1000;
    store.db
      .prepare(`INSERT INTO conversations (id, channel, state, created_at, updated_at) VALUES (?, ?, 'assigned', ?, ?)`)
      .run(id, channel, at, at);
    const msg = store.db.prepare(
      `INSERT INTO conversation_messages (conversation_id, seq, client_id, sender, text, at) VALUES (?, ?, ?, ?, 'x', ?)`,
    );
    msg.run(id, 1, 'v1', 'visitor', at);
    if (i < replied) msg.run(id, 2, 'a1', 'agent', at + replyMs);
  }
}

const build = (store: Store, k: number, epsilon = 0, random?: () => number) =>
  buildAggregates(store, {
    siteId: 'branch-1',
    windowStartMs: W,
    windowMs: HOUR,
    k,
    epsilon,
    generatedAtMs: W + HOUR,
    ...(random ? { random } : {}),
  });

describe('aggregates by channel', () => {
  it('counts contacts, answered ones and first responses per channel', () => {
    const store = Store.open(scratchDir('agg-ch'));
    calls(store, 11, 6);
    conversations(store, 'chat', 12, 6, 20_000);
    conversations(store, 'email', 5, 5, 2 * HOUR);
    const p = build(store, 5);
    expect(p.channels?.contacts).toEqual({ voice: 11, chat: 12, email: 5 });
    expect(p.channels?.answered).toEqual({ voice: 6, chat: 6, email: 5 });
    expect(p.channels?.answerRate).toEqual({ voice: 0.545, chat: 0.5, email: 1 });
    // chats answered within 30 s (bucket 2), e-mails within 4 h (bucket 8)
    expect(p.channels?.firstResponse.chat).toEqual([0, 6, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(p.channels?.firstResponse.email).toEqual([0, 0, 0, 0, 0, 0, 0, 5, 0, 0]);
    const rows = metricRows(p);
    expect(rows).toContainEqual({ metric: 'channel.chat.contacts', value: 12 });
    expect(rows).toContainEqual({ metric: 'channel.email.firstResponseMs.le_14400000', value: 5 });
    expect(rows).toContainEqual({ metric: 'channel.chat.firstResponseMs.le_inf', value: 0 });
    store.close();
  });

  it("hides a channel's answered count when its unanswered contacts (contacts minus answered) are under k", () => {
    const store = Store.open(scratchDir('agg-ch-complement'));
    calls(store, 8, 6);
    conversations(store, 'chat', 7, 6, 20_000);
    conversations(store, 'email', 5, 5, 2 * HOUR);
    const p = build(store, 5);
    // 2 unanswered calls and 1 unanswered chat would be 8 - 6 and 7 - 6 by subtraction; e-mail has none
    expect(p.channels?.contacts).toEqual({ voice: 8, chat: 7, email: 5 });
    expect(p.channels?.answered).toEqual({ voice: null, chat: null, email: 5 });
    expect(p.channels?.answerRate).toEqual({ voice: null, chat: null, email: 1 });
    expect(p.calls.total).toBe(8);
    expect(p.calls.answered).toBeNull();
    store.close();
  });

  it('suppresses a chat cell below k, and the next smallest so it cannot be recovered', () => {
    const store = Store.open(scratchDir('agg-ch-k'));
    calls(store, 9, 9);
    conversations(store, 'chat', 3, 3, 10_000);
    conversations(store, 'email', 6, 0, 0);
    const p = build(store, 5);
    // chat 3 < k hidden; the smallest other non-zero cell (e-mail, 6) hidden with it
    expect(p.channels?.contacts).toEqual({ voice: 9, chat: null, email: null });
    expect(p.channels?.answered.chat).toBeNull();
    expect(p.channels?.answerRate.chat).toBeNull();
    // the histogram: one bucket of 3 hidden; no other non-zero bucket to hide
    expect(p.channels?.firstResponse.chat).toEqual([null, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(metricRows(p)).toContainEqual({ metric: 'channel.chat.contacts', value: null });
    expect(p.privacy.suppressedCells).toBeGreaterThanOrEqual(5);
    store.close();
  });

  it('adds noise to every channel cell, derives the answer rates from the noisy cells and charges the budget', () => {
    const store = Store.open(scratchDir('agg-ch-dp'));
    calls(store, 20, 15);
    conversations(store, 'chat', 30, 20, 40_000);
    conversations(store, 'email', 12, 6, HOUR);
    const noisy = [1, 2, 3, 4, 5].map((seed) => build(store, 5, 0.5, seeded(seed)));
    const published = noisy.map((p) => p.channels!);
    // noise moved at least one of the chat counts away from the truth in some window
    expect(published.some((c) => c.contacts.chat !== 30 || c.answered.chat !== 20)).toBe(true);
    for (const c of published) {
      for (const ch of ['voice', 'chat', 'email'] as const) {
        const a = c.answered[ch];
        const n = c.contacts[ch];
        const expected = a === null || n === null || n <= 0 ? null : Math.round((1000 * Math.min(a, n)) / n) / 1000;
        expect(c.answerRate[ch]).toBe(expected);
      }
    }
    // the same data without noise: 4 groups more than a box without conversations would charge
    const plain = build(store, 5);
    expect(plain.channels?.answerRate).toEqual({ voice: 0.75, chat: 0.667, email: 0.5 });
    const p = noisy[0]!;
    expect(p.privacy.noise?.epsilonSpent).toBeCloseTo(0.5 * p.privacy.noise!.sensitivity!, 6);
    store.db.exec('DROP TABLE conversation_messages; DROP TABLE conversations');
    const without = build(store, 5, 0.5, seeded(1));
    expect(without.channels).toBeUndefined();
    expect(p.privacy.noise!.sensitivity! - without.privacy.noise!.sensitivity!).toBe(4);
    store.close();
  });

  it('keeps payloads without channels valid (boxes before the channel dimension)', () => {
    const store = Store.open(scratchDir('agg-ch-old'));
    calls(store, 6, 6);
    const p = build(store, 5);
    const old: Partial<AggregatePayload> = { ...p };
    delete old.channels;
    expect(() => assertPayload(old)).not.toThrow();
    expect(metricRows(old as AggregatePayload).some((r) => r.metric.startsWith('channel.'))).toBe(false);
    expect(() => assertPayload({ ...p, channels: { ...p.channels, callerId: 'x' } })).toThrow();
    store.close();
  });
});
