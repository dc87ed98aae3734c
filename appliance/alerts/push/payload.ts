/**
 * What an alert push carries — and so all that leaves the box about an alert: its id, kind, severity,
 * state and times, the call's id (an opaque uuid), the site, and the counts of open and acknowledged
 * alerts by severity. Never the alert's details (they can hold the intent, emotion scores, scripts or,
 * in future detectors, anything), its message, who acknowledged or was assigned (staff names), caller
 * numbers, names or transcript text. Built field by field from known-safe values, never by copying.
 */
import type { ApplianceEvent } from '../../events/appEvents.js';
import type { AlertSeverity, AlertState } from '../repo.js';

export type AlertPushEvent = 'alert.raised' | 'alert.acknowledged' | 'alert.assigned' | 'alert.resolved';

type Counts = Record<AlertSeverity, number>;

/** The JSON body of one webhook delivery (version 1), also the source of the e-mail text. */
export interface AlertPushPayload {
  readonly event: AlertPushEvent;
  readonly version: 1;
  /** Delivery id: the same on every attempt (X-EdgeVox-Delivery). */
  readonly id: string;
  readonly site: { readonly id: string; readonly name: string };
  readonly alert: {
    readonly id: number | null;
    readonly kind: string;
    readonly severity: AlertSeverity;
    readonly state: AlertState;
    readonly callId: string | null;
  };
  /** Epoch ms of the change (the raise, or the transition). */
  readonly at: number;
  /** Alerts not yet resolved, by state and severity, as this change left them. */
  readonly counts: { readonly open: Counts; readonly acknowledged: Counts };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KIND = /^[a-z_]{1,64}$/;

/** The payload of an `alert` or `alert.updated` event; null for any other event. */
export function alertPushPayload(
  e: ApplianceEvent,
  ctx: { readonly id: string; readonly siteId: string; readonly siteName: string; readonly counts: { open: Counts; acknowledged: Counts } },
): AlertPushPayload | null {
  let event: AlertPushEvent;
  let alertId: unknown;
  let state: AlertState;
  if (e.type === 'alert') {
    event = 'alert.raised';
    alertId = e.details['alertId'];
    state = 'open';
  } else if (e.type === 'alert.updated') {
    event = e.action === 'acknowledge' ? 'alert.acknowledged' : e.action === 'assign' ? 'alert.assigned' : 'alert.resolved';
    alertId = e.alertId;
    state = e.state;
  } else return null;
  return {
    event,
    version: 1,
    id: ctx.id,
    site: { id: ctx.siteId, name: ctx.siteName },
    alert: {
      id: typeof alertId === 'number' && Number.isSafeInteger(alertId) ? alertId : null,
      // kinds are code-defined identifiers; anything else is not sent
      kind: KIND.test(e.kind) ? e.kind : 'other',
      severity: e.severity,
      state,
      // call ids are uuids the box made; anything else (a SIP Call-ID could embed a number) is not sent
      callId: e.callId !== null && UUID.test(e.callId) ? e.callId : null,
    },
    at: e.at,
    counts: { open: { ...ctx.counts.open }, acknowledged: { ...ctx.counts.acknowledged } },
  };
}

const SEVERITY_RANK: Readonly<Record<AlertSeverity, number>> = { info: 0, warning: 1, critical: 2 };

/** Whether `severity` is at least `min`. */
export function atLeast(severity: AlertSeverity, min: AlertSeverity): boolean {
  return SEVERITY_RANK[severity] >= SEVERITY_RANK[min];
}

/** The e-mail of a payload: a subject and plain text, from the payload's fields only. */
export function alertEmail(p: AlertPushPayload): { subject: string; text: string } {
  const what = p.event === 'alert.raised' ? 'new' : p.alert.state;
  const subject = `[EdgeVox ${p.site.name}] ${p.alert.severity} alert ${p.alert.kind} (${what})`;
  const count = (c: Counts) => `critical ${c.critical}, warning ${c.warning}, info ${c.info}`;
  const text = [
    `Site: ${p.site.name} (${p.site.id})`,
    `Alert: ${p.alert.id ?? 'not stored'}`,
    `Kind: ${p.alert.kind}`,
    `Severity: ${p.alert.severity}`,
    `State: ${p.alert.state}`,
    `Event: ${p.event}`,
    `At: ${new Date(p.at).toISOString()}`,
    `Call: ${p.alert.callId ?? '-'}`,
    `Open alerts: ${count(p.counts.open)}`,
    `Acknowledged alerts: ${count(p.counts.acknowledged)}`,
    '',
    'Open the console to acknowledge, assign or resolve it. This message carries no caller details by design.',
    '',
  ].join('\n');
  return { subject, text };
}
