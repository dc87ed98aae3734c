/** What a queued caller hears and when: the rounding of the expected wait, the prompts, the schedule and its driver. */
import { describe, expect, it } from 'vitest';
import {
  announcedWaitMinutes,
  announcementFor,
  expectedWaitMs,
  HOLD_MUSIC,
  nextQueueAudio,
  promptRangesOf,
  QueueAnnouncer,
  type QueueAudio,
  type QueuedCallView,
  type Timer,
} from '../../../appliance/acd/announcements.js';

const MIN = 60_000;
const names = (items: readonly QueueAudio[]) => items.map((i) => i.name);

describe('the expected wait as announced', () => {
  it('is not said under a minute or when unknown; whole minutes rounded up to 10, then up to 5-minute steps; not beyond the prompts', () => {
    const cases: [number | null, number | null][] = [
      [null, null],
      [Number.POSITIVE_INFINITY, null],
      [59_999, null],
      [60_000, 1],
      [60_001, 2],
      [2.5 * MIN, 3],
      [10 * MIN, 10],
      [10 * MIN + 1, 15],
      [12 * MIN, 15],
      [15 * MIN, 15],
      [16 * MIN, 20],
      [29 * MIN, 30],
      [30 * MIN, 30],
      [31 * MIN, null],
    ];
    for (const [ms, minutes] of cases) expect(announcedWaitMinutes(ms), String(ms)).toBe(minutes);
    expect(announcedWaitMinutes(31 * MIN, 60)).toBe(35);
  });

  it('is position × handle time ÷ staffed agents, unknown with nobody staffed', () => {
    expect(expectedWaitMs(3, 2, 240_000)).toBe(360_000);
    expect(expectedWaitMs(1, 4, 240_000)).toBe(60_000);
    expect(expectedWaitMs(3, 0, 240_000)).toBeNull();
    expect(expectedWaitMs(3, 2, null)).toBeNull();
  });
});

describe('announcementFor', () => {
  it('says the position while a position-N prompt exists, then only the expected wait', () => {
    expect(names(announcementFor({ position: 3, expectedWaitMs: 5.5 * MIN }))).toEqual(['position-3', 'expected-wait-6']);
    expect(names(announcementFor({ position: 1, expectedWaitMs: 30_000 }))).toEqual(['position-1']);
    expect(names(announcementFor({ position: 20, expectedWaitMs: null }))).toEqual(['position-20']);
    expect(names(announcementFor({ position: 21, expectedWaitMs: 12 * MIN }))).toEqual(['expected-wait-15']);
    expect(names(announcementFor({ position: 40, expectedWaitMs: 45 * MIN }))).toEqual([]);
    expect(names(announcementFor({ position: 8, expectedWaitMs: 3 * MIN }, { maxPosition: 5, maxWaitMinutes: 2 }))).toEqual([]);
  });

  it('reads the ranges from the prompt names', () => {
    const list = ['greeting', 'hold-music', ...[1, 2, 3, 5].map((n) => `position-${n}`), ...[1, 2].map((n) => `expected-wait-${n}`)];
    expect(promptRangesOf(list)).toEqual({ maxPosition: 3, maxWaitMinutes: 2 });
  });
});

describe('nextQueueAudio', () => {
  const place = { position: 2, expectedWaitMs: 4 * MIN };

  it('announces on entry then music, again every interval, nothing in between', () => {
    const entry = nextQueueAudio({ lastAnnouncedAt: null, intervalMs: 30_000, nowMs: 1000, place });
    expect(entry).toEqual({
      items: [
        { kind: 'prompt', name: 'position-2' },
        { kind: 'prompt', name: 'expected-wait-4' },
        { kind: 'music', name: 'hold-music' },
      ],
      announcedAt: 1000,
      nextAt: 31_000,
    });
    expect(nextQueueAudio({ lastAnnouncedAt: 1000, intervalMs: 30_000, nowMs: 20_000, place })).toEqual({
      items: [],
      announcedAt: null,
      nextAt: 31_000,
    });
    expect(
      names(
        nextQueueAudio({ lastAnnouncedAt: 1000, intervalMs: 30_000, nowMs: 31_000, place: { position: 1, expectedWaitMs: 2 * MIN } }).items,
      ),
    ).toEqual(['position-1', 'expected-wait-2', 'hold-music']);
  });

  it('music only when there is nothing to say; none at all with the interval 0', () => {
    const far = { position: 25, expectedWaitMs: null };
    expect(names(nextQueueAudio({ lastAnnouncedAt: null, intervalMs: 30_000, nowMs: 0, place: far }).items)).toEqual(['hold-music']);
    expect(nextQueueAudio({ lastAnnouncedAt: 0, intervalMs: 30_000, nowMs: 30_000, place: far })).toEqual({
      items: [],
      announcedAt: 30_000,
      nextAt: 60_000,
    });
    expect(nextQueueAudio({ lastAnnouncedAt: null, intervalMs: 0, nowMs: 5, place })).toEqual({
      items: [HOLD_MUSIC],
      announcedAt: 5,
      nextAt: null,
    });
  });
});

/** A fake clock whose timers run when it is moved forward. */
function fakeClock() {
  let now = 0;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const timer: Timer = {
    setTimeout: (fn, ms) => {
      timers.set(++seq, { at: now + ms, fn });
      return seq;
    },
    clearTimeout: (h) => void timers.delete(h as number),
  };
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      const next = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (next === undefined) break;
      timers.delete(next[0]);
      now = next[1].at;
      next[1].fn();
    }
    now = end;
  };
  return { timer, now: () => now, advance, pending: () => timers.size };
}

describe('QueueAnnouncer', () => {
  it('plays on entry and every interval, fires the longest wait once, and forgets a call that left', () => {
    const clock = fakeClock();
    const played: [number, string[]][] = [];
    const maxWaits: number[] = [];
    let view: QueuedCallView | null = {
      groupId: 'g',
      position: 3,
      expectedWaitMs: 3 * MIN,
      announceIntervalMs: 30_000,
      maxWaitDueAt: 45_000,
    };
    const a = new QueueAnnouncer({
      now: clock.now,
      timer: clock.timer,
      view: () => view,
      play: (_id, items) => played.push([clock.now(), names(items)]),
      maxWait: () => maxWaits.push(clock.now()),
    });
    a.add('c1');
    expect(played).toEqual([[0, ['position-3', 'expected-wait-3', 'hold-music']]]);
    view = { ...view, position: 2, expectedWaitMs: 2 * MIN };
    clock.advance(30_000);
    expect(played[1]).toEqual([30_000, ['position-2', 'expected-wait-2', 'hold-music']]);
    clock.advance(20_000);
    expect(maxWaits).toEqual([45_000]);
    clock.advance(60_000);
    expect(maxWaits).toEqual([45_000]);
    expect(played.map(([t]) => t)).toEqual([0, 30_000, 60_000, 90_000]);
    view = null; // answered: the next step forgets it
    clock.advance(30_000);
    expect(a.size).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('contains a player that throws, starts over after an overflow, and closes every timer', () => {
    const clock = fakeClock();
    const errors: unknown[] = [];
    let plays = 0;
    const view: QueuedCallView = { groupId: 'g', position: 1, expectedWaitMs: null, announceIntervalMs: 30_000, maxWaitDueAt: null };
    const a = new QueueAnnouncer({
      now: clock.now,
      timer: clock.timer,
      view: () => view,
      play: () => {
        plays++;
        throw new Error('player gone');
      },
      onError: (e) => errors.push(e),
    });
    a.add('c1');
    a.add('c2');
    clock.advance(10_000);
    a.add('c1'); // moved to another queue: announced at once again
    expect(plays).toBe(3);
    expect(errors).toHaveLength(3);
    a.remove('c2');
    expect(clock.pending()).toBe(1);
    a.close();
    expect(clock.pending()).toBe(0);
    a.add('c3');
    expect(a.size).toBe(0);
  });
});
