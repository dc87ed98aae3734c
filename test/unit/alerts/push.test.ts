/** Alert push pieces: the payload carries nothing personal; the outbox keeps order, retries transient failures only, and stays bounded. */
import { describe, expect, it } from 'vitest';
import { OrderedOutbox, type SendOutcome } from '../../../appliance/alerts/push/orderedQueue.js';
import { alertEmail, alertPushPayload, atLeast } from '../../../appliance/alerts/push/payload.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { plantedIn } from '../../helpers/planted.js';

const counts = { open: { info: 0, warning: 1, critical: 2 }, acknowledged: { info: 0, warning: 0, critical: 1 } };
const ctx = { id: 'delivery-1', siteId: 'branch-7', siteName: 'Branch Seven', counts };
const PHONE = '+15550199';
const WORDS = 'my card number is four four five six';

describe('alertPushPayload', () => {
  it('sends kind, severity, state, ids, counts, site and time, and nothing from the context', () => {
    const raised: ApplianceEvent = {
      type: 'alert',
      at: 1_700_000_000_000,
      callId: '8c0f5a8e-6a8b-4c86-9d58-1e9b7d0e3f11',
      kind: 'caller_angry',
      severity: 'critical',
      message: `caller said "${WORDS}" from ${PHONE}`,
      details: { alertId: 12, callerNumber: PHONE, transcript: WORDS, script: { steps: [WORDS] }, name: 'Ada Lovelace' },
    };
    const p = alertPushPayload(raised, ctx)!;
    expect(p).toEqual({
      event: 'alert.raised',
      version: 1,
      id: 'delivery-1',
      site: { id: 'branch-7', name: 'Branch Seven' },
      alert: { id: 12, kind: 'caller_angry', severity: 'critical', state: 'open', callId: '8c0f5a8e-6a8b-4c86-9d58-1e9b7d0e3f11' },
      at: 1_700_000_000_000,
      counts,
    });
    const mail = alertEmail(p);
    expect(plantedIn(JSON.stringify(p) + mail.subject + mail.text, [PHONE, '15550199', WORDS, 'four four', 'Ada', 'Lovelace'])).toEqual([]);
    expect(mail.text).toContain('Severity: critical');
    expect(mail.text).toContain('Open alerts: critical 2, warning 1, info 0');
  });

  it('drops a call id that is not the box’s uuid (a SIP Call-ID can embed a number) and odd kinds', () => {
    const p = alertPushPayload(
      { type: 'alert', at: 1, callId: `${PHONE}@pbx.example`, kind: 'Caller Said Hi', severity: 'warning', message: '', details: {} },
      ctx,
    )!;
    expect(p.alert).toEqual({ id: null, kind: 'other', severity: 'warning', state: 'open', callId: null });
  });

  it('names lifecycle changes without who made them', () => {
    const p = alertPushPayload(
      {
        type: 'alert.updated',
        at: 2,
        alertId: 3,
        callId: null,
        kind: 'queue_wait',
        severity: 'warning',
        action: 'assign',
        state: 'acknowledged',
        assignedTo: 'supervisor-jane',
        by: 'supervisor-joe',
      },
      ctx,
    )!;
    expect(p.event).toBe('alert.assigned');
    expect(p.alert.state).toBe('acknowledged');
    expect(JSON.stringify(p)).not.toMatch(/jane|joe/);
    expect(alertPushPayload({ type: 'call.answered', at: 1, callId: 'x' }, ctx)).toBeNull();
  });

  it('orders severities', () => {
    expect(atLeast('critical', 'warning')).toBe(true);
    expect(atLeast('warning', 'warning')).toBe(true);
    expect(atLeast('info', 'warning')).toBe(false);
  });
});

/** A sender scripted per item: the outcomes of its attempts, in order; records every attempt. */
function scripted(plan: Record<string, SendOutcome['kind'][]>) {
  const attempts: string[] = [];
  let release: (() => void) | null = null;
  const gate = { hold: false };
  const send = async (item: string): Promise<SendOutcome> => {
    attempts.push(item);
    if (gate.hold) await new Promise<void>((r) => (release = r));
    const kind = plan[item]?.shift() ?? 'delivered';
    return kind === 'delivered' ? { kind } : { kind, reason: 'scripted' };
  };
  return { attempts, send, gate, release: () => release?.() };
}

const box = (send: (item: string) => Promise<SendOutcome>, maxPending = 100, maxAttempts = 4) =>
  new OrderedOutbox<string>({ send, maxAttempts, maxPending, backoffBaseMs: 1, backoffMaxMs: 2, random: () => 0 });

describe('OrderedOutbox', () => {
  it('retries a transient failure before sending the next item (order kept), and gives up after maxAttempts', async () => {
    const s = scripted({ a: ['retry', 'retry', 'delivered'], b: ['retry', 'retry', 'retry', 'retry'], c: ['delivered'] });
    const o = box(s.send);
    for (const x of ['a', 'b', 'c']) o.push(x);
    await o.idle();
    expect(s.attempts).toEqual(['a', 'a', 'a', 'b', 'b', 'b', 'b', 'c']);
    expect(o.counters()).toEqual({ delivered: 2, rejected: 0, failed: 1, dropped: 0, retries: 5, pending: 0 });
  });

  it('never retries a rejection', async () => {
    const s = scripted({ a: ['rejected'] });
    const o = box(s.send);
    o.push('a');
    o.push('b');
    await o.idle();
    expect(s.attempts).toEqual(['a', 'b']);
    expect(o.counters()).toMatchObject({ delivered: 1, rejected: 1, retries: 0 });
  });

  it('drops the oldest waiting item when full, never the one being sent', async () => {
    const s = scripted({});
    s.gate.hold = true;
    const o = box(s.send, 2);
    o.push('a');
    await Promise.resolve();
    for (const x of ['b', 'c', 'd', 'e']) o.push(x);
    expect(o.counters()).toMatchObject({ dropped: 3, pending: 2 });
    s.gate.hold = false;
    s.release();
    await o.idle();
    expect(s.attempts).toEqual(['a', 'e']);
    expect(o.counters()).toMatchObject({ delivered: 2, dropped: 3, pending: 0 });
  });

  it('drops what is queued on close and refuses more', async () => {
    const s = scripted({ a: ['retry', 'retry'] });
    const o = box(s.send);
    o.push('a');
    o.push('b');
    o.close();
    o.close();
    o.push('c');
    await o.idle();
    expect(o.counters()).toMatchObject({ delivered: 0, dropped: 3, pending: 0 });
  });
});
