/** Supervisor alerts (angry/escalating callers, queue waits, intent spikes). */
import type { Database, Statement } from 'better-sqlite3';
import { parseJson, type Writer } from '../store/repos/writer.js';

export type AlertSeverity = 'info' | 'warning' | 'critical';

export interface AlertRecord {
  id: number;
  at: number;
  callId: string | null;
  kind: string;
  severity: AlertSeverity;
  message: string;
  details: Record<string, unknown>;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
}

interface Row {
  id: number;
  at: number;
  call_id: string | null;
  kind: string;
  severity: AlertSeverity;
  message: string;
  details_json: string;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
}

export class AlertsRepo {
  private readonly insertStmt: Statement;
  private readonly ackStmt: Statement;

  constructor(
    private readonly db: Database,
    private readonly write: Writer,
  ) {
    this.insertStmt = db.prepare(
      `INSERT INTO alerts (at, call_id, kind, severity, message, details_json) VALUES (@at, @callId, @kind, @severity, @message, @detailsJson)`,
    );
    this.ackStmt = db.prepare(`UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND acknowledged_at IS NULL`);
  }

  insert(a: Omit<AlertRecord, 'id' | 'acknowledgedAt' | 'acknowledgedBy'>): number {
    return this.write('alerts.insert', () =>
      Number(
        this.insertStmt.run({
          at: a.at,
          callId: a.callId,
          kind: a.kind,
          severity: a.severity,
          message: a.message,
          detailsJson: JSON.stringify(a.details),
        }).lastInsertRowid,
      ),
    );
  }

  acknowledge(id: number, at: number, by: string): boolean {
    return this.write('alerts.ack', () => this.ackStmt.run(at, by, id).changes > 0);
  }

  get(id: number): AlertRecord | undefined {
    const row = this.db.prepare(`SELECT * FROM alerts WHERE id = ?`).get(id) as Row | undefined;
    return row === undefined ? undefined : toAlert(row);
  }

  list(q: {
    limit: number;
    kind?: string | undefined;
    callId?: string | undefined;
    beforeId?: number | undefined;
    unacknowledged?: boolean | undefined;
  }): AlertRecord[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (q.kind !== undefined) {
      where.push('kind = ?');
      params.push(q.kind);
    }
    if (q.callId !== undefined) {
      where.push('call_id = ?');
      params.push(q.callId);
    }
    if (q.beforeId !== undefined) {
      where.push('id < ?');
      params.push(q.beforeId);
    }
    if (q.unacknowledged) where.push('acknowledged_at IS NULL');
    const sql = `SELECT * FROM alerts ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...params, q.limit) as Row[]).map(toAlert);
  }
}

function toAlert(r: Row): AlertRecord {
  return {
    id: r.id,
    at: r.at,
    callId: r.call_id,
    kind: r.kind,
    severity: r.severity,
    message: r.message,
    details: parseJson(r.details_json, {}),
    acknowledgedAt: r.acknowledged_at,
    acknowledgedBy: r.acknowledged_by,
  };
}
