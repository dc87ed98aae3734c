/**
 * Outbound registration of one trunk with a provider's registrar (RFC 3261 §10.2), with digest
 * authentication (§22.2, RFC 7616).
 *
 * Each REGISTER starts without credentials; a 401/407 challenge is answered once per nonce, and a
 * second challenge after credentials went out (unless it only says the nonce was stale) means the
 * credentials were refused: no loop. The registrar's grant (the Contact's expires, else Expires)
 * is honoured and refreshed at about 80% of it and at least 30 s before it runs out; 423 Interval
 * Too Brief is retried once with its Min-Expires. Failures are retried after 30 s, doubling to
 * 10 min. `close()` removes the binding (Expires: 0) within a bounded wait. The registrar user
 * name and password never reach events, reasons or logs.
 */
import { answerDigestChallenge, chooseChallenge } from '../sip/auth.js';
import { parseNameAddr } from '../sip/grammar.js';
import type { LocalEndpoint } from '../sip/dialog.js';
import type { SipPeer, SipResponse } from '../sip/message.js';
import { createRegister, newCallId, type RegistrationIdentity } from '../sip/outOfDialog.js';
import { randomToken } from '../sip/serialize.js';
import { secureInt } from '../randomness.js';
import {
  failureReason,
  type TimerHandle,
  type TrunkClock,
  type TrunkConfig,
  type TrunkRegistrationConfig,
  type TrunkRegistrationEvent,
  type TrunkRegistrationState,
  type TrunkSignalling,
} from './trunkTypes.js';

/** The longest expiry asked for after a 423 (the config's own limit). */
const MAX_EXPIRES_SEC = 86_400;
/** Challenges answered for one REGISTER before giving up (proxy then registrar, one stale nonce). */
const MAX_CHALLENGES = 3;

export interface RegistrationBackoff {
  readonly firstMs: number;
  readonly maxMs: number;
}

export const DEFAULT_REGISTRATION_BACKOFF: RegistrationBackoff = { firstMs: 30_000, maxMs: 600_000 };

/** When to refresh a grant of `expiresSec`: ~80% of it, at least 30 s before the end, never before half. */
export function refreshDelayMs(expiresSec: number): number {
  const sec = Math.max(Math.min(0.8 * expiresSec, expiresSec - 30), expiresSec / 2);
  return Math.round(sec * 1000);
}

export interface TrunkRegistrationOptions {
  readonly trunk: TrunkConfig;
  readonly register: TrunkRegistrationConfig;
  readonly peer: SipPeer;
  readonly signalling: TrunkSignalling;
  readonly clock: TrunkClock;
  readonly backoff: RegistrationBackoff;
  readonly onChange: (e: TrunkRegistrationEvent) => void;
}

type Outcome =
  | { readonly kind: 'granted'; readonly expiresSec: number; readonly status: number }
  | { readonly kind: 'failed'; readonly reason: string }
  | { readonly kind: 'interval'; readonly minExpiresSec: number | undefined };

export class TrunkRegistration {
  state: TrunkRegistrationState = 'unregistered';
  since: number;
  reason = 'not registered yet';
  expiresSec = 0;
  private readonly id: RegistrationIdentity;
  private cseq = secureInt(1, 10_000);
  private askSec: number;
  private backoffMs = 0;
  private timer: TimerHandle | undefined;
  private closed = false;

  constructor(private readonly o: TrunkRegistrationOptions) {
    this.since = o.clock.now();
    this.askSec = o.register.expiresSec;
    this.id = {
      registrar: { host: o.trunk.host, port: o.peer.port, transport: o.peer.transport },
      domain: o.register.domain === '' ? o.trunk.host : o.register.domain,
      username: o.register.username,
      callId: newCallId(o.signalling.localEndpoint(o.peer)),
      fromTag: randomToken(),
    };
  }

  start(): void {
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      void this.cycle();
    }, ms);
  }

  /** One registration (or refresh), then the next one scheduled. */
  private async cycle(): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await this.register(this.askSec, false);
      if (outcome.kind === 'interval') {
        const min = outcome.minExpiresSec;
        if (min !== undefined && min > this.askSec && min <= MAX_EXPIRES_SEC) {
          this.askSec = min;
          outcome = await this.register(min, false);
        }
        if (outcome.kind === 'interval') outcome = { kind: 'failed', reason: 'interval too brief' };
      }
    } catch {
      // a bug, not the registrar: counted as a failure, retried like one, never an unhandled rejection
      outcome = { kind: 'failed', reason: 'internal error' };
    }
    if (this.closed) return;
    if (outcome.kind === 'granted') {
      this.backoffMs = 0;
      this.change('registered', outcome.expiresSec, `answered ${outcome.status}`);
      this.schedule(refreshDelayMs(outcome.expiresSec));
    } else {
      const { firstMs, maxMs } = this.o.backoff;
      this.backoffMs = this.backoffMs === 0 ? firstMs : Math.min(this.backoffMs * 2, maxMs);
      this.change('failed', 0, outcome.reason);
      this.schedule(this.backoffMs);
    }
  }

  /** A REGISTER for `expiresSec`, answering challenges; `finalOne` carries on after close (the removal). */
  private async register(expiresSec: number, finalOne: boolean): Promise<Outcome> {
    const { signalling, peer, register } = this.o;
    const credentials = new Map<'authorization' | 'proxy-authorization', string>();
    const answeredNonces = new Set<string>();
    for (let round = 0; round <= MAX_CHALLENGES; round++) {
      if (this.closed && !finalOne) return { kind: 'failed', reason: 'closed' };
      const local = signalling.localEndpoint(peer);
      const req = createRegister(this.id, local, ++this.cseq, expiresSec);
      for (const [header, value] of credentials) req.headers.set(header, value);
      let res: SipResponse;
      try {
        res = await signalling.request(req, peer);
      } catch (err) {
        return { kind: 'failed', reason: failureReason(err) };
      }
      if (res.status >= 200 && res.status < 300) return this.granted(res, local, expiresSec);
      if (res.status === 423) return { kind: 'interval', minExpiresSec: seconds(res.headers.get('min-expires')) };
      if (res.status !== 401 && res.status !== 407) return { kind: 'failed', reason: `rejected ${res.status}` };
      const proxy = res.status === 407;
      const challenge = chooseChallenge(res.headers.getAll(proxy ? 'proxy-authenticate' : 'www-authenticate'));
      if (challenge === undefined) return { kind: 'failed', reason: 'challenge not answerable' };
      const header = proxy ? 'proxy-authorization' : 'authorization';
      // the same nonce again, or a fresh one that does not say the last was only stale: refused
      if (answeredNonces.has(challenge.nonce) || (credentials.has(header) && !challenge.stale)) {
        return { kind: 'failed', reason: 'credentials refused' };
      }
      answeredNonces.add(challenge.nonce);
      credentials.set(
        header,
        answerDigestChallenge(challenge, {
          method: 'REGISTER',
          uri: req.uri,
          username: register.username,
          password: register.password,
          nc: 1,
          cnonce: randomToken(8),
        }),
      );
    }
    return { kind: 'failed', reason: 'too many challenges' };
  }

  /** The grant of a 2xx: our Contact's expires, else the Expires header, else what we asked. */
  private granted(res: SipResponse, local: LocalEndpoint, asked: number): Outcome {
    if (asked === 0) return { kind: 'granted', expiresSec: 0, status: res.status };
    let fromContact: number | undefined;
    for (const value of res.headers.getAll('contact')) {
      const c = parseNameAddr(value);
      if (c === undefined || c.uri.host.toLowerCase() !== local.host.toLowerCase()) continue;
      if ((c.uri.port ?? (local.transport === 'tls' ? 5061 : 5060)) !== local.port) continue;
      const e = c.params.get('expires');
      if (e !== undefined && e !== null) fromContact = seconds(e);
    }
    const expiresSec = fromContact ?? seconds(res.headers.get('expires')) ?? asked;
    if (expiresSec <= 0) return { kind: 'failed', reason: 'binding not kept' };
    return { kind: 'granted', expiresSec, status: res.status };
  }

  private change(state: TrunkRegistrationState, expiresSec: number, reason: string): void {
    if (state === this.state && expiresSec === this.expiresSec && reason === this.reason) return;
    if (state !== this.state) this.since = this.o.clock.now();
    this.state = state;
    this.expiresSec = expiresSec;
    this.reason = reason;
    this.o.onChange({ trunk: this.o.trunk.name, state, expiresSec, reason });
  }

  /** Stop refreshing; when registered, remove the binding (Expires: 0), waiting at most `waitMs`. */
  async close(waitMs: number): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.state !== 'registered') return;
    let bound: TimerHandle | undefined;
    const removed = await Promise.race([
      this.register(0, true),
      new Promise<undefined>((resolve) => (bound = this.o.clock.setTimeout(() => resolve(undefined), waitMs))),
    ]);
    if (bound !== undefined) this.o.clock.clearTimeout(bound);
    this.change('unregistered', 0, removed?.kind === 'granted' ? 'closed' : 'closed (removal not confirmed)');
  }
}

/** delta-seconds of Expires / Min-Expires / a Contact's expires; undefined when absent or malformed. */
function seconds(value: string | null | undefined): number | undefined {
  if (value === undefined || value === null || !/^\s*\d{1,10}\s*$/.test(value)) return undefined;
  return Number(value.trim());
}
