/**
 * Console authentication: first-boot setup token, users with roles, scrypt passwords, sessions in
 * the store, login rate limiting per client, lockout per (account, client address) and backoff per
 * client address (loginThrottle.ts), API tokens for machines.
 * Every login, logout and account change is written to the audit log. Nothing here logs a username
 * or a secret at info level: the audit log is the place that names operators.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evxError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/database.js';
import { ConsoleAuthRepo, ROLES, type ConsoleUser, type Role } from './repo.js';
import { hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import { LoginThrottle } from './loginThrottle.js';
import { SlidingWindowLimiter } from './rateLimit.js';

export type { Role } from './repo.js';
export { ROLES } from './repo.js';

export const SETUP_TOKEN_FILE = 'setup-token';
export const SESSION_COOKIE = 'evx_session';
export const CSRF_COOKIE = 'evx_csrf';
export const CSRF_HEADER = 'x-csrf-token';

// kiosk is below viewer: every route (default viewer) refuses it unless it declares minRole 'kiosk'.
const ROLE_RANK: Record<Role, number> = { kiosk: 0, viewer: 1, supervisor: 2, technician: 3 };

/** True when `role` may do what `required` may. */
export function roleAtLeast(role: Role, required: Role): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[required];
}

export function isRole(x: unknown): x is Role {
  return typeof x === 'string' && (ROLES as readonly string[]).includes(x);
}

/** Who a request acts as. */
export interface Principal {
  kind: 'session' | 'token';
  username: string;
  role: Role;
  /** Session principals only: the token state-changing requests must echo in x-csrf-token. */
  csrfToken?: string;
  sessionIdHash?: string;
  /** Token principals only: the stored hash of the bearer token. */
  tokenHash?: string;
  /** Token principals only: who the token belongs to (the account, or `cli`, that minted it or its ancestor). */
  owner?: string;
}

export interface AuthSettings {
  sessionTtlMs: number;
  lockoutThreshold: number;
  lockoutMs: number;
  loginRatePerMin: number;
  loginBackoffAfter: number;
}

export interface NewSession {
  /** Cookie value (random, 256 bits); only its hash is stored. */
  sessionId: string;
  csrfToken: string;
  principal: Principal;
  expiresAt: number;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const USERNAME = /^[a-z0-9][a-z0-9._-]{1,62}$/;

/** True for a name an account may have (2-63 lower-case letters, digits, dot, dash, underscore). */
export function isUsername(x: unknown): x is string {
  return typeof x === 'string' && USERNAME.test(x);
}

export class AuthService {
  readonly repo: ConsoleAuthRepo;
  private readonly limiter: SlidingWindowLimiter;
  private readonly throttle: LoginThrottle;
  /** Verified against when a username is unknown, so timing does not reveal which names exist. */
  private dummyHash: Promise<string> | null = null;

  constructor(
    private readonly store: Store,
    private readonly dataDir: string,
    private readonly settings: AuthSettings,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.repo = new ConsoleAuthRepo(store.db, (op, fn) => store.write(op, fn));
    this.limiter = new SlidingWindowLimiter(settings.loginRatePerMin, 60_000, 10_000, now);
    this.throttle = new LoginThrottle(settings, now);
  }

  /** True until the first account exists. */
  get setupRequired(): boolean {
    return this.repo.userCount() === 0;
  }

  private get setupTokenPath(): string {
    return join(this.dataDir, SETUP_TOKEN_FILE);
  }

  /**
   * At boot without any account: make sure a one-time setup token exists (kept across restarts
   * until used), write it to `<dataDir>/setup-token` (0600) and print it to the log. The token is
   * a random secret, not personal data; it stops working as soon as the admin account exists.
   */
  ensureSetupToken(): string | null {
    if (!this.setupRequired) {
      rmSync(this.setupTokenPath, { force: true });
      return null;
    }
    let token = existsSync(this.setupTokenPath) ? readFileSync(this.setupTokenPath, 'utf8').trim() : '';
    if (!/^[A-Za-z0-9_-]{20,}$/.test(token)) {
      token = randomBytes(18).toString('base64url');
      mkdirSync(this.dataDir, { recursive: true });
      writeFileSync(this.setupTokenPath, token + '\n', { mode: 0o600 });
    }
    chmodSync(this.setupTokenPath, 0o600);
    this.logger.warn({ setupToken: token, file: this.setupTokenPath }, 'first boot: open the console and enter this setup token');
    return token;
  }

  private checkSetupToken(token: string): boolean {
    if (!existsSync(this.setupTokenPath)) return false;
    const expected = Buffer.from(readFileSync(this.setupTokenPath, 'utf8').trim());
    const given = Buffer.from(token.trim());
    return expected.length > 0 && given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** First boot: trade the setup token for the first technician account and a session. */
  async completeSetup(setupToken: string, username: string, password: string, clientIp: string): Promise<NewSession> {
    this.rateLimit(clientIp);
    if (!this.setupRequired) throw evxError('EVX_ERR_SETUP_DONE', 'setup is already complete: sign in instead');
    if (!this.checkSetupToken(setupToken)) {
      this.store.audit.record('anonymous', 'setup.token.rejected', '', {});
      throw evxError('EVX_ERR_AUTH_FAILED', 'the setup token is not valid (see the appliance log or <dataDir>/setup-token)');
    }
    const passwordHash = await this.newUserHash(username, password);
    // Checked again after the await: a request racing this one with the token may have made the
    // first account meanwhile. From here to the insert nothing yields.
    if (!this.setupRequired) throw evxError('EVX_ERR_SETUP_DONE', 'setup is already complete: sign in instead');
    this.insertUser(username, 'technician', passwordHash);
    rmSync(this.setupTokenPath, { force: true });
    this.store.audit.record(username, 'setup.admin.created', `user:${username}`, {});
    return this.openSession(this.repo.getUser(username)!);
  }

  /** Validate and create an account (audited as `user.created` by `actor`). */
  async createUser(username: string, role: Role, password: string, actor: string): Promise<void> {
    const passwordHash = await this.newUserHash(username, password);
    this.insertUser(username, role, passwordHash);
    this.store.audit.record(actor, 'user.created', `user:${username}`, { role });
  }

  /** Check a new account's name and password, and hash the password. */
  private async newUserHash(username: string, password: string): Promise<string> {
    if (!USERNAME.test(username)) {
      throw evxError('EVX_ERR_BAD_REQUEST', 'username must be 2-63 characters: lower-case letters, digits, dot, dash, underscore', {
        details: { field: 'username' },
      });
    }
    const problem = passwordProblem(password, username);
    if (problem !== null) throw evxError('EVX_ERR_BAD_REQUEST', problem, { details: { field: 'password' } });
    this.checkNameFree(username);
    return hashPassword(password);
  }

  /** Insert a checked account; the name is checked again here, after the hashing await. */
  private insertUser(username: string, role: Role, passwordHash: string): void {
    this.checkNameFree(username);
    this.repo.createUser(username, role, passwordHash, this.now());
  }

  private checkNameFree(username: string): void {
    if (this.repo.getUser(username) !== undefined)
      throw evxError('EVX_ERR_BAD_REQUEST', 'that username is taken', { details: { field: 'username' } });
  }

  /**
   * Change a password after checking the current one under the sign-in throttle (same lock per
   * name and address, same backoff): a held session is no unlimited password oracle.
   */
  async changePassword(username: string, current: string, next: string, clientIp: string): Promise<void> {
    this.rateLimit(clientIp);
    const verdict = this.throttle.check(username, clientIp);
    if (!verdict.ok) {
      this.store.audit.record(username, 'user.password.refused', `user:${username}`, { reason: verdict.kind, from: clientIp });
      throw verdict.kind === 'locked' ? this.lockedError(verdict.retryAfterMs) : rateLimitedError(verdict.retryAfterMs);
    }
    const user = this.repo.getUser(username);
    if (user === undefined || !(await verifyPassword(current, user.passwordHash))) {
      const { locked, failuresInARow } = this.throttle.failed(username, clientIp);
      this.store.audit.record(username, 'user.password.failed', `user:${username}`, { failedInARow: failuresInARow, from: clientIp });
      if (locked) throw this.lockedError(this.settings.lockoutMs);
      throw evxError('EVX_ERR_AUTH_FAILED', 'the current password is wrong');
    }
    this.throttle.succeeded(username, clientIp);
    const problem = passwordProblem(next, username);
    if (problem !== null) throw evxError('EVX_ERR_BAD_REQUEST', problem, { details: { field: 'password' } });
    this.repo.setPassword(username, await hashPassword(next));
    this.store.audit.record(username, 'user.password.changed', `user:${username}`, {});
  }

  /**
   * Check a password. Order matters: the client's rate limit first (cheap, stops floods), then the
   * throttle (a name locked from this address stays locked even for the right password, and an
   * address backing off waits), then scrypt — against a dummy hash when the name is unknown, so a
   * name that does not exist costs the same time, fails the same way and locks the same way.
   */
  async login(username: string, password: string, clientIp: string): Promise<NewSession> {
    this.rateLimit(clientIp);
    const user = this.repo.getUser(username);
    const actor = user === undefined ? 'anonymous' : username;
    const target = user === undefined ? '' : `user:${username}`;
    const verdict = this.throttle.check(username, clientIp);
    if (!verdict.ok) {
      this.store.audit.record(actor, 'login.refused', target, { reason: verdict.kind, from: clientIp });
      throw verdict.kind === 'locked' ? this.lockedError(verdict.retryAfterMs) : rateLimitedError(verdict.retryAfterMs);
    }
    const passwordOk = await verifyPassword(password, user?.passwordHash ?? (await this.dummy()));
    if (user === undefined || !passwordOk) {
      const { locked, failuresInARow } = this.throttle.failed(username, clientIp);
      this.store.audit.record(actor, locked ? 'login.locked' : 'login.failed', target, {
        ...(user === undefined ? { reason: 'unknown user' } : {}),
        failedInARow: failuresInARow,
        from: clientIp,
      });
      if (locked) {
        this.logger.warn({ lockoutMs: this.settings.lockoutMs }, 'console sign-in locked for one address after repeated bad passwords');
        throw this.lockedError(this.settings.lockoutMs);
      }
      throw evxError('EVX_ERR_AUTH_FAILED', 'wrong username or password');
    }
    this.throttle.succeeded(username, clientIp);
    this.repo.recordSuccess(username, this.now());
    this.store.audit.record(username, 'login', `user:${username}`, { from: clientIp });
    return this.openSession(user);
  }

  /** Whether `username` is locked out from any address right now. */
  isLocked(username: string): boolean {
    return this.throttle.lockedAnywhere(username);
  }

  private lockedError(retryAfterMs: number) {
    return evxError(
      'EVX_ERR_AUTH_LOCKED',
      `account locked after ${this.settings.lockoutThreshold} bad passwords; try again in ${Math.ceil(retryAfterMs / 60_000)} min`,
      { details: { retryAfterMs } },
    );
  }

  private rateLimit(clientIp: string): void {
    const waitMs = this.limiter.take(clientIp);
    if (waitMs > 0) throw rateLimitedError(waitMs);
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
    return this.dummyHash;
  }

  private openSession(user: ConsoleUser): NewSession {
    const sessionId = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    const now = this.now();
    const expiresAt = now + this.settings.sessionTtlMs;
    const idHash = sha256(sessionId);
    this.repo.deleteExpiredSessions(now);
    this.repo.createSession({ idHash, username: user.username, csrfToken, createdAt: now, lastSeenAt: now, expiresAt });
    return {
      sessionId,
      csrfToken,
      expiresAt,
      principal: { kind: 'session', username: user.username, role: user.role, csrfToken, sessionIdHash: idHash },
    };
  }

  logout(principal: Principal): void {
    if (principal.sessionIdHash !== undefined) this.repo.deleteSession(principal.sessionIdHash);
    this.store.audit.record(principal.username, 'logout', `user:${principal.username}`, {});
  }

  /** The principal of a session cookie (sliding expiry), or null. */
  authenticateSession(sessionId: string): Principal | null {
    const idHash = sha256(sessionId);
    const row = this.repo.getSession(idHash);
    const now = this.now();
    if (row === undefined) return null;
    if (row.expiresAt <= now) {
      this.repo.deleteSession(idHash);
      return null;
    }
    // Touch at most once a minute: a busy console should not write on every request.
    if (now - row.lastSeenAt > 60_000) this.repo.touchSession(idHash, now, now + this.settings.sessionTtlMs);
    return { kind: 'session', username: row.username, role: row.role, csrfToken: row.csrfToken, sessionIdHash: idHash };
  }

  /** The principal of a bearer API token, or null. */
  authenticateToken(token: string): Principal | null {
    const tokenHash = sha256(token);
    const row = this.repo.getToken(tokenHash);
    if (row === undefined) return null;
    const now = this.now();
    if (row.lastUsedAt === null || now - row.lastUsedAt > 60_000) this.repo.touchToken(row.id, now);
    return { kind: 'token', username: `token:${row.name}`, role: row.role, tokenHash, owner: row.createdBy };
  }

  /**
   * For connections that outlive the request that opened them (WebSocket streams): a check that
   * says whether `principal`'s session or API token is still in force with the same role. It asks
   * the store again only after a credential was removed or the session's last known expiry passed;
   * once false it stays false.
   */
  watchPrincipal(principal: Principal): () => boolean {
    let seen = this.repo.revision;
    let validUntil = this.validUntil(principal);
    return () => {
      if (validUntil === null) return false;
      const now = this.now();
      if (seen === this.repo.revision && now < validUntil) return true;
      seen = this.repo.revision;
      validUntil = this.validUntil(principal);
      return validUntil !== null && now < validUntil;
    };
  }

  /** Until when the principal's credential holds as far as the store knows now, or null when it is gone. */
  private validUntil(p: Principal): number | null {
    if (p.kind === 'session') {
      const row = p.sessionIdHash === undefined ? undefined : this.repo.getSession(p.sessionIdHash);
      return row === undefined || row.role !== p.role ? null : row.expiresAt;
    }
    const row = p.tokenHash === undefined ? undefined : this.repo.getToken(p.tokenHash);
    return row === undefined || row.role !== p.role ? null : Number.POSITIVE_INFINITY;
  }

  /**
   * Create an API token for `by`; the secret is returned once and only its hash is kept. A token
   * minted with a token belongs to the same owner as the minting one, so deleting that account
   * revokes the whole family; the audit names the principal that minted it.
   */
  createApiToken(name: string, role: Role, by: Principal): { id: number; token: string } {
    const owner = by.kind === 'token' ? (by.owner ?? by.username) : by.username;
    return issueApiToken(this.store, name, role, owner, this.now(), by.username);
  }
}

function rateLimitedError(waitMs: number) {
  return evxError('EVX_ERR_AUTH_RATE_LIMITED', `too many login attempts; retry in ${Math.ceil(waitMs / 1000)} s`, {
    details: { retryAfterMs: waitMs },
  });
}

/**
 * Mint an API token straight in the store (used by the API, the `console-token` CLI command for
 * operators with shell access, and tests). The secret is returned once; only its hash is kept.
 */
export function issueApiToken(
  store: Store,
  name: string,
  role: Role,
  createdBy: string,
  at = Date.now(),
  actor = createdBy,
): { id: number; token: string } {
  if (!/^[A-Za-z0-9 ._:-]{1,64}$/.test(name))
    throw evxError('EVX_ERR_BAD_REQUEST', 'token name must be 1-64 letters, digits, spaces, dots, dashes', { details: { field: 'name' } });
  if (!isRole(role)) throw evxError('EVX_ERR_BAD_REQUEST', `role must be one of ${ROLES.join(', ')}`, { details: { field: 'role' } });
  const repo = new ConsoleAuthRepo(store.db, (op, fn) => store.write(op, fn));
  const token = `evx_${randomBytes(30).toString('base64url')}`;
  const id = repo.createToken(sha256(token), name, role, createdBy, at);
  store.audit.record(actor, 'token.created', `token:${id}`, { name, role, ...(actor !== createdBy ? { owner: createdBy } : {}) });
  return { id, token };
}
