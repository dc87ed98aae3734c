/** Every accepted configuration, versioned, so a change can be diffed and rolled back. */
import type { Database, Statement } from 'better-sqlite3';
import { parseJson, type Writer } from './writer.js';

export interface ConfigVersion {
  version: number;
  config: Record<string, unknown>;
  author: string;
  comment: string;
  createdAt: number;
}

interface Row {
  version: number;
  config_json: string;
  author: string;
  comment: string;
  created_at: number;
}

export class ConfigVersionsRepo {
  private readonly insertStmt: Statement;
  private readonly latestStmt: Statement<[], Row>;
  private readonly getStmt: Statement<[number], Row>;
  private readonly listStmt: Statement<[number], Row>;

  constructor(
    db: Database,
    private readonly write: Writer,
  ) {
    this.insertStmt = db.prepare(`INSERT INTO config_versions (config_json, author, comment, created_at) VALUES (?, ?, ?, ?)`);
    this.latestStmt = db.prepare(`SELECT * FROM config_versions ORDER BY version DESC LIMIT 1`);
    this.getStmt = db.prepare(`SELECT * FROM config_versions WHERE version = ?`);
    this.listStmt = db.prepare(`SELECT * FROM config_versions ORDER BY version DESC LIMIT ?`);
  }

  add(config: Record<string, unknown>, author: string, comment = '', at = Date.now()): number {
    return this.write('config.add', () => Number(this.insertStmt.run(JSON.stringify(config), author, comment, at).lastInsertRowid));
  }

  latest(): ConfigVersion | undefined {
    const row = this.latestStmt.get();
    return row === undefined ? undefined : toVersion(row);
  }

  get(version: number): ConfigVersion | undefined {
    const row = this.getStmt.get(version);
    return row === undefined ? undefined : toVersion(row);
  }

  list(limit = 50): ConfigVersion[] {
    return this.listStmt.all(limit).map(toVersion);
  }
}

function toVersion(row: Row): ConfigVersion {
  return {
    version: row.version,
    config: parseJson(row.config_json, {}),
    author: row.author,
    comment: row.comment,
    createdAt: row.created_at,
  };
}
