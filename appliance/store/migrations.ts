/**
 * Forward-only schema migrations. Append new entries; never edit one that has shipped.
 * Each runs in its own transaction together with the bump of PRAGMA user_version, so a crash
 * leaves the database at the previous version, never half-migrated.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'core tables: calls, legs, utterances, config versions, audit log',
    sql: `
      CREATE TABLE calls (
        id            TEXT PRIMARY KEY,
        source        TEXT NOT NULL,            -- sip | siprec | webrtc
        direction     TEXT NOT NULL DEFAULT 'inbound',
        caller_hash   TEXT,                     -- salted hash of the caller number, never the number
        state         TEXT NOT NULL,            -- ringing | active | ended
        started_at    INTEGER NOT NULL,         -- unix ms
        answered_at   INTEGER,
        ended_at      INTEGER,
        end_reason    TEXT,
        meta_json     TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX calls_started_at ON calls (started_at DESC);
      CREATE INDEX calls_state ON calls (state);

      CREATE TABLE call_legs (
        id            TEXT PRIMARY KEY,
        call_id       TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        label         TEXT NOT NULL,            -- caller | agent | participant label
        codec         TEXT,
        started_at    INTEGER NOT NULL,
        ended_at      INTEGER,
        quality_json  TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX call_legs_call ON call_legs (call_id);

      CREATE TABLE utterances (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        call_id       TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        leg_id        TEXT,
        speaker       TEXT NOT NULL,
        start_ms      INTEGER NOT NULL,
        end_ms        INTEGER NOT NULL,
        text          TEXT NOT NULL,
        words_json    TEXT NOT NULL DEFAULT '[]',
        confidence    REAL,
        analysis_json TEXT NOT NULL DEFAULT '{}',   -- intent, emotion, keywords
        created_at    INTEGER NOT NULL
      );
      CREATE INDEX utterances_call ON utterances (call_id, start_ms);

      CREATE TABLE config_versions (
        version       INTEGER PRIMARY KEY AUTOINCREMENT,
        config_json   TEXT NOT NULL,
        author        TEXT NOT NULL,
        comment       TEXT NOT NULL DEFAULT '',
        created_at    INTEGER NOT NULL
      );

      CREATE TABLE audit_log (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        at            INTEGER NOT NULL,
        actor         TEXT NOT NULL,
        action        TEXT NOT NULL,
        target        TEXT NOT NULL DEFAULT '',
        details_json  TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX audit_log_at ON audit_log (at DESC);
    `,
  },
  {
    version: 2,
    name: 'appliance runs: start/stop records for crash detection',
    sql: `
      CREATE TABLE appliance_runs (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at    INTEGER NOT NULL,
        stopped_at    INTEGER,
        stop_reason   TEXT,
        version       TEXT NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'console auth: users, sessions, API tokens',
    sql: `
      CREATE TABLE console_users (
        username      TEXT PRIMARY KEY,
        role          TEXT NOT NULL,            -- technician | supervisor | viewer
        password_hash TEXT NOT NULL,            -- scrypt$N$r$p$salt$hash
        failed_logins INTEGER NOT NULL DEFAULT 0,
        locked_until  INTEGER NOT NULL DEFAULT 0,
        created_at    INTEGER NOT NULL,
        last_login_at INTEGER
      );

      CREATE TABLE console_sessions (
        id_hash       TEXT PRIMARY KEY,         -- sha256 of the cookie value; the value itself is never stored
        username      TEXT NOT NULL REFERENCES console_users (username) ON DELETE CASCADE,
        csrf_token    TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        last_seen_at  INTEGER NOT NULL,
        expires_at    INTEGER NOT NULL
      );
      CREATE INDEX console_sessions_user ON console_sessions (username);

      CREATE TABLE api_tokens (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        token_hash    TEXT NOT NULL UNIQUE,     -- sha256 of the bearer token
        name          TEXT NOT NULL,
        role          TEXT NOT NULL,
        created_by    TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        last_used_at  INTEGER
      );
    `,
  },
];
