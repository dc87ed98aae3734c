/** One row per appliance start; a row without stopped_at at the next start means a crash. */
import type { Database, Statement } from 'better-sqlite3';
import type { Writer } from './writer.js';

export interface RunRecord {
  id: number;
  startedAt: number;
  stoppedAt: number | null;
  stopReason: string | null;
  version: string;
}

export class RunsRepo {
  private readonly startStmt: Statement;
  private readonly stopStmt: Statement;
  private readonly uncleanStmt: Statement<[number], { id: number; started_at: number; version: string }>;

  constructor(
    db: Database,
    private readonly write: Writer,
  ) {
    this.startStmt = db.prepare(`INSERT INTO appliance_runs (started_at, version) VALUES (?, ?)`);
    this.stopStmt = db.prepare(`UPDATE appliance_runs SET stopped_at = ?, stop_reason = ? WHERE id = ?`);
    this.uncleanStmt = db.prepare(`SELECT id, started_at, version FROM appliance_runs WHERE stopped_at IS NULL AND id != ? ORDER BY id`);
  }

  start(version: string, at = Date.now()): number {
    return this.write('runs.start', () => Number(this.startStmt.run(at, version).lastInsertRowid));
  }

  stop(id: number, reason: string, at = Date.now()): void {
    this.write('runs.stop', () => this.stopStmt.run(at, reason, id));
  }

  /** Earlier runs that never recorded a stop (killed or crashed); marks them so they are reported once. */
  takeUnclean(currentRunId: number, at = Date.now()): number {
    const rows = this.uncleanStmt.all(currentRunId);
    for (const row of rows) this.stop(row.id, 'crashed', at);
    return rows.length;
  }
}
