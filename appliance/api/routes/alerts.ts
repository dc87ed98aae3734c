/**
 * Supervisor alerts: list (newest first, filtered by state, severity, kind, call and time), one alert
 * with its audited history, counts by state and severity, and the lifecycle writes (acknowledge,
 * assign, resolve) for supervisors. The acting user is the signed-in principal, never a body field.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { evxError } from '../../errors.js';
import type { AlertsRepo, AlertSeverity, AlertState } from '../../alerts/repo.js';
import type { AlertLifecycle } from '../../alerts/lifecycle.js';

/** Most alerts one page returns. */
export const ALERTS_MAX_PAGE = 500;
const STATE = '(open|acknowledged|resolved)';
const SEVERITY = '(info|warning|critical)';

const ListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: ALERTS_MAX_PAGE, default: 50 }),
    state: Type.Optional(
      Type.String({ pattern: `^${STATE}(,${STATE}){0,2}$`, description: 'Comma-separated states (open, acknowledged, resolved)' }),
    ),
    severity: Type.Optional(
      Type.String({ pattern: `^${SEVERITY}(,${SEVERITY}){0,2}$`, description: 'Comma-separated severities (info, warning, critical)' }),
    ),
    kind: Type.Optional(Type.String({ pattern: '^[a-z_]{1,64}$' })),
    callId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    since: Type.Optional(Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000, description: 'Raised at or after (unix ms)' })),
    until: Type.Optional(Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000, description: 'Raised before (unix ms)' })),
    before: Type.Optional(Type.Integer({ minimum: 1, description: 'Page on: alerts with a smaller id (nextBefore of the last page)' })),
    unacknowledged: Type.Optional(Type.Boolean({ description: 'Open alerts only (same as state=open)' })),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });
const Note = Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'Why (kept in the audit log, never pushed)' }));
const NoteBody = Type.Object({ note: Note }, { additionalProperties: false });
const AssignBody = Type.Object(
  {
    assignee: Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()], {
      description: 'A console username; null unassigns',
    }),
    note: Note,
  },
  { additionalProperties: false },
);

function actor(request: FastifyRequest): string {
  return request.principal?.username ?? 'unknown';
}

export function registerAlertRoutes(
  app: FastifyInstance,
  deps: {
    repo: AlertsRepo;
    lifecycle: AlertLifecycle;
    history: (id: number) => unknown[];
    /** Console users an alert may be assigned to (usernames and roles only). */
    assignees: () => { username: string; role: string }[];
  },
): void {
  const tags = ['alerts'];
  const read = { minRole: 'viewer' as const };
  const write = { minRole: 'supervisor' as const };
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/api/v1/alerts',
    {
      config: read,
      schema: { tags, summary: 'Alerts (angry/escalating callers, queue waits, intent spikes), newest first', querystring: ListQuery },
    },
    async (request) => {
      const q = request.query;
      if (q.since !== undefined && q.until !== undefined && q.since >= q.until)
        throw evxError('EVX_ERR_BAD_REQUEST', 'since must be before until', { details: { field: 'since' } });
      const alerts = deps.repo.list({
        limit: q.limit,
        kind: q.kind,
        callId: q.callId,
        beforeId: q.before,
        unacknowledged: q.unacknowledged,
        states: q.state === undefined ? undefined : ([...new Set(q.state.split(','))] as AlertState[]),
        severities: q.severity === undefined ? undefined : ([...new Set(q.severity.split(','))] as AlertSeverity[]),
        since: q.since,
        until: q.until,
      });
      const last = alerts[alerts.length - 1];
      return { alerts, nextBefore: alerts.length === q.limit && last ? last.id : null };
    },
  );
  app.get('/api/v1/alerts/counts', { config: read, schema: { tags, summary: 'Alerts by state and severity' } }, async () => ({
    counts: deps.repo.counts(),
  }));
  app.get(
    '/api/v1/alerts/assignees',
    { config: write, schema: { tags, summary: 'Console users an alert may be assigned to' } },
    async () => ({ assignees: deps.assignees() }),
  );
  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/v1/alerts/:id',
    {
      config: read,
      schema: { tags, summary: 'One alert with its history (acknowledged, assigned, resolved: who, when, note)', params: IdParams },
    },
    async (request) => {
      const alert = deps.repo.get(request.params.id);
      if (alert === undefined) throw evxError('EVX_ERR_NOT_FOUND', 'no such alert', { details: { resource: 'alert' } });
      return { ...alert, history: deps.history(alert.id) };
    },
  );
  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof NoteBody> }>(
    '/api/v1/alerts/:id/ack',
    { config: write, schema: { tags, summary: 'Acknowledge an open alert', params: IdParams, body: NoteBody } },
    async (request) => deps.lifecycle.acknowledge(request.params.id, { by: actor(request), note: request.body?.note }),
  );
  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof NoteBody> }>(
    '/api/v1/alerts/:id/resolve',
    { config: write, schema: { tags, summary: 'Resolve an open or acknowledged alert', params: IdParams, body: NoteBody } },
    async (request) => deps.lifecycle.resolve(request.params.id, { by: actor(request), note: request.body?.note }),
  );
  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof AssignBody> }>(
    '/api/v1/alerts/:id/assign',
    {
      config: write,
      schema: {
        tags,
        summary: 'Assign an alert that is not resolved to a console user (null unassigns)',
        params: IdParams,
        body: AssignBody,
      },
    },
    async (request) => deps.lifecycle.assign(request.params.id, request.body.assignee, { by: actor(request), note: request.body.note }),
  );
}
