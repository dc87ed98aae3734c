/**
 * The one place where errors become HTTP responses. Every error body has the same shape:
 * `{ "error": { "code": "EVX_ERR_...", "message": "...", "details": {...} } }`.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { EdgeVoxError, evxError, type ErrorCode } from '../errors.js';
import type { Logger } from '../log/logger.js';

export const ErrorBodySchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    }),
  },
  { $id: 'ErrorBody' },
);

export function errorBody(code: ErrorCode, message: string, details?: Readonly<Record<string, unknown>>) {
  return { error: details && Object.keys(details).length > 0 ? { code, message, details } : { code, message } };
}

export function installErrorHandling(app: FastifyInstance, logger: Logger): void {
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    void reply.code(404).send(errorBody('EVX_ERR_NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0]}`));
  });
  app.setErrorHandler((err: FastifyError | EdgeVoxError | Error, request, reply) => {
    const mapped = toEdgeVoxError(err);
    if (mapped.httpStatus >= 500) {
      logger.error({ err: { code: mapped.code, message: mapped.message }, route: request.routeOptions.url }, 'request failed');
    }
    const retryAfterS = retryAfterSeconds(mapped.details);
    if (retryAfterS !== null) void reply.header('retry-after', String(retryAfterS));
    void reply.code(mapped.httpStatus).send(errorBody(mapped.code, mapped.message, mapped.details));
  });
}

/**
 * The Retry-After of an error that says when to come back (`retryAfterS`, or `retryAfterMs` rounded
 * up to whole seconds), or null.
 */
function retryAfterSeconds(details: Readonly<Record<string, unknown>> | undefined): number | null {
  const s = details?.['retryAfterS'];
  if (typeof s === 'number' && Number.isFinite(s) && s >= 0) return Math.ceil(s);
  const ms = details?.['retryAfterMs'];
  if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) return Math.ceil(ms / 1000);
  return null;
}

function toEdgeVoxError(err: FastifyError | EdgeVoxError | Error): EdgeVoxError {
  if (err instanceof EdgeVoxError) return err;
  const fe = err as FastifyError;
  if (fe.validation !== undefined || fe.code === 'FST_ERR_VALIDATION') {
    return evxError('EVX_ERR_BAD_REQUEST', err.message, { details: { validation: fe.validationContext ?? 'body' } });
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Fastify's own client errors (bad JSON, body too large, unsupported media type).
    const e = evxError('EVX_ERR_BAD_REQUEST', err.message, { details: { reason: fe.code ?? 'bad request' } });
    Object.defineProperty(e, 'httpStatus', { value: fe.statusCode });
    return e;
  }
  return evxError('EVX_ERR_INTERNAL', 'internal error', { cause: err });
}
