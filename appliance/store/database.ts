/**
 * The SQLite store: better-sqlite3 in WAL mode under the data dir, migrated forward at open.
 * Repositories (one per aggregate) hang off the Store; only they write SQL.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { evxError, isEdgeVoxError } from '../errors.js';
import { TypedEmitter } from '../events/typedEmitter.js';
import { MIGRATIONS, type Migration } from './migrations.js';
import { AuditRepo } from './repos/audit.js';
import { CallsRepo } from './repos/calls.js';
import { ConfigVersionsRepo } from './repos/configVersions.js';
import { RunsRepo } from './repos/runs.js';
import { UtterancesRepo } from './repos/utterances.js';

export type Db = Database.Database;

export interface StoreEvents {
  /** A write failed (disk full, I/O error); counted in metrics, the caller decides what to keep. */
  writeError: { operation: string; sqliteCode: string };
  /** A write succeeded; `durationMs` feeds the write-latency histogram. */
  write: { operation: string; durationMs: number };
}

export const DATABASE_FILE = 'edgevox.sqlite';

export class Store {
  readonly events = new TypedEmitter<StoreEvents>();
  readonly calls: CallsRepo;
  readonly utterances: UtterancesRepo;
  readonly configVersions: ConfigVersionsRepo;
  readonly audit: AuditRepo;
  readonly runs: RunsRepo;
  private closed = false;

  private constructor(
    readonly db: Db,
    readonly path: string,
  ) {
    const writer = this.write.bind(this);
    this.calls = new CallsRepo(db, writer);
    this.utterances = new UtterancesRepo(db, writer);
    this.configVersions = new ConfigVersionsRepo(db, writer);
    this.audit = new AuditRepo(db, writer);
    this.runs = new RunsRepo(db, writer);
  }

  /** Open (creating if needed) the store in `dataDir` and apply pending migrations. */
  static open(dataDir: string, migrations: readonly Migration[] = MIGRATIONS): Store {
    const path = join(dataDir, DATABASE_FILE);
    let db: Db;
    try {
      mkdirSync(dataDir, { recursive: true });
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      // NORMAL is crash-consistent in WAL mode; FULL would add an fsync per commit on the media path.
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
    } catch (err) {
      throw evxError('EVX_ERR_STORE_OPEN', `cannot open store at ${path}: ${(err as Error).message}`, { cause: err, details: { path } });
    }
    try {
      migrate(db, migrations);
    } catch (err) {
      db.close();
      throw err;
    }
    return new Store(db, path);
  }

  /** Current schema version (PRAGMA user_version). */
  schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  /** Result of PRAGMA integrity_check: 'ok' when the file is consistent. */
  integrityCheck(): string {
    return String(this.db.pragma('integrity_check', { simple: true }));
  }

  /**
   * Run a write, timing it and mapping SQLite failures (SQLITE_FULL, SQLITE_IOERR, ...) to
   * EVX_ERR_STORE_WRITE so callers can keep processing calls while storage is unhealthy.
   */
  write<T>(operation: string, fn: () => T): T {
    const started = performance.now();
    try {
      const result = fn();
      this.events.emit('write', { operation, durationMs: performance.now() - started });
      return result;
    } catch (err) {
      if (isEdgeVoxError(err)) throw err;
      const sqliteCode = (err as { code?: string }).code ?? 'UNKNOWN';
      this.events.emit('writeError', { operation, sqliteCode });
      if (sqliteCode.startsWith('SQLITE_CONSTRAINT')) {
        throw evxError('EVX_ERR_STORE_CONSTRAINT', `store write '${operation}' violated a constraint: ${sqliteCode}`, {
          cause: err,
          details: { operation, sqliteCode },
        });
      }
      throw evxError('EVX_ERR_STORE_WRITE', `store write '${operation}' failed: ${sqliteCode}`, {
        cause: err,
        details: { operation, sqliteCode },
      });
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // A checkpoint failure (disk full) must not stop the close; WAL replays at next open.
    }
    this.db.close();
    this.events.removeAllListeners();
  }

  get isOpen(): boolean {
    return !this.closed;
  }
}

/** Apply every migration newer than the database, each in its own transaction. */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): { from: number; to: number } {
  const from = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  if (from > latest) {
    throw evxError('EVX_ERR_STORE_NEWER_SCHEMA', `database schema version ${from} is newer than this build knows (${latest})`, {
      details: { from, latest },
    });
  }
  const pending = [...migrations].filter((m) => m.version > from).sort((a, b) => a.version - b.version);
  for (const migration of pending) {
    const apply = db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    });
    try {
      apply();
    } catch (err) {
      throw evxError('EVX_ERR_STORE_MIGRATION', `migration ${migration.version} (${migration.name}) failed: ${(err as Error).message}`, {
        cause: err,
        details: { version: migration.version },
      });
    }
  }
  return { from, to: Math.max(from, latest) };
}
