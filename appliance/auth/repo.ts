/**
 * Console users, sessions and API tokens (migration 3). Session ids and tokens are stored only as
 * sha256 hashes, so a copy of the database cannot be used to sign in.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { Writer } from '../store/repos/writer.js';

/** Console roles, most to least able; `kiosk` is a wall TV's sign-in: it reads the wallboard's figures only. */
export type Role = 'technician' | 'supervisor' | 'viewer' | 'kiosk';
export const ROLES: readonly Role[] = ['technician', 'supervisor', 'viewer', 'kiosk'];

export interface ConsoleUser {
  username: string;
  role: Role;
  passwordHash: string;
  failedLogins: number;
  lockedUntil: number;
  createdAt: number;
  lastLoginAt: number | null;
}

export interface SessionRow {
  idHash: string;
  username: string;
  role: Role;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

export interface ApiTokenRow {
  id: number;
  name: string;
  role: Role;
  createdBy: string;
  createdAt: number;
  lastUsedAt: number | null;
}

interface UserDb {
  username: string;
  role: Role;
  password_hash: string;
  failed_logins: number;
  locked_until: number;
  created_at: number;
  last_login_at: number | null;
}

const toUser = (r: UserDb): ConsoleUser => ({
  username: r.username,
  role: r.role,
  passwordHash: r.password_hash,
  failedLogins: r.failed_logins,
  lockedUntil: r.locked_until,
  createdAt: r.created_at,
  lastLoginAt: r.last_login_at,
});

export class ConsoleAuthRepo {
  private readonly s: Record<string, Statement>;
  private removals = 0;

  constructor(
    private readonly db: Database,
    private readonly write: Writer,
  ) {
    this.s = {
      countUsers: db.prepare(`SELECT COUNT(*) AS n FROM console_users`),
      getUser: db.prepare(`SELECT * FROM console_users WHERE username = ?`),
      listUsers: db.prepare(`SELECT * FROM console_users ORDER BY username`),
      insertUser: db.prepare(`INSERT INTO console_users (username, role, password_hash, created_at) VALUES (?, ?, ?, ?)`),
      deleteUser: db.prepare(`DELETE FROM console_users WHERE username = ?`),
      deleteUserTokens: db.prepare(`DELETE FROM api_tokens WHERE created_by = ?`),
      setPassword: db.prepare(`UPDATE console_users SET password_hash = ?, failed_logins = 0, locked_until = 0 WHERE username = ?`),
      setRole: db.prepare(`UPDATE console_users SET role = ? WHERE username = ?`),
      succeeded: db.prepare(`UPDATE console_users SET failed_logins = 0, locked_until = 0, last_login_at = ? WHERE username = ?`),
      insertSession: db.prepare(
        `INSERT INTO console_sessions (id_hash, username, csrf_token, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      getSession: db.prepare(
        `SELECT s.id_hash, s.username, u.role, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at
           FROM console_sessions s JOIN console_users u ON u.username = s.username WHERE s.id_hash = ?`,
      ),
      touchSession: db.prepare(`UPDATE console_sessions SET last_seen_at = ?, expires_at = ? WHERE id_hash = ?`),
      deleteSession: db.prepare(`DELETE FROM console_sessions WHERE id_hash = ?`),
      deleteUserSessions: db.prepare(`DELETE FROM console_sessions WHERE username = ?`),
      deleteExpired: db.prepare(`DELETE FROM console_sessions WHERE expires_at <= ?`),
      insertToken: db.prepare(`INSERT INTO api_tokens (token_hash, name, role, created_by, created_at) VALUES (?, ?, ?, ?, ?)`),
      getToken: db.prepare(`SELECT id, name, role, created_by, created_at, last_used_at FROM api_tokens WHERE token_hash = ?`),
      touchToken: db.prepare(`UPDATE api_tokens SET last_used_at = ? WHERE id = ?`),
      listTokens: db.prepare(`SELECT id, name, role, created_by, created_at, last_used_at FROM api_tokens ORDER BY id`),
      deleteToken: db.prepare(`DELETE FROM api_tokens WHERE id = ?`),
    };
  }

  /**
   * Goes up whenever a session, token or account may have been removed through this repo: long-lived
   * connections re-check their credential only when it moved (AuthService.watchPrincipal).
   */
  get revision(): number {
    return this.removals;
  }

  private stmt(name: string): Statement {
    const s = this.s[name];
    if (s === undefined) throw new Error(`no statement ${name}`);
    return s;
  }

  userCount(): number {
    return (this.stmt('countUsers').get() as { n: number }).n;
  }

  getUser(username: string): ConsoleUser | undefined {
    const r = this.stmt('getUser').get(username) as UserDb | undefined;
    return r === undefined ? undefined : toUser(r);
  }

  listUsers(): ConsoleUser[] {
    return (this.stmt('listUsers').all() as UserDb[]).map(toUser);
  }

  createUser(username: string, role: Role, passwordHash: string, at = Date.now()): void {
    this.write('auth.createUser', () => this.stmt('insertUser').run(username, role, passwordHash, at));
  }

  /**
   * Delete an account, its sessions (cascade) and the API tokens it minted, in one transaction: a
   * removed operator keeps no way in. Null when there was no such account.
   */
  deleteUser(username: string): { tokensRevoked: number } | null {
    this.removals++;
    return this.write('auth.deleteUser', () =>
      this.db.transaction(() => {
        if (this.stmt('deleteUser').run(username).changes === 0) return null;
        return { tokensRevoked: this.stmt('deleteUserTokens').run(username).changes };
      })(),
    );
  }

  setPassword(username: string, passwordHash: string): void {
    this.removals++;
    this.write('auth.setPassword', () => {
      this.stmt('setPassword').run(passwordHash, username);
      this.stmt('deleteUserSessions').run(username);
    });
  }

  setRole(username: string, role: Role): void {
    this.write('auth.setRole', () => this.stmt('setRole').run(role, username));
  }

  recordSuccess(username: string, at = Date.now()): void {
    this.write('auth.success', () => this.stmt('succeeded').run(at, username));
  }

  createSession(row: Omit<SessionRow, 'role'>): void {
    this.write('auth.createSession', () =>
      this.stmt('insertSession').run(row.idHash, row.username, row.csrfToken, row.createdAt, row.lastSeenAt, row.expiresAt),
    );
  }

  getSession(idHash: string): SessionRow | undefined {
    const r = this.stmt('getSession').get(idHash) as
      | { id_hash: string; username: string; role: Role; csrf_token: string; created_at: number; last_seen_at: number; expires_at: number }
      | undefined;
    if (r === undefined) return undefined;
    return {
      idHash: r.id_hash,
      username: r.username,
      role: r.role,
      csrfToken: r.csrf_token,
      createdAt: r.created_at,
      lastSeenAt: r.last_seen_at,
      expiresAt: r.expires_at,
    };
  }

  touchSession(idHash: string, at: number, expiresAt: number): void {
    this.write('auth.touchSession', () => this.stmt('touchSession').run(at, expiresAt, idHash));
  }

  deleteSession(idHash: string): void {
    this.removals++;
    this.write('auth.deleteSession', () => this.stmt('deleteSession').run(idHash));
  }

  deleteExpiredSessions(now = Date.now()): number {
    this.removals++;
    return this.write('auth.expireSessions', () => this.stmt('deleteExpired').run(now).changes);
  }

  createToken(tokenHash: string, name: string, role: Role, createdBy: string, at = Date.now()): number {
    return this.write('auth.createToken', () => Number(this.stmt('insertToken').run(tokenHash, name, role, createdBy, at).lastInsertRowid));
  }

  getToken(tokenHash: string): ApiTokenRow | undefined {
    const r = this.stmt('getToken').get(tokenHash) as
      { id: number; name: string; role: Role; created_by: string; created_at: number; last_used_at: number | null } | undefined;
    return r === undefined
      ? undefined
      : { id: r.id, name: r.name, role: r.role, createdBy: r.created_by, createdAt: r.created_at, lastUsedAt: r.last_used_at };
  }

  touchToken(id: number, at = Date.now()): void {
    this.write('auth.touchToken', () => this.stmt('touchToken').run(at, id));
  }

  listTokens(): ApiTokenRow[] {
    return (
      this.stmt('listTokens').all() as {
        id: number;
        name: string;
        role: Role;
        created_by: string;
        created_at: number;
        last_used_at: number | null;
      }[]
    ).map((r) => ({
      id: r.id,
      name: r.name,
      role: r.role,
      createdBy: r.created_by,
      createdAt: r.created_at,
      lastUsedAt: r.last_used_at,
    }));
  }

  deleteToken(id: number): boolean {
    this.removals++;
    return this.write('auth.deleteToken', () => this.stmt('deleteToken').run(id).changes > 0);
  }

  /**
   * Replace all users (backup restore); sessions go with them, and so do the API tokens of accounts
   * the new set does not have (tokens minted outside any account, by the CLI, stay).
   */
  replaceUsers(users: readonly ConsoleUser[]): void {
    this.removals++;
    this.write('auth.replaceUsers', () =>
      this.db.transaction(() => {
        const keep = new Set(users.map((u) => u.username));
        const gone = (this.db.prepare(`SELECT username FROM console_users`).all() as { username: string }[])
          .map((r) => r.username)
          .filter((name) => !keep.has(name));
        const revoke = this.stmt('deleteUserTokens');
        for (const name of gone) revoke.run(name);
        this.db.prepare(`DELETE FROM console_sessions`).run();
        this.db.prepare(`DELETE FROM console_users`).run();
        const insert = this.db.prepare(
          `INSERT INTO console_users (username, role, password_hash, created_at, last_login_at) VALUES (?, ?, ?, ?, ?)`,
        );
        for (const u of users) insert.run(u.username, u.role, u.passwordHash, u.createdAt, u.lastLoginAt);
      })(),
    );
  }
}
