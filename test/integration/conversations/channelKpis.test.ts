/**
 * Text-channel KPIs (conversations/channelKpis.ts) from a real store's conversations table: chat and
 * e-mail rows give waiting / longest wait / active / open per channel and group, first-response
 * p50/p95 over the window; the Prometheus exposition carries only channel and group labels and
 * passes promtool when it is installed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelKpis, percentile } from '../../../appliance/conversations/channelKpis.js';
import { bindChannels } from '../../../appliance/metrics/channelMetrics.js';
import { Store } from '../../../appliance/store/database.js';

const NOW = 1_800_000_000_000;

function hasPromtool(): boolean {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('text-channel KPIs', () => {
  let dir: string;
  let store: Store;
  let n = 0;

  /** One conversation with its customer's first message at `at` and, when given, the agent's first reply. */
  function conversation(c: { channel: 'chat' | 'email'; state: string; group: string | null; at: number; replyAfterMs?: number }): void {
    const id = `c${++n}`;
    store.db
      .prepare(`INSERT INTO conversations (id, channel, state, group_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(id, c.channel, c.state, c.group, c.at, c.at);
    const msg = store.db.prepare(
      `INSERT INTO conversation_messages (conversation_id, seq, client_id, sender, text, at) VALUES (?, ?, ?, ?, 'x', ?)`,
    );
    msg.run(id, 1, 'v1', 'visitor', c.at);
    msg.run(id, 2, 'v2', 'visitor', c.at + 500);
    if (c.replyAfterMs !== undefined) {
      msg.run(id, 3, 'a1', 'agent', c.at + c.replyAfterMs);
      msg.run(id, 4, 'a2', 'agent', c.at + c.replyAfterMs + 60_000);
    }
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'evx-chkpi-'));
    store = Store.open(dir);
    // chat: two waiting in cards (oldest 90 s), one not routed yet, two held, one closed; replies 10 s .. 100 s
    conversation({ channel: 'chat', state: 'waiting', group: 'cards', at: NOW - 90_000 });
    conversation({ channel: 'chat', state: 'waiting', group: 'cards', at: NOW - 30_000 });
    conversation({ channel: 'chat', state: 'waiting', group: null, at: NOW - 5_000 });
    conversation({ channel: 'chat', state: 'assigned', group: 'cards', at: NOW - 600_000, replyAfterMs: 10_000 });
    conversation({ channel: 'chat', state: 'assigned', group: 'general', at: NOW - 600_000, replyAfterMs: 20_000 });
    conversation({ channel: 'chat', state: 'closed', group: 'general', at: NOW - 900_000, replyAfterMs: 100_000 });
    // outside the one-hour window: its reply time is not counted
    conversation({ channel: 'chat', state: 'closed', group: 'general', at: NOW - 7_200_000, replyAfterMs: 999_000 });
    // e-mail: three open cases (one waiting 2 h), one closed
    conversation({ channel: 'email', state: 'waiting', group: 'general', at: NOW - 7_200_000 });
    conversation({ channel: 'email', state: 'assigned', group: 'general', at: NOW - 1_200_000, replyAfterMs: 600_000 });
    conversation({ channel: 'email', state: 'assigned', group: 'general', at: NOW - 1_200_000 });
    conversation({ channel: 'email', state: 'closed', group: 'general', at: NOW - 1_200_000, replyAfterMs: 300_000 });
  });

  afterAll(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes the nearest-rank percentile', () => {
    expect(percentile([], 95)).toBeNull();
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 95)).toBe(4);
  });

  it('counts waiting, active and open conversations and first responses per channel and group', () => {
    const s = new ChannelKpis(store.db, { now: () => NOW }).snapshot();
    expect(s.windowS).toBe(3600);
    expect(s.channels.chat).toEqual({
      waiting: 3,
      longestWaitingS: 90,
      active: 2,
      open: 5,
      firstResponse: { count: 3, p50S: 20, p95S: 100 },
    });
    expect(s.groups.chat['cards']).toMatchObject({ waiting: 2, longestWaitingS: 90, active: 1, firstResponse: { count: 1, p50S: 10 } });
    expect(s.groups.chat['unrouted']).toMatchObject({ waiting: 1, longestWaitingS: 5, active: 0 });
    expect(s.groups.chat['general']).toMatchObject({ waiting: 0, longestWaitingS: null, active: 1, firstResponse: { count: 2 } });
    expect(s.channels.email).toEqual({
      waiting: 1,
      longestWaitingS: 7200,
      active: 2,
      open: 3,
      firstResponse: { count: 2, p50S: 300, p95S: 600 },
    });
  });

  it('exposes gauges labelled by channel and group only, passing promtool', async () => {
    const registry = new Registry();
    bindChannels(registry, new ChannelKpis(store.db, { now: () => NOW }));
    const text = await registry.metrics();
    expect(text).toMatch(/^edgevox_channel_waiting\{channel="chat"\} 3$/m);
    expect(text).toMatch(/^edgevox_channel_waiting\{channel="chat",group="cards"\} 2$/m);
    expect(text).toMatch(/^edgevox_channel_open\{channel="email"\} 3$/m);
    expect(text).toMatch(/^edgevox_channel_longest_wait_seconds\{channel="email",group="general"\} 7200$/m);
    expect(text).toMatch(/^edgevox_channel_first_response_p95_seconds\{channel="chat"\} 100$/m);
    expect(text).toMatch(/^edgevox_channel_first_response_window_seconds 3600$/m);
    // no reply in `unrouted` yet: no percentile series for it
    expect(text).not.toMatch(/first_response_p50_seconds\{channel="chat",group="unrouted"\}/);
    for (const line of text.split('\n').filter((l) => l.startsWith('edgevox_channel_'))) {
      const labels = /\{([^}]*)\}/.exec(line)?.[1] ?? '';
      for (const pair of labels.split(',').filter(Boolean)) expect(pair.split('=')[0]).toMatch(/^(channel|group)$/);
    }
    if (hasPromtool()) expect(execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })).toBe('');
  });
});
