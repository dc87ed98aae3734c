/** Supervisor alerts (angry/escalating callers, queue waits, intent spikes) and their lifecycle columns. */
import type { Database, Statement } from 'better-sqlite3';
import { parseJson, type Writer } from '../store/repos/writer.js';

export type AlertSeverity = 'info' | 'warning' | 'critical';
export const ALERT_SEVERITIES: readonly AlertSeverity[] = ['info', 'warning', 'critical'];
export type AlertState = 'open' | 'acknowledged' | 'resolved';
export const ALERT_STATES: readonly AlertState[] = ['open', 'acknowledged', 'resolved'];

export interface AlertRecord {
  id: number;
  at: number;
  callId: string | null;
  kind: string;
  severity: AlertSeverity;
  message: string;
  details: Record<string, unknown>;
  state: AlertState;
  assignedTo: string | null;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  resolvedAt: number | null;
  resolvedBy: string | null;
  updatedAt: number | null;
}

interface Row {
  id: number;
  at: number;
  call_id: string | null;
  kind: string;
  severity: AlertSeverity;
  message: string;
  details_json: string;
  state: AlertState;
  assigned_to: string | null;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  resolved_at: number | null;
  resolved_by: string | null;
  updated_at: number | null;
}

export interface AlertListQuery {
  limit: number;
  kind?: string | undefined;
  callId?: string | undefined;
  beforeId?: number | undefined;
  /** Open only (the state before this lifecycle: not acknowledged and not resolved). */
  unacknowledged?: boolean | undefined;
  states?: readonly AlertState[] | undefined;
  severities?: readonly AlertSeverity[] | undefined;
  /** Raised at or after (unix ms). */
  since?: number | undefined;
  /** Raised before (unix ms). */
  until?: number | undefined;
}

export class AlertsRepo {
  private readonly insertStmt: Statement;
  private readonly getStmt: Statement<[number], Row>;
  private readonly ackStmt: Statement;
  private readonly resolveStmt: Statement;
  private readonly assignStmt: Statement;

  constructor(
    private readonly db: Database,
    private readonly write: Writer,
  ) {
    this.insertStmt = db.prepare(
      `INSERT INTO alerts (at, call_id, kind, severity, message, details_json, updated_at) VALUES (@at, @callId, @kind, @severity, @message, @detailsJson, @at)`,
    );
    this.getStmt = db.prepare(`SELECT * FROM alerts WHERE id = ?`);
    // Each transition names the state it leaves, so two supervisors racing cannot both win.
    this.ackStmt = db.prepare(
      `UPDATE alerts SET state = 'acknowledged', acknowledged_at = ?, acknowledged_by = ?, updated_at = ? WHERE id = ? AND state = 'open'`,
    );
    this.resolveStmt = db.prepare(
      `UPDATE alerts SET state = 'resolved', resolved_at = ?, resolved_by = ?, updated_at = ? WHERE id = ? AND state IN ('open', 'acknowledged')`,
    );
    this.assignStmt = db.prepare(`UPDATE alerts SET assigned_to = ?, updated_at = ? WHERE id = ? AND state IN ('open', 'acknowledged')`);
  }

  insert(a: Pick<AlertRecord, 'at' | 'callId' | 'kind' | 'severity' | 'message' | 'details'>): number {
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

  /** open → acknowledged; false when the alert is not open. */
  acknowledge(id: number, at: number, by: string): boolean {
    return this.write('alerts.ack', () => this.ackStmt.run(at, by, at, id).changes > 0);
  }

  /** open or acknowledged → resolved; false when already resolved (or missing). */
  resolve(id: number, at: number, by: string): boolean {
    return this.write('alerts.resolve', () => this.resolveStmt.run(at, by, at, id).changes > 0);
  }

  /** Assign (or unassign with null) an alert that is not resolved; false otherwise. */
  assign(id: number, at: number, to: string | null): boolean {
    return this.write('alerts.assign', () => this.assignStmt.run(to, at, id).changes > 0);
  }

  get(id: number): AlertRecord | undefined {
    const row = this.getStmt.get(id);
    return row === undefined ? undefined : toAlert(row);
  }

  list(q: AlertListQuery): AlertRecord[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    const add = (clause: string, ...values: (string | number)[]) => {
      where.push(clause);
      params.push(...values);
    };
    if (q.kind !== undefined) add('kind = ?', q.kind);
    if (q.callId !== undefined) add('call_id = ?', q.callId);
    if (q.beforeId !== undefined) add('id < ?', q.beforeId);
    if (q.unacknowledged) add(`state = 'open'`);
    if (q.states !== undefined && q.states.length > 0) add(`state IN (${q.states.map(() => '?').join(', ')})`, ...q.states);
    if (q.severities !== undefined && q.severities.length > 0)
      add(`severity IN (${q.severities.map(() => '?').join(', ')})`, ...q.severities);
    if (q.since !== undefined) add('at >= ?', q.since);
    if (q.until !== undefined) add('at < ?', q.until);
    const sql = `SELECT * FROM alerts ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...params, q.limit) as Row[]).map(toAlert);
  }

  /** Alerts by state and severity (the console's badge, the live page's count). */
  counts(): Record<AlertState, Record<AlertSeverity, number>> {
    const out = Object.fromEntries(ALERT_STATES.map((s) => [s, { info: 0, warning: 0, critical: 0 }])) as Record<
      AlertState,
      Record<AlertSeverity, number>
    >;
    const rows = this.db.prepare(`SELECT state, severity, COUNT(*) AS n FROM alerts GROUP BY state, severity`).all() as {
      state: AlertState;
      severity: AlertSeverity;
      n: number;
    }[];
    for (const r of rows) if (r.state in out && r.severity in out[r.state]) out[r.state][r.severity] = r.n;
    return out;
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
    state: r.state,
    assignedTo: r.assigned_to,
    acknowledgedAt: r.acknowledged_at,
    acknowledgedBy: r.acknowledged_by,
    resolvedAt: r.resolved_at,
    resolvedBy: r.resolved_by,
    updatedAt: r.updated_at,
  };
}
