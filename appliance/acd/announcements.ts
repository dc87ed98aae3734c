/**
 * What a queued caller hears and when: music on hold, and every `announceIntervalS` of the group
 * (default 30 s; 0 = never) their position and expected wait, each a whole prompt of the prompt
 * store (`position-N`, `expected-wait-N`; no concatenation during a call).
 *
 * - On entering a queue (or another one after an overflow) the caller hears the announcement at
 *   once, then music; then the announcement again every interval, music resuming after it.
 * - Position: "you are number N" while a `position-N` prompt exists (1..20 in the built defaults).
 *   The texts have no generic prompt for a longer queue, so beyond the range the position is left
 *   out and only the expected wait is said.
 * - Expected wait, as a contact centre says it: never under 1 minute or when unknown (nobody
 *   staffed); whole minutes rounded *up* to 10 minutes, above that rounded up to the next 5 minutes
 *   (12 → 15), so a caller is not promised less than the estimate; not said above the largest
 *   prompt (30 minutes).
 * - The estimate: position × average handle time ÷ staffed agents (the usual "simple EWT"). The
 *   handle time is the group's recent AHT from the KPI engine when it has enough handled calls,
 *   else routing's `avgHandleMs` (appliance/acd/queueView.ts).
 *
 * The pure functions decide; `QueueAnnouncer` is the small driver with an injected timer: one timer
 * per queued call, a callback that plays, and a callback when the group's longest wait is reached.
 */

export type QueueAudio = { readonly kind: 'prompt'; readonly name: string } | { readonly kind: 'music'; readonly name: 'hold-music' };

export const HOLD_MUSIC: QueueAudio = { kind: 'music', name: 'hold-music' };

/** The numbered prompts that exist: position-1..maxPosition, expected-wait-1..maxWaitMinutes. */
export interface PromptRanges {
  readonly maxPosition: number;
  readonly maxWaitMinutes: number;
}

/** The ranges of provisioning/prompts/texts.en.json. */
export const DEFAULT_PROMPT_RANGES: PromptRanges = { maxPosition: 20, maxWaitMinutes: 30 };

/** The ranges from a prompt store's file names: the highest N with every prompt 1..N present. */
export function promptRangesOf(names: Iterable<string>): PromptRanges {
  const have = new Set(names);
  const top = (prefix: string) => {
    let n = 0;
    while (have.has(`${prefix}-${n + 1}`)) n++;
    return n;
  };
  return { maxPosition: top('position'), maxWaitMinutes: top('expected-wait') };
}

/** Expected wait of the caller at `position` (1 = next): position × handle time ÷ staffed agents; null when unknown. */
export function expectedWaitMs(position: number, staffedAgents: number, handleMs: number | null): number | null {
  if (staffedAgents <= 0 || handleMs === null || !Number.isFinite(handleMs) || handleMs <= 0 || position < 1) return null;
  return (position * handleMs) / staffedAgents;
}

/** The minutes to announce for an expected wait (see the module comment), or null for none. */
export function announcedWaitMinutes(waitMs: number | null, maxMinutes: number = DEFAULT_PROMPT_RANGES.maxWaitMinutes): number | null {
  if (waitMs === null || !Number.isFinite(waitMs) || waitMs < 60_000) return null;
  let minutes = Math.ceil(waitMs / 60_000);
  if (minutes > 10) minutes = Math.ceil(minutes / 5) * 5;
  return minutes <= maxMinutes ? minutes : null;
}

/** Where a queued call stands now. */
export interface QueuePlace {
  /** 1 = next to be answered in its group. */
  readonly position: number;
  readonly expectedWaitMs: number | null;
}

/** The announcement prompts for a place in the queue (possibly none). */
export function announcementFor(place: QueuePlace, ranges: PromptRanges = DEFAULT_PROMPT_RANGES): QueueAudio[] {
  const out: QueueAudio[] = [];
  if (place.position >= 1 && place.position <= ranges.maxPosition) out.push({ kind: 'prompt', name: `position-${place.position}` });
  const minutes = announcedWaitMinutes(place.expectedWaitMs, ranges.maxWaitMinutes);
  if (minutes !== null) out.push({ kind: 'prompt', name: `expected-wait-${minutes}` });
  return out;
}

export interface AnnouncementStep {
  /** To play now, in order; the music, when last, loops until the next items. Empty: carry on. */
  readonly items: readonly QueueAudio[];
  /** The slot this step used (set it as lastAnnouncedAt), or null when nothing was due. */
  readonly announcedAt: number | null;
  /** When to ask again; null: never (no announcements). */
  readonly nextAt: number | null;
}

/** What to play at `nowMs` for a call that entered its queue and was last announced at `lastAnnouncedAt` (null: never). */
export function nextQueueAudio(input: {
  readonly lastAnnouncedAt: number | null;
  readonly intervalMs: number;
  readonly nowMs: number;
  readonly place: QueuePlace;
  readonly ranges?: PromptRanges;
}): AnnouncementStep {
  const { lastAnnouncedAt, intervalMs, nowMs, place } = input;
  const ranges = input.ranges ?? DEFAULT_PROMPT_RANGES;
  if (intervalMs <= 0) return { items: lastAnnouncedAt === null ? [HOLD_MUSIC] : [], announcedAt: lastAnnouncedAt ?? nowMs, nextAt: null };
  if (lastAnnouncedAt !== null && nowMs < lastAnnouncedAt + intervalMs)
    return { items: [], announcedAt: null, nextAt: lastAnnouncedAt + intervalMs };
  const prompts = announcementFor(place, ranges);
  const entering = lastAnnouncedAt === null;
  return {
    items: prompts.length > 0 || entering ? [...prompts, HOLD_MUSIC] : [],
    announcedAt: nowMs,
    nextAt: nowMs + intervalMs,
  };
}

// ---- driver ----

/** The timer the driver uses (tests pass a fake clock's). */
export interface Timer {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const NODE_TIMER: Timer = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** A queued call as the driver needs it, read afresh at each step. */
export interface QueuedCallView extends QueuePlace {
  readonly groupId: string;
  readonly announceIntervalMs: number;
  /** When the group's longest wait is reached (null: no limit). */
  readonly maxWaitDueAt: number | null;
}

export interface QueueAnnouncerDeps {
  readonly now: () => number;
  /** The call's place now; null once it is no longer queued (the driver then forgets it). */
  readonly view: (callId: string) => QueuedCallView | null;
  readonly play: (callId: string, items: readonly QueueAudio[]) => void;
  /** The group's longest wait is reached (once per `maxWaitDueAt` of the view, which may move on): apply queuePolicy.onMaxWait. */
  readonly maxWait?: (callId: string) => void;
  readonly timer?: Timer;
  readonly ranges?: PromptRanges;
  /** A play or maxWait callback threw (it is contained: the other calls carry on). */
  readonly onError?: (err: unknown) => void;
}

interface Tracked {
  lastAnnouncedAt: number | null;
  /** The longest-wait time `maxWait` was told of; a later one (the rule kept the call waiting) is told again. */
  maxWaitFiredFor: number | null;
  handle: unknown;
}

/** Announces every queued call on its own timer; the orchestrator adds a call when it enters a queue and removes it when it leaves. */
export class QueueAnnouncer {
  private readonly calls = new Map<string, Tracked>();
  private readonly timer: Timer;
  private closed = false;

  constructor(private readonly deps: QueueAnnouncerDeps) {
    this.timer = deps.timer ?? NODE_TIMER;
  }

  /** The call entered a queue (again after an overflow: its announcements start over). */
  add(callId: string): void {
    if (this.closed) return;
    this.remove(callId);
    this.calls.set(callId, { lastAnnouncedAt: null, maxWaitFiredFor: null, handle: null });
    this.step(callId);
  }

  /** The call left the queue (answered, abandoned, sent elsewhere). */
  remove(callId: string): void {
    const t = this.calls.get(callId);
    if (t === undefined) return;
    if (t.handle !== null) this.timer.clearTimeout(t.handle);
    this.calls.delete(callId);
  }

  get size(): number {
    return this.calls.size;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const id of [...this.calls.keys()]) this.remove(id);
  }

  private step(callId: string): void {
    const t = this.calls.get(callId);
    if (t === undefined) return;
    t.handle = null;
    let view = this.deps.view(callId);
    if (view === null) return this.remove(callId);
    const now = this.deps.now();
    const maxWaitDue = (v: QueuedCallView): number | null =>
      v.maxWaitDueAt !== null && (t.maxWaitFiredFor === null || v.maxWaitDueAt > t.maxWaitFiredFor) ? v.maxWaitDueAt : null;
    const dueNow = maxWaitDue(view);
    if (dueNow !== null && now >= dueNow) {
      t.maxWaitFiredFor = dueNow;
      this.contain(() => this.deps.maxWait?.(callId));
      // The callback may have moved the call (add) or ended its wait (remove); kept waiting, its next longest wait may have moved on.
      if (this.calls.get(callId) !== t) return;
      view = this.deps.view(callId);
      if (view === null) return this.remove(callId);
    }
    const step = nextQueueAudio({
      lastAnnouncedAt: t.lastAnnouncedAt,
      intervalMs: view.announceIntervalMs,
      nowMs: now,
      place: view,
      ...(this.deps.ranges ? { ranges: this.deps.ranges } : {}),
    });
    if (step.announcedAt !== null) t.lastAnnouncedAt = step.announcedAt;
    if (step.items.length > 0) this.contain(() => this.deps.play(callId, step.items));
    if (this.calls.get(callId) !== t) return;
    const due = [step.nextAt, maxWaitDue(view)].filter((x): x is number => x !== null);
    if (due.length === 0) return;
    t.handle = this.timer.setTimeout(() => this.step(callId), Math.max(0, Math.min(...due) - now));
  }

  private contain(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.deps.onError?.(err);
    }
  }
}
