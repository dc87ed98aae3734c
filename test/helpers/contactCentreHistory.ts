/**
 * Weeks of contact-centre calls for the forecasting tests, told to the ACD's KPI engine as the ACD
 * would (offered, answered or abandoned, talk end, wrap-up end), in time order, with the history
 * roll-up run as the box runs it. Arrivals per interval are Poisson around a day-of-week ×
 * time-of-day profile (seeded); the expected figures of each interval come from the same list, so a
 * test can check what the history says against what happened.
 */
import type { AcdFactSink } from '../../appliance/acd/kpiTypes.js';

export interface SimCall {
  readonly id: string;
  readonly groupId: string;
  readonly offeredAt: number;
  /** Wait before an agent answered; null: the caller hung up after abandonAfterS. */
  readonly answerAfterS: number | null;
  readonly abandonAfterS: number;
  readonly talkS: number;
  readonly wrapUpS: number;
}

/** A small seeded generator (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function poisson(mean: number, rnd: () => number): number {
  if (mean <= 0) return 0;
  const limit = Math.exp(-mean);
  let k = 0;
  let p = rnd();
  while (p > limit) {
    k++;
    p *= rnd();
  }
  return k;
}

/**
 * Mean calls of an interval: open 10 h a day from `openHour` UTC (default 08:00) with a peak 3 h
 * after opening, weekends at a third.
 */
export function officeProfile(perIntervalAtPeak: number, openHour = 8): (start: number) => number {
  return (start) => {
    const d = new Date(start);
    const hour = (d.getUTCHours() + d.getUTCMinutes() / 60 - openHour + 24) % 24;
    if (hour >= 10) return 0;
    const shape = 0.4 + 0.6 * Math.exp(-((hour - 3) ** 2) / 8);
    // the weekday of the opening hour, so a day that runs past midnight UTC stays one day
    const opened = new Date(start - hour * 3_600_000);
    const weekend = opened.getUTCDay() === 0 || opened.getUTCDay() === 6 ? 1 / 3 : 1;
    return perIntervalAtPeak * shape * weekend;
  };
}

/** Calls offered in [from, to): per interval and group, Poisson around `mean(start)`; 10 % abandon. */
export function simulateCalls(opts: {
  from: number;
  to: number;
  intervalMs: number;
  groups: readonly { id: string; mean: (start: number) => number; talkS: number }[];
  seed: number;
}): SimCall[] {
  const rnd = seeded(opts.seed);
  const calls: SimCall[] = [];
  let n = 0;
  for (let start = opts.from; start < opts.to; start += opts.intervalMs) {
    for (const g of opts.groups) {
      const count = poisson(g.mean(start), rnd);
      for (let i = 0; i < count; i++) {
        const abandons = rnd() < 0.1;
        calls.push({
          id: `sim-${++n}`,
          groupId: g.id,
          offeredAt: start + Math.floor(rnd() * (opts.intervalMs - 1000)),
          answerAfterS: abandons ? null : 2 + Math.floor(rnd() * 40),
          abandonAfterS: 5 + Math.floor(rnd() * 60),
          talkS: Math.round(g.talkS * (0.5 + rnd())),
          wrapUpS: 20 + Math.floor(rnd() * 20),
        });
      }
    }
  }
  return calls.sort((a, b) => a.offeredAt - b.offeredAt);
}

type Fact = { at: number; order: number; apply: (f: AcdFactSink) => void };

/**
 * Tell `facts` every call in time order (agents from a round-robin pool of `agents`); before each
 * fact past the next roll-up mark (every `rollUpEveryMs`), set the clock to the mark and roll up.
 * Ends with the clock at `until` and one more roll-up. Facts after `until` are not told.
 */
export function replayCalls(
  facts: AcdFactSink,
  calls: readonly SimCall[],
  opts: { clock: { now: number }; rollUp: () => void; rollUpEveryMs: number; until: number; agents?: number },
): void {
  const pool = opts.agents ?? 400;
  const list: Fact[] = [];
  let k = 0;
  for (const c of calls) {
    const agent = `agent-${k++ % pool}`;
    list.push({ at: c.offeredAt, order: 0, apply: (f) => f.offered(c.id, c.groupId, c.offeredAt) });
    if (c.answerAfterS === null) {
      const at = c.offeredAt + c.abandonAfterS * 1000;
      list.push({ at, order: 1, apply: (f) => f.abandoned(c.id, at) });
      continue;
    }
    const answered = c.offeredAt + c.answerAfterS * 1000;
    const talkEnd = answered + c.talkS * 1000;
    const wrapEnd = talkEnd + c.wrapUpS * 1000;
    list.push({ at: answered, order: 1, apply: (f) => f.answered(c.id, agent, answered) });
    list.push({ at: talkEnd, order: 2, apply: (f) => f.talkEnded(c.id, talkEnd) });
    list.push({ at: wrapEnd, order: 3, apply: (f) => f.wrapUpEnded(agent, wrapEnd) });
  }
  list.sort((a, b) => a.at - b.at || a.order - b.order);
  let mark = list.length > 0 ? Math.floor(list[0]!.at / opts.rollUpEveryMs) * opts.rollUpEveryMs + opts.rollUpEveryMs : opts.until;
  for (const fact of list) {
    if (fact.at >= opts.until) break;
    while (fact.at >= mark) {
      opts.clock.now = mark;
      opts.rollUp();
      mark += opts.rollUpEveryMs;
    }
    opts.clock.now = fact.at;
    fact.apply(facts);
  }
  opts.clock.now = opts.until;
  opts.rollUp();
}

/** What happened in each interval of one group (or all, groupId undefined): offered, abandoned, handled, handle ms, counting calls whose wrap-up ended before `until`. */
export function expectedIntervals(
  calls: readonly SimCall[],
  intervalMs: number,
  until: number,
  groupId?: string,
): Map<number, { offered: number; answered: number; abandoned: number; handled: number; handleMs: number }> {
  const out = new Map<number, { offered: number; answered: number; abandoned: number; handled: number; handleMs: number }>();
  for (const c of calls) {
    if (groupId !== undefined && c.groupId !== groupId) continue;
    if (c.offeredAt >= until) continue;
    const start = Math.floor(c.offeredAt / intervalMs) * intervalMs;
    const e = out.get(start) ?? { offered: 0, answered: 0, abandoned: 0, handled: 0, handleMs: 0 };
    e.offered++;
    if (c.answerAfterS === null) {
      if (c.offeredAt + c.abandonAfterS * 1000 < until) e.abandoned++;
    } else {
      const answered = c.offeredAt + c.answerAfterS * 1000;
      if (answered < until) e.answered++;
      const wrapEnd = answered + (c.talkS + c.wrapUpS) * 1000;
      if (wrapEnd < until) {
        e.handled++;
        e.handleMs += (c.talkS + c.wrapUpS) * 1000;
      }
    }
    out.set(start, e);
  }
  return out;
}
