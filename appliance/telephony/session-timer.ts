/**
 * RFC 4028 session timers: negotiate the interval and refresher from an INVITE we answer (UAS
 * side), then either expect the peer's refreshes (end the call if none arrives before
 * SE - min(32, SE/3) seconds) or refresh ourselves at SE/2. On calls we placed (UAC side) the
 * 2xx names the refresher: `uac` is then us.
 */
import { optionTags, parseSessionExpires } from '../sip/grammar.js';
import type { SipRequest } from '../sip/message.js';

export type SessionTimerDecision =
  | { readonly type: 'none' }
  | { readonly type: 'too_small'; readonly minSe: number }
  | { readonly type: 'bad_header' }
  | { readonly type: 'active'; readonly intervalSec: number; readonly refresher: 'uac' | 'uas'; readonly requireTimer: boolean };

/** Decide the session timer for an INVITE / refresh (§9). */
export function negotiateSessionTimer(req: SipRequest, ourIntervalSec: number, ourMinSec: number): SessionTimerDecision {
  const supported = optionTags([...req.headers.getAll('supported'), ...req.headers.getAll('require')]).has('timer');
  const seRaw = req.headers.get('session-expires');
  let minSe = ourMinSec;
  const peerMin = req.headers.get('min-se');
  if (peerMin !== undefined) {
    const m = parseSessionExpires(peerMin);
    if (m === undefined) return { type: 'bad_header' };
    minSe = Math.max(minSe, m.seconds);
  }
  if (seRaw === undefined) {
    if (!supported) return { type: 'none' };
    // UAC supports timers but did not ask: we may insert one (§9, bullet 3)
    return { type: 'active', intervalSec: Math.max(ourIntervalSec, minSe), refresher: 'uac', requireTimer: true };
  }
  const se = parseSessionExpires(seRaw);
  if (se === undefined) return { type: 'bad_header' };
  if (se.seconds < ourMinSec) return { type: 'too_small', minSe: ourMinSec };
  const interval = Math.min(se.seconds, Math.max(ourIntervalSec, minSe));
  // refresher: the UAC's choice; if absent, the UAC when it supports timers, else us (§9)
  const refresher = se.refresher ?? (supported ? 'uac' : 'uas');
  return {
    type: 'active',
    intervalSec: interval,
    refresher: supported ? refresher : 'uas',
    requireTimer: supported && refresher === 'uac',
  };
}

/** Runs the session-timer clock of one call. */
export class SessionTimer {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly intervalSec: number,
    readonly refresher: 'uac' | 'uas',
    /** Called when we must send a refresh. */
    private readonly onRefreshDue: () => void,
    /** Called when the peer failed to refresh in time. */
    private readonly onExpired: () => void,
    /** Our role in the dialog's initial INVITE: we refresh when `refresher` names it. */
    private readonly ourRole: 'uac' | 'uas' = 'uas',
  ) {
    this.arm();
  }

  /** True when we send the refreshes. */
  get weRefresh(): boolean {
    return this.refresher === this.ourRole;
  }

  get headerValue(): string {
    return `${this.intervalSec};refresher=${this.refresher}`;
  }

  /** A refresh happened (either side): restart the clock. */
  refreshed(): void {
    this.arm();
  }

  private arm(): void {
    if (this.stopped) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const ours = this.weRefresh;
    const ms = ours ? (this.intervalSec * 1000) / 2 : (this.intervalSec - Math.min(32, this.intervalSec / 3)) * 1000;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopped) return;
      if (ours) this.onRefreshDue();
      else this.onExpired();
    }, ms);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
