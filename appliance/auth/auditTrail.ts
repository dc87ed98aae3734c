/**
 * The audit trail of the HTTP API: every state-changing request that an authenticated principal
 * made and that succeeded is written to the audit log — who (user or `token:<name>`, and whether by
 * session or token), what (method and the matched route, its path parameters), when, and from where
 * (the client address). It hangs on the root instance, so routes added later by anyone are covered
 * without knowing about it. Bodies are never recorded: they can hold passwords and phone numbers.
 * Public routes (sign-in, first-boot setup, web callers) audit themselves where it matters.
 */
import type { FastifyInstance } from 'fastify';
import type { AuditRepo } from '../store/repos/audit.js';
import { isStateChanging } from './guard.js';

/** The audit action of an API change; the target is `<METHOD> <route pattern>`. */
export const API_CHANGE_ACTION = 'api.change';

export function installAuditTrail(app: FastifyInstance, audit: AuditRepo): void {
  app.addHook('onResponse', (request, reply, done) => {
    const principal = request.principal;
    const route = request.routeOptions.url;
    if (principal === null || route === undefined || !isStateChanging(request.method) || reply.statusCode >= 400) return done();
    try {
      audit.record(principal.username, API_CHANGE_ACTION, `${request.method} ${route}`, {
        via: principal.kind,
        role: principal.role,
        params: request.params ?? {},
        status: reply.statusCode,
        from: request.ip,
      });
    } catch {
      // A failed audit write is already counted by the store (write errors); the answer is sent.
    }
    done();
  });
}
