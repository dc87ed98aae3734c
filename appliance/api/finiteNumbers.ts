/**
 * Non-finite numbers refused on every route. Fastify's validator (Ajv 8) coerces the query strings
 * "1e400", "Infinity" and "-Infinity" to ±Infinity after its type check, and then skips minimum and
 * maximum for a number that is not finite: a `limit` of at most 500 let Infinity through to its
 * handler (a 500 from SQLite on the paged lists, or a silently empty answer for a time bound). This
 * hook runs after validation and before any handler: a non-finite number left in the query, the
 * path parameters or a parsed body is a 400, like any other validation failure. (A JSON body's
 * 1e400 is already refused by the type check, which coercion does not take part in; the body is
 * searched anyway, so the rule does not depend on that.)
 */
import type { FastifyInstance } from 'fastify';
import { evxError } from '../errors.js';

/** How deep a body is searched (deeper parts are left as they are; no schema of ours goes near). */
const MAX_DEPTH = 32;

export function installFiniteNumbers(app: FastifyInstance): void {
  app.addHook('preHandler', async (request) => {
    for (const [part, value] of [
      ['querystring', request.query],
      ['params', request.params],
      ['body', request.body],
    ] as const) {
      const where = nonFinite(value, 0);
      if (where !== null) {
        throw evxError('EVX_ERR_BAD_REQUEST', `${part}${where} must be a finite number`, { details: { validation: part } });
      }
    }
  });
}

/** The path (e.g. `/limit`, `/items/3/score`) of the first non-finite number in `value`, or null. */
function nonFinite(value: unknown, depth: number): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : '';
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH || ArrayBuffer.isView(value)) return null;
  for (const [key, item] of Array.isArray(value) ? value.entries() : Object.entries(value)) {
    const inner = nonFinite(item, depth + 1);
    if (inner !== null) return `/${String(key).slice(0, 64)}${inner}`;
  }
  return null;
}
