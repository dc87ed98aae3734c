/** Append-only audit log of configuration changes, logins and other operator actions. */
import type { Database, Statement } from 'better-sqlite3';
import { parseJson, type Writer } from './writer.js';

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
}

interface Row {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  details_json: string;
}

export class AuditRepo {
  private readonly insertStmt: Statement;
  private readonly listStmt: Statement<[number], Row>;

  constructor(
    private readonly db: Database,
    private readonly write: Writer,
  ) {
    this.insertStmt = db.prepare(`INSERT INTO audit_log (at, actor, action, target, details_json) VALUES (?, ?, ?, ?, ?)`);
    this.listStmt = db.prepare(`SELECT * FROM audit_log ORDER BY id DESC LIMIT ?`);
  }

  record(actor: string, action: string, target = '', details: Record<string, unknown> = {}, at = Date.now()): number {
    return this.write('audit.record', () =>
      Number(this.insertStmt.run(at, actor, action, target, JSON.stringify(details)).lastInsertRowid),
    );
  }

  /** The entries about one target (e.g. `alert:12`), newest first. */
  forTarget(target: string, limit = 100): AuditEntry[] {
    return (this.db.prepare(`SELECT * FROM audit_log WHERE target = ? ORDER BY id DESC LIMIT ?`).all(target, limit) as Row[]).map(toEntry);
  }

  list(limit = 100): AuditEntry[] {
    return this.listStmt.all(limit).map(toEntry);
  }
}

function toEntry(r: Row): AuditEntry {
  return { id: r.id, at: r.at, actor: r.actor, action: r.action, target: r.target, details: parseJson(r.details_json, {}) };
}
