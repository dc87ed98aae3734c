/**
 * Sync API: `GET /api/v1/sync/audit` — the local audit log of exactly what left the box (every
 * attempt, with the exact body, its sha256 and the outcome) — and `GET /api/v1/sync/status`.
 * The audit log exists (and is empty) when sync is disabled, so "nothing left" is visible too.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { SyncService } from '../../sync/syncService.js';

const AuditQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    before: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Only entries with a smaller id (use nextBefore of the previous page)' }),
    ),
  },
  { additionalProperties: false },
);

export function registerSyncRoutes(app: FastifyInstance, deps: { sync: SyncService | null }): void {
  app.get<{ Querystring: Static<typeof AuditQuery> }>(
    '/api/v1/sync/audit',
    {
      schema: {
        summary: 'What left the box: every upload attempt with its exact body, sha256 and outcome (newest first)',
        querystring: AuditQuery,
      },
    },
    async (request) => {
      const entries = deps.sync?.outbox.audit(request.query.limit, request.query.before) ?? [];
      const last = entries[entries.length - 1];
      return { enabled: deps.sync !== null, entries, nextBefore: entries.length === request.query.limit && last ? last.id : null };
    },
  );
  app.get(
    '/api/v1/sync/status',
    { schema: { summary: 'Upstream sync state: outbox size, last window, counters, last error' } },
    async () => (deps.sync === null ? { enabled: false } : { enabled: true, ...deps.sync.status() }),
  );
}
