/**
 * TrunkSupervisor: watches the configured SIP trunks. For each one it runs an OPTIONS keep-alive
 * (trunk up/down, trunkKeepalive.ts) and, where the provider requires it, an outbound registration
 * with digest authentication (trunkRegistration.ts); it reports both as typed events and as a
 * status snapshot for the API and metrics. `close()` removes registrations (bounded wait) and stops
 * every timer; it must run before the SIP server closes.
 */
import { TypedEmitter } from '../events/typedEmitter.js';
import type { SipPeer } from '../sip/message.js';
import { secureUniform } from '../randomness.js';
import { TrunkKeepalive } from './trunkKeepalive.js';
import { DEFAULT_REGISTRATION_BACKOFF, TrunkRegistration, type RegistrationBackoff } from './trunkRegistration.js';
import {
  SYSTEM_CLOCK,
  trunkPort,
  type TrunkClock,
  type TrunkConfig,
  type TrunkEvents,
  type TrunkSignalling,
  type TrunkStatus,
} from './trunkTypes.js';

export interface TrunkSupervisorOptions {
  readonly trunks: readonly TrunkConfig[];
  readonly signalling: TrunkSignalling;
  readonly clock?: TrunkClock;
  /** Where state changes are emitted (default: a new emitter, `supervisor.events`). */
  readonly events?: TypedEmitter<TrunkEvents>;
  /** Consecutive OPTIONS failures that mean down (default 2). */
  readonly downAfter?: number;
  /** Retry delays after a failed registration (default 30 s doubling to 10 min). */
  readonly backoff?: RegistrationBackoff;
  /** How long `close()` waits for registrations to be removed (default 1 s). */
  readonly unregisterWaitMs?: number;
  /** A uniform number in [0, 1) (first-probe jitter); default from node:crypto. */
  readonly random?: () => number;
}

interface Supervised {
  readonly trunk: TrunkConfig;
  readonly keepalive: TrunkKeepalive;
  readonly registration: TrunkRegistration | undefined;
}

export class TrunkSupervisor {
  readonly events: TypedEmitter<TrunkEvents>;
  private readonly supervised: Supervised[];
  private readonly unregisterWaitMs: number;
  private state: 'new' | 'running' | 'closed' = 'new';
  private closing: Promise<void> | undefined;

  constructor(opts: TrunkSupervisorOptions) {
    this.events = opts.events ?? new TypedEmitter<TrunkEvents>();
    this.unregisterWaitMs = opts.unregisterWaitMs ?? 1000;
    const clock = opts.clock ?? SYSTEM_CLOCK;
    this.supervised = opts.trunks.map((trunk) => {
      const peer: SipPeer = { transport: trunk.transport, address: trunk.host, port: trunkPort(trunk) };
      const keepalive = new TrunkKeepalive({
        trunk,
        peer,
        signalling: opts.signalling,
        clock,
        downAfter: opts.downAfter ?? 2,
        random: opts.random ?? secureUniform,
        onChange: (e) => this.events.emit('trunk.state', e),
      });
      const registration =
        trunk.register === undefined
          ? undefined
          : new TrunkRegistration({
              trunk,
              register: trunk.register,
              peer,
              signalling: opts.signalling,
              clock,
              backoff: opts.backoff ?? DEFAULT_REGISTRATION_BACKOFF,
              onChange: (e) => this.events.emit('trunk.registration', e),
            });
      return { trunk, keepalive, registration };
    });
  }

  /** Start probing and registering (once). */
  start(): void {
    if (this.state !== 'new') return;
    this.state = 'running';
    for (const s of this.supervised) {
      s.keepalive.start();
      s.registration?.start();
    }
  }

  /** Every trunk's state, in configuration order; no credentials. */
  status(): TrunkStatus[] {
    return this.supervised.map(({ trunk, keepalive: k, registration: r }) => ({
      name: trunk.name,
      transport: trunk.transport,
      host: trunk.host,
      port: trunkPort(trunk),
      keepaliveSec: trunk.keepaliveSec,
      state: k.state,
      since: k.since,
      reason: k.reason,
      rttMs: k.rttMs,
      registration: r === undefined ? null : { state: r.state, since: r.since, expiresSec: r.expiresSec, reason: r.reason },
    }));
  }

  /** Stop probing, remove registrations (waiting at most `unregisterWaitMs`), clear every timer. Idempotent. */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.state = 'closed';
    this.closing = (async () => {
      for (const s of this.supervised) s.keepalive.close();
      // a registration never started is not registered: its close() only clears its timer
      await Promise.allSettled(this.supervised.map((s) => s.registration?.close(this.unregisterWaitMs) ?? Promise.resolve()));
    })();
    return this.closing;
  }
}
