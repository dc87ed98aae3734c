/**
 * The alert lifecycle: open → acknowledged → resolved (open → resolved directly too), and
 * assignment to a console user while the alert is not resolved. Every change is written to the
 * audit log (who, when, the optional note, from and to) and published as `alert.updated`, so the
 * console follows it live and push channels can tell a receiver. A refused transition is
 * EVX_ERR_ALERT_STATE (409) with the current state in its details; an unknown alert EVX_ERR_NOT_FOUND.
 */
import { evxError } from '../errors.js';
import type { EventBus } from '../events/appEvents.js';
import type { AlertRecord, AlertsRepo, AlertState } from './repo.js';

export type AlertAction = 'acknowledge' | 'assign' | 'resolve';

/** The audit action of each lifecycle change; the target is `alert:<id>`. */
export const ALERT_AUDIT_ACTIONS: Readonly<Record<AlertAction, string>> = {
  acknowledge: 'alert.acknowledge',
  assign: 'alert.assign',
  resolve: 'alert.resolve',
};

/** The states an action may start from. */
const FROM: Readonly<Record<AlertAction, readonly AlertState[]>> = {
  acknowledge: ['open'],
  assign: ['open', 'acknowledged'],
  resolve: ['open', 'acknowledged'],
};

/** Whether `action` is allowed from `state` (pure; the repository enforces the same atomically). */
export function canTransition(state: AlertState, action: AlertAction): boolean {
  return FROM[action].includes(state);
}

export interface AlertLifecycleDeps {
  readonly repo: AlertsRepo;
  readonly bus: EventBus;
  readonly audit: { record(actor: string, action: string, target: string, details: Record<string, unknown>, at?: number): unknown };
  /** Whether a console user of this name exists (assignment targets). */
  readonly userExists: (username: string) => boolean;
  readonly now?: () => number;
}

export interface AlertChange {
  readonly by: string;
  readonly note?: string | undefined;
}

export class AlertLifecycle {
  constructor(private readonly deps: AlertLifecycleDeps) {}

  acknowledge(id: number, change: AlertChange): AlertRecord {
    return this.apply(id, 'acknowledge', change, (at) => this.deps.repo.acknowledge(id, at, change.by), {});
  }

  resolve(id: number, change: AlertChange): AlertRecord {
    return this.apply(id, 'resolve', change, (at) => this.deps.repo.resolve(id, at, change.by), {});
  }

  /** Assign to a console user, or unassign with null. */
  assign(id: number, to: string | null, change: AlertChange): AlertRecord {
    if (to !== null && !this.deps.userExists(to))
      throw evxError('EVX_ERR_BAD_REQUEST', 'no console user of that name', { details: { field: 'assignee' } });
    return this.apply(id, 'assign', change, (at) => this.deps.repo.assign(id, at, to), { assignee: to });
  }

  private apply(
    id: number,
    action: AlertAction,
    change: AlertChange,
    write: (at: number) => boolean,
    extra: Record<string, unknown>,
  ): AlertRecord {
    const before = this.deps.repo.get(id);
    if (before === undefined) throw evxError('EVX_ERR_NOT_FOUND', 'no such alert', { details: { resource: 'alert' } });
    const at = (this.deps.now ?? Date.now)();
    if (!canTransition(before.state, action) || !write(at)) {
      const current = this.deps.repo.get(id)?.state ?? before.state;
      throw evxError('EVX_ERR_ALERT_STATE', `an alert that is ${current} cannot be given '${action}'`, {
        details: { state: current, action },
      });
    }
    const after = this.deps.repo.get(id)!;
    this.deps.audit.record(
      change.by,
      ALERT_AUDIT_ACTIONS[action],
      `alert:${id}`,
      { from: before.state, to: after.state, ...extra, ...(change.note ? { note: change.note } : {}) },
      at,
    );
    this.deps.bus.publish({
      type: 'alert.updated',
      at,
      alertId: id,
      callId: after.callId,
      kind: after.kind,
      severity: after.severity,
      action,
      state: after.state,
      assignedTo: after.assignedTo,
      by: change.by,
    });
    return after;
  }
}
