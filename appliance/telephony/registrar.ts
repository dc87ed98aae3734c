/**
 * The box's registrar and location service (RFC 3261 §10.3): agents' SIP phones and softphones
 * REGISTER their contacts so the contact centre can ring them later (`contactsOf`).
 *
 * - Authentication: digest per account (`DigestAuthenticator`), accounts from `lookup(username)`;
 *   the To and From user (the address of record) must be the authenticated username, else 403.
 *   One authenticator per known username issues and checks that user's nonces; unknown names get
 *   challenges from one account-less authenticator (identical in shape, never verifies).
 * - Throttling: after `maxAuthFailures` failed authentications from one source address within
 *   `authFailureWindowMs`, that address gets 403 without a challenge for a block that doubles each
 *   time (60 s, 120 s, ... 15 min); a success from the address starts it afresh. Counted, not logged.
 * - Bindings per agent: up to `maxContactsPerAgent` (beyond: the one expiring first goes); expiry from
 *   the contact's `expires`, else Expires, else the default; non-zero below the minimum is 423 with
 *   Min-Expires, above the maximum is capped; `Contact: *` with `Expires: 0` removes all; Call-ID/CSeq
 *   ordering per binding (§10.3 step 7: same Call-ID with a CSeq not higher fails with 500). A request
 *   changes all its bindings or none. The 200 lists every live contact with its remaining expires.
 * - Malformed requests (To, From, Contact, Expires, CSeq) get 400 before authentication; nothing changes.
 * - Reaching a contact later: each binding keeps the flow it came on (transport, source address and
 *   port). `reach` says whether requests go to that flow or to the Contact URI (see `reachOf`).
 * - Expiry: one sweep timer removes expired bindings and emits `registration.changed` (reason
 *   `expired`); `contactsOf` never returns an expired binding, swept or not. `close()` clears the timer.
 *
 * Not done: Path (RFC 3327), GRUU, full RFC 5626 outbound (flow tokens, Require: outbound, keep-alive
 * negotiation); `+sip.instance` with `reg-id` only picks the binding to replace and the flow to use.
 */
import net from 'node:net';
import { TypedEmitter } from '../events/typedEmitter.js';
import { evxError } from '../errors.js';
import { DigestAuthenticator, parseChallenge, parseDigest, type DigestAlgorithm } from '../sip/auth.js';
import { optionTags, parseCSeq, parseNameAddr, type NameAddr } from '../sip/grammar.js';
import type { SipPeer, SipRequest, SipResponse, SipTransportName } from '../sip/message.js';
import { buildResponse, randomToken } from '../sip/serialize.js';
import type { RegistrarLike } from './types.js';

/** What `lookup` knows of a SIP account: the agent it belongs to and its password. */
export interface RegistrarAccount {
  readonly agentId: string;
  readonly password: string;
}

export interface RegistrarOptions {
  /** The account of a SIP username (the AOR user), or undefined when there is none. */
  readonly lookup: (username: string) => RegistrarAccount | undefined;
  /** Digest realm (default `edgevox`). */
  readonly realm?: string;
  /**
   * Algorithms challenged with, in order of preference (default SHA-256 then MD5, as for INVITE).
   * `['MD5']` for phones that give up on any other challenge: baresip 1.0 / libre 1.1 fails the
   * whole 401 when one of its WWW-Authenticate values is not MD5.
   */
  readonly challengeAlgorithms?: readonly DigestAlgorithm[];
  /** Contacts one agent may have registered at once (default 5). */
  readonly maxContactsPerAgent?: number;
  /** Expiry when the request names none (default 3600 s, kept within min and max). */
  readonly defaultExpiresSec?: number;
  /** Shorter non-zero expiries get 423 with Min-Expires (default 60 s). */
  readonly minExpiresSec?: number;
  /** Longer expiries are granted this long (default 3600 s). */
  readonly maxExpiresSec?: number;
  /** How often expired bindings are swept (default 1 s). */
  readonly sweepIntervalMs?: number;
  /** Failed authentications from one address within the window that block it (default 5 in 60 s). */
  readonly maxAuthFailures?: number;
  readonly authFailureWindowMs?: number;
  /** First block of an address, doubled on each further block up to the maximum (default 60 s, 15 min). */
  readonly firstBlockMs?: number;
  readonly maxBlockMs?: number;
  /** Digest nonce lifetime (DigestAuthenticator's default when unset). */
  readonly nonceTtlMs?: number;
  /** Wall clock in ms (default Date.now); tests move it. */
  readonly now?: () => number;
}

/** Where requests to a binding go: the flow it registered on, or the address in its Contact URI. */
export type BindingReach = 'flow' | 'contact';

/** One live binding of an agent's contact (what `contactsOf` returns). */
export interface RegisteredContact {
  /** The Contact URI as the phone sent it. */
  readonly contact: string;
  /** Where the REGISTER came from: transport, source address and port. */
  readonly flow: SipPeer;
  /** `flow`: send requests to `flow` (NAT, RFC 5626 contacts); `contact`: the URI's host is reachable. */
  readonly reach: BindingReach;
  /** The peer requests to this contact go to: `flow`, or host/port/transport of the Contact URI. */
  readonly target: SipPeer;
  /** When the binding expires (ms, the registrar's clock). */
  readonly expiresAt: number;
  readonly userAgent: string | undefined;
  /** The `+sip.instance` of the contact (RFC 5626), if any. */
  readonly instanceId: string | undefined;
}

export type RegistrationReason = 'registered' | 'refreshed' | 'unregistered' | 'expired';

/** An agent's bindings changed; URIs and addresses only under `pii`. */
export interface RegistrationChangedEvent {
  readonly agentId: string;
  /** Live contacts after the change. */
  readonly contacts: number;
  readonly reason: RegistrationReason;
  readonly pii: { readonly aor: string; readonly source: string | undefined };
}

export interface RegistrarEvents {
  'registration.changed': RegistrationChangedEvent;
}

export interface RegistrarCounters {
  /** Bindings added, refreshed, removed by request, removed by expiry or replaced beyond the limit. */
  registered: number;
  refreshed: number;
  unregistered: number;
  expired: number;
  evicted: number;
  /** 401 challenges sent (first contact and failed answers alike). */
  challenges: number;
  /** Failed authentications: a wrong answer, or a username that is not the AOR user. */
  authFailures: number;
  /** Requests refused (403) because their source address is blocked; and blocks started. */
  rateLimited: number;
  blocks: number;
  malformed: number;
  /** 500 (Call-ID/CSeq out of order), 423 (interval too brief), 420 (Require), 404 (no AOR user). */
  outOfOrder: number;
  intervalTooBrief: number;
  badExtension: number;
  notFound: number;
  /** `lookup` threw: answered 500. */
  lookupErrors: number;
}

export const REGISTRAR_DEFAULTS = {
  realm: 'edgevox',
  maxContactsPerAgent: 5,
  defaultExpiresSec: 3600,
  minExpiresSec: 60,
  maxExpiresSec: 3600,
  sweepIntervalMs: 1000,
  maxAuthFailures: 5,
  authFailureWindowMs: 60_000,
  firstBlockMs: 60_000,
  maxBlockMs: 15 * 60_000,
} as const;

/** Source addresses whose failures are remembered at once (the least recently failing are forgotten first). */
const MAX_THROTTLED_SOURCES = 10_000;

/**
 * The NAT rule. Requests go to the Contact URI only when it is plainly reachable: its host is an
 * IPv4 literal equal to the address the REGISTER came from, and it asks for no flow of its own
 * (no `;ob` URI parameter, no `+sip.instance`). Otherwise they go to the flow: a Contact naming
 * another address is a private address behind NAT (or one the box must not be made to send to), a
 * host name would need DNS the box does not do, and an RFC 5626 contact wants its own flow.
 */
export function reachOf(contact: NameAddr, flow: SipPeer): BindingReach {
  if (contact.uri.params.has('ob') || contact.params.has('+sip.instance')) return 'flow';
  if (!net.isIPv4(contact.uri.host) || contact.uri.host !== flow.address) return 'flow';
  return 'contact';
}

/** The peer a Contact URI names: its host, its port (default 5060, 5061 for TLS), its transport. */
export function contactPeer(contact: NameAddr): SipPeer {
  const t = contact.uri.params.get('transport')?.toLowerCase();
  const transport: SipTransportName = contact.uri.scheme === 'sips' || t === 'tls' ? 'tls' : t === 'tcp' ? 'tcp' : 'udp';
  return { transport, address: contact.uri.host, port: contact.uri.port ?? (transport === 'tls' ? 5061 : 5060) };
}

interface StoredBinding extends RegisteredContact {
  readonly key: string;
  readonly callId: string;
  readonly cseq: number;
  /** Contact header parameters echoed in the 200 (`+sip.instance`, `reg-id`, `q`). */
  readonly echo: string;
  /** When the binding was first added (ties on expiry: the older one goes first). */
  readonly addedAt: number;
}

interface ContactRequest {
  readonly addr: NameAddr;
  readonly key: string;
  readonly expiresSec: number;
}

interface ParsedRegister {
  readonly aor: string;
  readonly user: string;
  readonly fromUser: string | undefined;
  readonly callId: string;
  readonly cseq: number;
  /** `star`: Contact: * (remove all); otherwise the contacts to add, refresh or remove (none: a query). */
  readonly contacts: 'star' | readonly ContactRequest[];
}

type ParseResult =
  { readonly ok: true; readonly value: ParsedRegister } | { readonly ok: false; readonly status: 400 | 404; readonly why: string };

/** `delta-seconds` (RFC 3261 §25.1); values past 2^32-1 are taken as that. Undefined when malformed. */
function deltaSeconds(text: string | null | undefined): number | undefined {
  if (text === null || text === undefined || !/^[0-9]{1,20}$/.test(text.trim())) return undefined;
  return Math.min(Number(text.trim()), 0xffffffff);
}

/** The user part of a SIP URI, %-escapes decoded; undefined when absent or badly escaped. */
function uriUserOf(addr: NameAddr): string | undefined {
  if ((addr.uri.scheme !== 'sip' && addr.uri.scheme !== 'sips') || addr.uri.user === undefined) return undefined;
  try {
    return decodeURIComponent(addr.uri.user);
  } catch {
    return undefined;
  }
}

/** A header parameter value for the 200's Contact: bare when it is a token, else quoted. */
function paramText(name: string, value: string | null): string {
  if (value === null) return `;${name}`;
  return /^[A-Za-z0-9\-.!%*_+`'~]+$/.test(value) ? `;${name}=${value}` : `;${name}="${value.replace(/["\\]/g, '\\$&')}"`;
}

/** Binding identity: `+sip.instance` with `reg-id` (RFC 5626 §6), else the Contact URI compared loosely (§19.1.4). */
function bindingKey(addr: NameAddr): string {
  const instance = addr.params.get('+sip.instance');
  const regId = addr.params.get('reg-id');
  if (typeof instance === 'string' && typeof regId === 'string') return `instance|${instance}|${regId}`;
  const u = addr.uri;
  const peer = contactPeer(addr);
  return `uri|${u.scheme}|${u.user ?? ''}|${u.host.toLowerCase()}|${peer.port}|${peer.transport}`;
}

/** Check the request's syntax (§10.3 steps 5-6); nothing is looked up yet. */
function parseRegister(req: SipRequest, opts: { defaultExpiresSec: number }): ParseResult {
  const bad = (why: string): ParseResult => ({ ok: false, status: 400, why });
  const toText = req.headers.getAll('to');
  const fromText = req.headers.getAll('from');
  if (toText.length !== 1 || fromText.length !== 1) return bad('To and From');
  const to = parseNameAddr(toText[0]!);
  const from = parseNameAddr(fromText[0]!);
  if (to === undefined) return bad('To');
  if (from === undefined) return bad('From');
  const callId = req.headers.get('call-id');
  if (callId === undefined || !/^[\x21-\x7e]{1,256}$/.test(callId)) return bad('Call-ID');
  const cseq = parseCSeq(req.headers.get('cseq') ?? '');
  if (cseq === undefined || cseq.method !== 'REGISTER') return bad('CSeq');
  const expiresValues = req.headers.getAll('expires');
  if (expiresValues.length > 1) return bad('Expires');
  const expiresHeader = expiresValues.length === 1 ? deltaSeconds(expiresValues[0]) : undefined;
  if (expiresValues.length === 1 && expiresHeader === undefined) return bad('Expires');
  const contactValues = req.headers.getAll('contact');
  let contacts: ParsedRegister['contacts'];
  if (contactValues.some((c) => c.trim() === '*')) {
    // §10.3 step 6: `*` alone, and only to remove everything
    if (contactValues.length !== 1 || expiresHeader !== 0) return bad('Contact: * needs Expires: 0 and no other contact');
    contacts = 'star';
  } else {
    const list: ContactRequest[] = [];
    for (const text of contactValues) {
      const addr = parseNameAddr(text);
      if (addr === undefined || (addr.uri.scheme !== 'sip' && addr.uri.scheme !== 'sips')) return bad('Contact');
      const param = addr.params.get('expires');
      const own = param === undefined ? undefined : deltaSeconds(param);
      if (param !== undefined && own === undefined) return bad('Contact expires');
      list.push({ addr, key: bindingKey(addr), expiresSec: own ?? expiresHeader ?? opts.defaultExpiresSec });
    }
    contacts = list;
  }
  const user = uriUserOf(to);
  // §10.3 step 5: an address of record this registrar cannot hold bindings for
  if (user === undefined || user === '') return { ok: false, status: 404, why: 'no user in the address of record' };
  const aor = `${to.uri.scheme}:${to.uri.user ?? ''}@${to.uri.host}`;
  return { ok: true, value: { aor, user, fromUser: uriUserOf(from), callId, cseq: cseq.seq, contacts } };
}

interface SourceState {
  /** Times of failures inside the window (oldest first). */
  failures: number[];
  blockedUntil: number;
  /** Blocks so far: the next one lasts firstBlockMs * 2^blocks. */
  blocks: number;
  lastSeen: number;
}

/** Failed authentications per source address and the blocks they earn. Bounded. */
class AuthFailureThrottle {
  private readonly sources = new Map<string, SourceState>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly firstBlockMs: number,
    private readonly maxBlockMs: number,
  ) {}

  blocked(source: string, now: number): boolean {
    const s = this.sources.get(source);
    return s !== undefined && s.blockedUntil > now;
  }

  /** A failed authentication; true when it started a block. */
  failed(source: string, now: number): boolean {
    let s = this.sources.get(source);
    this.sources.delete(source); // re-inserted last: the map's order is least recently failing first
    s ??= { failures: [], blockedUntil: 0, blocks: 0, lastSeen: now };
    this.sources.set(source, s);
    s.lastSeen = now;
    s.failures = s.failures.filter((t) => now - t < this.windowMs);
    s.failures.push(now);
    while (this.sources.size > MAX_THROTTLED_SOURCES) this.sources.delete(this.sources.keys().next().value!);
    if (s.failures.length < this.limit) return false;
    s.blockedUntil = now + Math.min(this.maxBlockMs, this.firstBlockMs * 2 ** Math.min(s.blocks, 30));
    s.blocks++;
    s.failures = [];
    return true;
  }

  succeeded(source: string): void {
    this.sources.delete(source);
  }

  /** Forget addresses that are not blocked and have been quiet for longer than the longest block. */
  sweep(now: number): void {
    for (const [source, s] of this.sources) {
      if (s.blockedUntil <= now && now - Math.max(s.lastSeen, s.blockedUntil) > this.maxBlockMs) this.sources.delete(source);
    }
  }

  get size(): number {
    return this.sources.size;
  }
}

export class Registrar implements RegistrarLike {
  readonly events = new TypedEmitter<RegistrarEvents>();
  readonly counters: RegistrarCounters = {
    registered: 0,
    refreshed: 0,
    unregistered: 0,
    expired: 0,
    evicted: 0,
    challenges: 0,
    authFailures: 0,
    rateLimited: 0,
    blocks: 0,
    malformed: 0,
    outOfOrder: 0,
    intervalTooBrief: 0,
    badExtension: 0,
    notFound: 0,
    lookupErrors: 0,
  };
  private readonly realm: string;
  private readonly algorithms: readonly DigestAlgorithm[];
  private readonly maxContacts: number;
  private readonly defaultExpiresSec: number;
  private readonly minExpiresSec: number;
  private readonly maxExpiresSec: number;
  private readonly now: () => number;
  private readonly throttle: AuthFailureThrottle;
  /** Nonces of an unknown username: challenged like any other, never verified. */
  private readonly anonymous: DigestAuthenticator;
  private readonly authenticators = new Map<string, { readonly password: string; readonly auth: DigestAuthenticator }>();
  /** agentId -> binding key -> binding. */
  private readonly bindings = new Map<string, Map<string, StoredBinding>>();
  /** agentId -> the AOR it registered under (for events' pii). */
  private readonly aors = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: RegistrarOptions) {
    const d = REGISTRAR_DEFAULTS;
    this.realm = opts.realm ?? d.realm;
    this.algorithms = opts.challengeAlgorithms ?? ['SHA-256', 'MD5'];
    this.maxContacts = opts.maxContactsPerAgent ?? d.maxContactsPerAgent;
    this.minExpiresSec = opts.minExpiresSec ?? d.minExpiresSec;
    this.maxExpiresSec = opts.maxExpiresSec ?? d.maxExpiresSec;
    this.defaultExpiresSec = Math.min(this.maxExpiresSec, Math.max(this.minExpiresSec, opts.defaultExpiresSec ?? d.defaultExpiresSec));
    this.now = opts.now ?? Date.now;
    const positive = (n: number): boolean => Number.isInteger(n) && n >= 1;
    if (
      !positive(this.maxContacts) ||
      !positive(this.minExpiresSec) ||
      this.maxExpiresSec < this.minExpiresSec ||
      this.algorithms.length === 0
    ) {
      throw evxError(
        'EVX_ERR_CONFIG_INVALID',
        'registrar: contacts per agent and expiries must be positive integers, min ≤ max, one algorithm at least',
        {
          details: {
            maxContactsPerAgent: this.maxContacts,
            minExpiresSec: this.minExpiresSec,
            maxExpiresSec: this.maxExpiresSec,
            challengeAlgorithms: this.algorithms.join(','),
          },
        },
      );
    }
    this.throttle = new AuthFailureThrottle(
      opts.maxAuthFailures ?? d.maxAuthFailures,
      opts.authFailureWindowMs ?? d.authFailureWindowMs,
      opts.firstBlockMs ?? d.firstBlockMs,
      opts.maxBlockMs ?? d.maxBlockMs,
    );
    this.anonymous = this.authenticator([]);
    this.timer = setInterval(() => this.sweep(), opts.sweepIntervalMs ?? d.sweepIntervalMs);
    this.timer.unref();
  }

  /** Answer one REGISTER that arrived from `peer`. */
  handle(req: SipRequest, peer: SipPeer): SipResponse {
    const respond = (status: number, headers: Record<string, string | readonly string[]> = {}, reason?: string): SipResponse =>
      buildResponse(req, status, { toTag: randomToken(), headers, ...(reason === undefined ? {} : { reason }) });
    if (this.closed) return respond(503);
    const now = this.now();
    const parsed = parseRegister(req, { defaultExpiresSec: this.defaultExpiresSec });
    if (!parsed.ok) {
      if (parsed.status === 404) this.counters.notFound++;
      else this.counters.malformed++;
      return respond(parsed.status, {}, parsed.status === 400 ? `Bad Request (${parsed.why})` : undefined);
    }
    const r = parsed.value;
    const unsupported = [...optionTags(req.headers.getAll('require'))];
    if (unsupported.length > 0) {
      this.counters.badExtension++;
      return respond(420, { unsupported: unsupported.join(', ') });
    }

    // authentication (§10.3 steps 3-4)
    const source = peer.address;
    if (this.throttle.blocked(source, now)) {
      this.counters.rateLimited++;
      return respond(403);
    }
    let account: RegistrarAccount | undefined;
    try {
      account = this.opts.lookup(r.user);
    } catch {
      this.counters.lookupErrors++;
      return respond(500);
    }
    const auth = this.authenticatorFor(r.user, account);
    const failed = (status: 401 | 403): SipResponse => {
      this.counters.authFailures++;
      if (this.throttle.failed(source, now)) this.counters.blocks++;
      return status === 401 ? this.challenge(respond, auth, false) : respond(403);
    };
    const authorization = req.headers.get('authorization');
    if (authorization === undefined) return this.challenge(respond, auth, false);
    // only the account named by the address of record may change its bindings (no third-party registration)
    const credentials = parseDigest(authorization);
    if (credentials !== undefined && (credentials.username !== r.user || r.fromUser !== r.user)) return failed(403);
    const outcome = auth.verify(authorization, 'REGISTER');
    if (outcome === 'stale') return this.challenge(respond, auth, true);
    if (outcome !== 'ok' || account === undefined) return failed(401);
    this.throttle.succeeded(source);
    return this.update(r, account.agentId, req, peer, now, respond);
  }

  /** Live bindings of an agent, soonest to expire first. */
  contactsOf(agentId: string): RegisteredContact[] {
    const now = this.now();
    return [...(this.bindings.get(agentId)?.values() ?? [])]
      .filter((b) => b.expiresAt > now)
      .sort((a, b) => a.expiresAt - b.expiresAt)
      .map((b) => ({
        contact: b.contact,
        flow: b.flow,
        reach: b.reach,
        target: b.target,
        expiresAt: b.expiresAt,
        userAgent: b.userAgent,
        instanceId: b.instanceId,
      }));
  }

  /** Agents with at least one binding, bindings in all, source addresses with remembered failures. */
  get size(): { agents: number; bindings: number; throttledSources: number } {
    let bindings = 0;
    for (const m of this.bindings.values()) bindings += m.size;
    return { agents: this.bindings.size, bindings, throttledSources: this.throttle.size };
  }

  /** Remove expired bindings (the timer calls it; tests may too). */
  sweep(): void {
    const now = this.now();
    for (const [agentId, table] of this.bindings) {
      let removed = 0;
      for (const [key, b] of table) {
        if (b.expiresAt > now) continue;
        table.delete(key);
        removed++;
      }
      if (removed === 0) continue;
      if (table.size === 0) this.bindings.delete(agentId);
      this.counters.expired += removed;
      this.emitChanged(agentId, 'expired', undefined);
    }
    this.throttle.sweep(now);
  }

  /** Stop the sweep timer; later REGISTERs get 503. Bindings are dropped. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    this.bindings.clear();
    this.aors.clear();
    this.authenticators.clear();
    this.events.removeAllListeners();
  }

  private authenticator(accounts: { username: string; password: string }[]): DigestAuthenticator {
    return new DigestAuthenticator({
      realm: this.realm,
      accounts,
      now: this.now,
      ...(this.opts.nonceTtlMs === undefined ? {} : { nonceTtlMs: this.opts.nonceTtlMs }),
    });
  }

  /** The authenticator of one username: made again when its password changed (old nonces then fail: a new challenge). */
  private authenticatorFor(username: string, account: RegistrarAccount | undefined): DigestAuthenticator {
    if (account === undefined) {
      this.authenticators.delete(username);
      return this.anonymous;
    }
    let entry = this.authenticators.get(username);
    if (entry === undefined || entry.password !== account.password) {
      entry = { password: account.password, auth: this.authenticator([{ username, password: account.password }]) };
      this.authenticators.set(username, entry);
    }
    return entry.auth;
  }

  private challenge(
    respond: (status: number, headers?: Record<string, string | readonly string[]>) => SipResponse,
    auth: DigestAuthenticator,
    stale: boolean,
  ): SipResponse {
    this.counters.challenges++;
    const offered = auth.challenges(stale).filter((c) => this.algorithms.includes(parseChallenge(c)?.algorithm ?? 'MD5'));
    return respond(401, { 'www-authenticate': offered });
  }

  /** §10.3 steps 6-8: all of the request's changes, or none of them. */
  private update(
    r: ParsedRegister,
    agentId: string,
    req: SipRequest,
    peer: SipPeer,
    now: number,
    respond: (status: number, headers?: Record<string, string | readonly string[]>, reason?: string) => SipResponse,
  ): SipResponse {
    const table = this.bindings.get(agentId) ?? new Map<string, StoredBinding>();
    const live = (b: StoredBinding | undefined): b is StoredBinding => b !== undefined && b.expiresAt > now;
    // a binding this request may not change: the same Call-ID with a CSeq not higher (§10.3 step 7)
    const outOfOrder = (b: StoredBinding | undefined): boolean => live(b) && b.callId === r.callId && b.cseq >= r.cseq;
    const next = new Map([...table].filter(([, b]) => live(b)));
    this.counters.expired += table.size - next.size; // run out since the last sweep
    let added = 0;
    let refreshed = 0;
    let removed = 0;
    if (r.contacts === 'star') {
      if ([...next.values()].some(outOfOrder)) return this.outOfOrder(respond);
      removed = next.size;
      next.clear();
    } else {
      const tooBrief = r.contacts.some((c) => c.expiresSec > 0 && c.expiresSec < this.minExpiresSec);
      if (tooBrief) {
        this.counters.intervalTooBrief++;
        return respond(423, { 'min-expires': String(this.minExpiresSec) });
      }
      if (r.contacts.some((c) => outOfOrder(next.get(c.key)))) return this.outOfOrder(respond);
      const userAgent = req.headers.get('user-agent');
      for (const c of r.contacts) {
        const existing = next.get(c.key);
        if (c.expiresSec === 0) {
          if (next.delete(c.key)) removed++;
          continue;
        }
        if (existing === undefined) added++;
        else refreshed++;
        next.set(c.key, this.binding(c, r, peer, userAgent, now, existing?.addedAt ?? now));
      }
    }
    // beyond the limit the binding expiring first goes (the older of equals)
    let evicted = 0;
    while (next.size > this.maxContacts) {
      const first = [...next.values()].reduce((a, b) =>
        b.expiresAt < a.expiresAt || (b.expiresAt === a.expiresAt && b.addedAt < a.addedAt) ? b : a,
      );
      next.delete(first.key);
      evicted++;
    }
    if (next.size > 0) this.bindings.set(agentId, next);
    else this.bindings.delete(agentId);
    this.aors.set(agentId, r.aor);
    if (next.size === 0) this.aors.delete(agentId);
    this.counters.registered += added;
    this.counters.refreshed += refreshed;
    this.counters.unregistered += removed;
    this.counters.evicted += evicted;
    const reason: RegistrationReason | undefined =
      added > 0 ? 'registered' : removed > 0 ? 'unregistered' : refreshed > 0 ? 'refreshed' : undefined;
    if (reason !== undefined) this.emitChanged(agentId, reason, peer.address, r.aor);
    const contacts = [...next.values()]
      .sort((a, b) => a.expiresAt - b.expiresAt)
      .map((b) => `<${b.contact}>;expires=${Math.max(0, Math.ceil((b.expiresAt - now) / 1000))}${b.echo}`);
    return respond(200, { ...(contacts.length > 0 ? { contact: contacts } : {}), date: new Date(now).toUTCString() });
  }

  private outOfOrder(respond: (status: number, headers?: Record<string, string>, reason?: string) => SipResponse): SipResponse {
    this.counters.outOfOrder++;
    return respond(500, {}, 'Server Internal Error (CSeq out of order)');
  }

  private binding(
    c: ContactRequest,
    r: ParsedRegister,
    peer: SipPeer,
    userAgent: string | undefined,
    now: number,
    addedAt: number,
  ): StoredBinding {
    const reach = reachOf(c.addr, peer);
    const instance = c.addr.params.get('+sip.instance');
    const echo = ['+sip.instance', 'reg-id', 'q']
      .filter((name) => c.addr.params.has(name))
      .map((name) => paramText(name, c.addr.params.get(name) ?? null))
      .join('');
    return {
      key: c.key,
      contact: c.addr.uri.raw,
      flow: { transport: peer.transport, address: peer.address, port: peer.port },
      reach,
      target: reach === 'flow' ? { transport: peer.transport, address: peer.address, port: peer.port } : contactPeer(c.addr),
      expiresAt: now + Math.min(c.expiresSec, this.maxExpiresSec) * 1000,
      userAgent,
      instanceId: typeof instance === 'string' ? instance : undefined,
      callId: r.callId,
      cseq: r.cseq,
      echo,
      addedAt,
    };
  }

  private emitChanged(agentId: string, reason: RegistrationReason, source: string | undefined, aor?: string): void {
    const contacts = this.bindings.get(agentId)?.size ?? 0;
    this.events.emit('registration.changed', {
      agentId,
      contacts,
      reason,
      pii: { aor: aor ?? this.aors.get(agentId) ?? '', source },
    });
    if (contacts === 0) this.aors.delete(agentId);
  }
}
