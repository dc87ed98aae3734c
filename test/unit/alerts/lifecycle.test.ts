/** The alert lifecycle on a real store: transitions, refusals, assignment, audit entries and events. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertLifecycle, canTransition } from '../../../appliance/alerts/lifecycle.js';
import { AlertsRepo } from '../../../appliance/alerts/repo.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { EventBus, type ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { Store } from '../../../appliance/store/database.js';
import { scratchDir } from '../../helpers/paths.js';

describe('canTransition', () => {
  it('allows open → acknowledged → resolved, open → resolved, and assignment until resolved', () => {
    expect(canTransition('open', 'acknowledge')).toBe(true);
    expect(canTransition('acknowledged', 'acknowledge')).toBe(false);
    expect(canTransition('resolved', 'acknowledge')).toBe(false);
    expect(canTransition('open', 'resolve')).toBe(true);
    expect(canTransition('acknowledged', 'resolve')).toBe(true);
    expect(canTransition('resolved', 'resolve')).toBe(false);
    expect(canTransition('open', 'assign')).toBe(true);
    expect(canTransition('acknowledged', 'assign')).toBe(true);
    expect(canTransition('resolved', 'assign')).toBe(false);
  });
});

describe('AlertLifecycle', () => {
  let store: Store;
  let repo: AlertsRepo;
  let lifecycle: AlertLifecycle;
  let events: Extract<ApplianceEvent, { type: 'alert.updated' }>[];
  let now: number;

  beforeEach(() => {
    store = Store.open(scratchDir('alert-lifecycle'));
    repo = new AlertsRepo(store.db, store.write.bind(store));
    const bus = new EventBus();
    events = [];
    bus.subscribe((e) => {
      if (e.type === 'alert.updated') events.push(e);
    });
    now = 5_000;
    lifecycle = new AlertLifecycle({ repo, bus, audit: store.audit, userExists: (u) => u === 'sam', now: () => now });
  });
  afterEach(() => store.close());

  const raise = (severity: 'info' | 'warning' | 'critical' = 'critical') =>
    repo.insert({ at: 1000, callId: null, kind: 'queue_wait', severity, message: 'm', details: {} });

  const refusal = (fn: () => unknown): { code: string; details: Record<string, unknown> } => {
    try {
      fn();
    } catch (err) {
      if (isEdgeVoxError(err)) return { code: err.code, details: { ...err.details } };
      throw err;
    }
    throw new Error('not refused');
  };

  it('acknowledges, assigns and resolves, auditing each step with its note and publishing it', () => {
    const id = raise();
    expect(repo.get(id)).toMatchObject({ state: 'open', assignedTo: null, updatedAt: 1000 });
    now = 6000;
    expect(lifecycle.acknowledge(id, { by: 'lee', note: 'on it' })).toMatchObject({
      state: 'acknowledged',
      acknowledgedAt: 6000,
      acknowledgedBy: 'lee',
    });
    now = 7000;
    expect(lifecycle.assign(id, 'sam', { by: 'lee' })).toMatchObject({ state: 'acknowledged', assignedTo: 'sam', updatedAt: 7000 });
    now = 8000;
    expect(lifecycle.resolve(id, { by: 'sam', note: 'caller calmed' })).toMatchObject({
      state: 'resolved',
      resolvedAt: 8000,
      resolvedBy: 'sam',
    });
    const history = store.audit.forTarget(`alert:${id}`);
    expect(history.map((h) => [h.action, h.actor, h.at, h.details])).toEqual([
      ['alert.resolve', 'sam', 8000, { from: 'acknowledged', to: 'resolved', note: 'caller calmed' }],
      ['alert.assign', 'lee', 7000, { from: 'acknowledged', to: 'acknowledged', assignee: 'sam' }],
      ['alert.acknowledge', 'lee', 6000, { from: 'open', to: 'acknowledged', note: 'on it' }],
    ]);
    expect(events.map((e) => [e.action, e.state, e.assignedTo, e.alertId])).toEqual([
      ['acknowledge', 'acknowledged', null, id],
      ['assign', 'acknowledged', 'sam', id],
      ['resolve', 'resolved', 'sam', id],
    ]);
  });

  it('resolves an open alert directly', () => {
    const id = raise();
    expect(lifecycle.resolve(id, { by: 'lee' }).state).toBe('resolved');
  });

  it('refuses invalid transitions with EVX_ERR_ALERT_STATE and the current state, changing and auditing nothing', () => {
    const id = raise();
    lifecycle.acknowledge(id, { by: 'lee' });
    expect(refusal(() => lifecycle.acknowledge(id, { by: 'kim' }))).toEqual({
      code: 'EVX_ERR_ALERT_STATE',
      details: { state: 'acknowledged', action: 'acknowledge' },
    });
    lifecycle.resolve(id, { by: 'lee' });
    expect(refusal(() => lifecycle.resolve(id, { by: 'kim' })).details).toEqual({ state: 'resolved', action: 'resolve' });
    expect(refusal(() => lifecycle.assign(id, 'sam', { by: 'kim' })).code).toBe('EVX_ERR_ALERT_STATE');
    expect(repo.get(id)).toMatchObject({ acknowledgedBy: 'lee', resolvedBy: 'lee', assignedTo: null });
    expect(store.audit.forTarget(`alert:${id}`)).toHaveLength(2);
    expect(events).toHaveLength(2);
  });

  it('refuses unknown alerts and unknown assignees', () => {
    expect(refusal(() => lifecycle.acknowledge(999, { by: 'lee' })).code).toBe('EVX_ERR_NOT_FOUND');
    const id = raise();
    expect(refusal(() => lifecycle.assign(id, 'nobody', { by: 'lee' })).code).toBe('EVX_ERR_BAD_REQUEST');
    expect(lifecycle.assign(id, null, { by: 'lee' }).assignedTo).toBeNull();
  });

  it('filters by state, severity and time, and counts by state and severity', () => {
    const a = raise('critical');
    const b = raise('warning');
    const c = raise('info');
    lifecycle.acknowledge(b, { by: 'lee' });
    lifecycle.resolve(c, { by: 'lee' });
    expect(repo.list({ limit: 10, states: ['open'] }).map((x) => x.id)).toEqual([a]);
    expect(repo.list({ limit: 10, states: ['open', 'acknowledged'] }).map((x) => x.id)).toEqual([b, a]);
    expect(repo.list({ limit: 10, severities: ['warning', 'info'] }).map((x) => x.id)).toEqual([c, b]);
    expect(repo.list({ limit: 10, since: 1000, until: 1001 })).toHaveLength(3);
    expect(repo.list({ limit: 10, since: 1001 })).toHaveLength(0);
    expect(repo.list({ limit: 2 }).map((x) => x.id)).toEqual([c, b]);
    expect(repo.counts()).toEqual({
      open: { info: 0, warning: 0, critical: 1 },
      acknowledged: { info: 0, warning: 1, critical: 0 },
      resolved: { info: 1, warning: 0, critical: 0 },
    });
  });
});
