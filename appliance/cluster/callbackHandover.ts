/**
 * Callback hand-over between the two boxes of a partition (docs/cluster.md "Callbacks when a box
 * dies"). Each box is the other's standby:
 *
 * - mirror: every callback request this box keeps is sent to the partner (`hold`) and every close
 *   (done, failed, cancelled) too (`close`), over the partner's peer route with the shared token. A
 *   bounded in-memory queue of ids (the number is read from the store only when sent), one message in
 *   flight, retried with backoff: a call never waits for it.
 * - adoption: when the front (cluster.frontRpcUrl) shows a partner whose requests this box holds as
 *   down, and the partner does not answer the peer route either, its held requests become this box's
 *   pending requests under the same ids (heldCallbacks.ts); this box's dialler places them.
 * - reconciliation: at start, before the dialler runs, the box asks the partner which of its requests
 *   were adopted and closes them here (`taken-over`); the partner returns the rest and adopts none
 *   of them after that answer. The box retries until the partner answers: its own dialler waits.
 */
import type { EventBus } from '../events/appEvents.js';
import type { Logger } from '../log/logger.js';
import type { Callbacks } from '../acd/callbacks.js';
import type { HeldCallbacks } from './heldCallbacks.js';
import { readFrontBoxes, type FrontBox } from './frontState.js';

export const PEER_ROUTE = '/api/v1/cluster/peer';
export const MIRROR_QUEUE_MAX = 10_000;
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 30_000;

export type PeerMessage =
  | {
      readonly op: 'hold';
      readonly home: string;
      readonly id: string;
      readonly groupId: string;
      readonly number: string;
      readonly requestedAt: number;
      readonly queuedAt: number;
    }
  | { readonly op: 'close'; readonly home: string; readonly id: string }
  | { readonly op: 'reconcile'; readonly home: string }
  | { readonly op: 'alive' };

export interface HandoverOptions {
  /** This box's name at the front (cluster.boxName). */
  readonly boxName: string;
  /** The partner's API base URL (cluster.peerUrl). */
  readonly peerUrl: string;
  readonly peerToken: string;
  /** The front's JSON-RPC URL; '' = no front (adoption only when driven by hand: `adoptIfDead`). */
  readonly frontRpcUrl: string;
  readonly adoptPollMs: number;
  readonly peerTimeoutMs?: number;
  /** Mirror messages kept while the partner does not answer (default MIRROR_QUEUE_MAX); the oldest dropped beyond. */
  readonly queueMax?: number;
}

export interface HandoverDeps {
  readonly callbacks: Pick<Callbacks, 'stored' | 'open' | 'takenOver' | 'list'>;
  readonly held: HeldCallbacks;
  readonly bus: Pick<EventBus, 'subscribe'>;
  readonly logger: Logger;
  readonly now: () => number;
  /** The front's boxes (default: read cluster.frontRpcUrl); tests drive it. */
  readonly frontBoxes?: () => Promise<FrontBox[] | null>;
}

type Queued = { readonly op: 'hold' | 'close'; readonly id: string };

export class CallbackHandover {
  private readonly queue: Queued[] = [];
  private sending = false;
  private backoffMs = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private off: (() => void) | null = null;
  private closed = false;
  /** Mirror messages dropped because the queue was full (the partner unreachable for long). */
  dropped = 0;
  /** Mirror messages the partner acknowledged. */
  sent = 0;
  /** Sends that failed (each followed by a backoff). */
  failedSends = 0;

  constructor(
    private readonly deps: HandoverDeps,
    private readonly opts: HandoverOptions,
  ) {}

  /** Mirror from now on (subscribes to the callback events). */
  startMirror(): void {
    this.off = this.deps.bus.subscribe((e) => {
      if (e.type === 'callback.requested') this.enqueue({ op: 'hold', id: e.id });
      else if (e.type === 'callback.cancelled' || e.type === 'callback.completed' || e.type === 'callback.failed')
        this.enqueue({ op: 'close', id: e.id });
    });
  }

  /** After reconciliation, with this box's API listening: mirror every open request again (the partner returned them). */
  resync(): void {
    for (const state of ['pending', 'dialing'] as const)
      for (const r of this.deps.callbacks.list({ state })) this.enqueue({ op: 'hold', id: r.id });
  }

  /** Adopt a dead partner's requests every adoptPollMs, from the front's state. */
  startAdoption(): void {
    const tick = async (): Promise<void> => {
      if (this.closed) return;
      try {
        await this.adoptDeadPartners();
      } catch (err) {
        this.deps.logger.warn({ reason: err instanceof Error ? err.message : String(err) }, 'callback adoption check failed');
      }
    };
    this.pollTimer = setInterval(() => void tick(), this.opts.adoptPollMs);
    this.pollTimer.unref();
  }

  /** Ask the partner, until it answers, which of this box's requests it adopted; close those here. How many. */
  async reconcile(): Promise<number> {
    let wait = BACKOFF_MIN_MS;
    let warned = false;
    for (;;) {
      if (this.closed) return 0;
      const reply = await this.post({ op: 'reconcile', home: this.opts.boxName });
      const ids = (reply as { adopted?: unknown } | null)?.adopted;
      if (Array.isArray(ids)) {
        let n = 0;
        for (const id of ids) if (typeof id === 'string' && this.deps.callbacks.takenOver(id)) n++;
        if (n > 0) this.deps.logger.info({ takenOver: n }, 'callbacks placed by the partner while this box was down are closed here');
        return n;
      }
      if (!warned) this.deps.logger.warn({}, 'the partner box does not answer: callbacks wait until it tells which it adopted');
      warned = true;
      await new Promise((r) => setTimeout(r, wait).unref());
      wait = Math.min(BACKOFF_MAX_MS, wait * 2);
    }
  }

  /** Adopt the held requests of each partner the front shows down, unless it still answers the peer route. */
  async adoptDeadPartners(): Promise<string[]> {
    const homes = this.deps.held.homes();
    if (homes.size === 0) return [];
    const boxes = await (
      this.deps.frontBoxes ?? (() => (this.opts.frontRpcUrl === '' ? Promise.resolve(null) : readFrontBoxes(this.opts.frontRpcUrl)))
    )();
    if (boxes === null) return [];
    const adopted: string[] = [];
    for (const home of homes.keys()) {
      const entries = boxes.filter((b) => b.name === home);
      if (entries.length === 0 || entries.some((b) => b.state === 'up')) continue;
      adopted.push(...(await this.adoptIfDead(home)));
    }
    return adopted;
  }

  /** `home` is down at the front: adopt its held requests unless it answers the peer route (alive, e.g. draining or full). */
  async adoptIfDead(home: string): Promise<string[]> {
    if ((await this.post({ op: 'alive' })) !== null) return [];
    const ids = this.deps.held.adopt(home, this.deps.now());
    if (ids.length > 0) this.deps.logger.warn({ adopted: ids.length }, 'the partner box is down: its callbacks are placed here');
    return ids;
  }

  close(): void {
    this.closed = true;
    this.off?.();
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    if (this.pollTimer !== null) clearInterval(this.pollTimer);
  }

  /** Messages waiting to be sent. */
  get backlog(): number {
    return this.queue.length;
  }

  private enqueue(m: Queued): void {
    if (this.closed) return;
    if (this.queue.length >= (this.opts.queueMax ?? MIRROR_QUEUE_MAX)) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(m);
    this.pump();
  }

  private pump(): void {
    if (this.sending || this.retryTimer !== null || this.closed || this.queue.length === 0) return;
    this.sending = true;
    const m = this.queue[0]!;
    void this.send(m).then((ok) => {
      this.sending = false;
      if (ok) {
        if (this.queue[0] === m) this.queue.shift();
        this.sent++;
        this.backoffMs = 0;
        this.pump();
        return;
      }
      this.failedSends++;
      this.backoffMs = this.backoffMs === 0 ? BACKOFF_MIN_MS : Math.min(BACKOFF_MAX_MS, this.backoffMs * 2);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.pump();
      }, this.backoffMs);
      this.retryTimer.unref();
    });
  }

  /** Send one mirror message; true when acknowledged, or when there is nothing to send any more. */
  private async send(m: Queued): Promise<boolean> {
    const home = this.opts.boxName;
    if (m.op === 'close') return (await this.post({ op: 'close', home, id: m.id })) !== null;
    const r = this.deps.callbacks.stored(m.id);
    if (r === undefined) return true;
    if (r.state !== 'pending' && r.state !== 'dialing') return (await this.post({ op: 'close', home, id: m.id })) !== null;
    let number: string | undefined;
    try {
      number = this.deps.callbacks.open(m.id);
    } catch {
      return true; // a sealed number that no longer opens cannot be handed over
    }
    if (number === undefined) return true;
    const msg: PeerMessage = { op: 'hold', home, id: r.id, groupId: r.groupId, number, requestedAt: r.requestedAt, queuedAt: r.queuedAt };
    return (await this.post(msg)) !== null;
  }

  /** POST to the partner's peer route; its JSON reply, or null when it did not answer 2xx. */
  private async post(body: PeerMessage): Promise<unknown> {
    try {
      const res = await fetch(new URL(PEER_ROUTE, this.opts.peerUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.opts.peerToken}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.peerTimeoutMs ?? 2000),
      });
      if (!res.ok) return null;
      return await res.json();
    } catch {
      return null;
    }
  }
}
