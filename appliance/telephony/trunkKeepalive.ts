/**
 * OPTIONS keep-alive of one trunk (RFC 3261 §11). Any final answer, even 404, 405 or 483, means
 * the trunk is reachable: up (Kamailio's dispatcher and jambonz read it the same way). No answer
 * (Timer F) or a connection that cannot be opened counts a failure; `downAfter` failures in a row
 * mean down, and one answer brings it up again. Probes run every `keepaliveSec`, the first one
 * jittered so that trunks (and boxes restarted together) do not probe in step.
 */
import type { SipPeer, SipResponse } from '../sip/message.js';
import { createOptions } from '../sip/outOfDialog.js';
import {
  failureReason,
  type TimerHandle,
  type TrunkClock,
  type TrunkConfig,
  type TrunkSignalling,
  type TrunkState,
  type TrunkStateEvent,
} from './trunkTypes.js';

/** The longest first-probe delay: a restarted box knows its trunks within seconds. */
const MAX_FIRST_PROBE_JITTER_MS = 5000;

export interface TrunkKeepaliveOptions {
  readonly trunk: TrunkConfig;
  readonly peer: SipPeer;
  readonly signalling: TrunkSignalling;
  readonly clock: TrunkClock;
  /** Consecutive failures that mean down. */
  readonly downAfter: number;
  /** A uniform number in [0, 1) for the first probe's jitter. */
  readonly random: () => number;
  readonly onChange: (e: TrunkStateEvent) => void;
}

export class TrunkKeepalive {
  state: TrunkState = 'unknown';
  since: number;
  reason = 'not probed yet';
  rttMs: number | null = null;
  private failures = 0;
  private cseq = 0;
  private timer: TimerHandle | undefined;
  private closed = false;
  private readonly intervalMs: number;

  constructor(private readonly o: TrunkKeepaliveOptions) {
    this.since = o.clock.now();
    this.intervalMs = o.trunk.keepaliveSec * 1000;
  }

  start(): void {
    if (this.closed || this.intervalMs <= 0) return;
    this.schedule(this.o.random() * Math.min(this.intervalMs, MAX_FIRST_PROBE_JITTER_MS));
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.probe();
    }, ms);
  }

  private probe(): void {
    if (this.closed) return;
    const { signalling, peer, clock } = this.o;
    const started = clock.now();
    let sent: Promise<SipResponse>;
    try {
      const req = createOptions(
        { host: this.o.trunk.host, port: peer.port, transport: peer.transport },
        signalling.localEndpoint(peer),
        ++this.cseq,
      );
      sent = signalling.request(req, peer);
    } catch (err) {
      // thrown instead of rejected: a failure all the same, and probing carries on
      sent = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    void sent.then(
      (res) => this.settle(started, () => this.answered(res.status, clock.now() - started)),
      (err: unknown) => this.settle(started, () => this.failed(failureReason(err))),
    );
  }

  private settle(started: number, apply: () => void): void {
    if (this.closed) return;
    apply();
    // the next probe an interval after this one started, never two at once
    this.schedule(Math.max(0, this.intervalMs - (this.o.clock.now() - started)));
  }

  private answered(status: number, rttMs: number): void {
    this.failures = 0;
    this.rttMs = Math.max(0, Math.round(rttMs));
    if (this.state !== 'up') this.change('up', `answered ${status}`);
  }

  private failed(reason: string): void {
    this.failures++;
    if (this.failures >= this.o.downAfter && this.state !== 'down') {
      this.rttMs = null;
      this.change('down', reason);
    }
  }

  private change(state: TrunkState, reason: string): void {
    this.state = state;
    this.reason = reason;
    this.since = this.o.clock.now();
    this.o.onChange({ trunk: this.o.trunk.name, state, reason, rttMs: this.rttMs });
  }

  /** Stop probing; an answer still on its way is ignored. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
