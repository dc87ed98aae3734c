/**
 * `GET /api/v1/events` (WebSocket): the live appliance event stream, optionally filtered by
 * `types` (comma-separated) and `callId`. Each client has a bounded send buffer: when a slow client
 * falls behind by more than `maxBufferedBytes`, events for it are dropped (counted) and it is told
 * how many it missed once it catches up, so one slow console never slows the media path.
 * A kiosk sign-in (a wall TV) gets the wallboard's figures only (KIOSK_EVENT_TYPES), whatever it asks for.
 * A stream lasts no longer than the session or API token that opened it: once that is gone the next
 * event closes the socket (CREDENTIAL_ENDED) instead of being sent.
 */
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from '@fastify/websocket';
import type { Principal } from '../../auth/authService.js';
import { CREDENTIAL_ENDED } from '../../auth/socketClose.js';
import type { ApplianceEvent, EventBus } from '../../events/appEvents.js';

/** What a kiosk sign-in may receive: the wallboard's aggregates, no call, agent or caller data. */
export const KIOSK_EVENT_TYPES: ReadonlySet<string> = new Set(['acd.kpis']);

export interface EventStreamDeps {
  bus: EventBus;
  /** Ends a stream whose session or API token has ended (signed out, account deleted, token revoked). */
  auth?: { watchPrincipal(principal: Principal): () => boolean };
  maxBufferedBytes?: number;
  onDropped?: (count: number) => void;
}

export function registerEventStream(app: FastifyInstance, deps: EventStreamDeps): void {
  const maxBuffered = deps.maxBufferedBytes ?? 1024 * 1024;
  app.get<{ Querystring: { types?: string; callId?: string } }>(
    '/api/v1/events',
    {
      websocket: true,
      schema: { summary: 'WebSocket stream of typed appliance events (call.*, asr.*, dtmf, alert, ...); a kiosk gets acd.kpis only' },
      config: { minRole: 'kiosk' },
    },
    (socket: WebSocket, request) => {
      const asked = request.query.types ? new Set(request.query.types.split(',').map((t) => t.trim())) : null;
      const types =
        request.principal?.role === 'kiosk' ? new Set([...KIOSK_EVENT_TYPES].filter((t) => asked === null || asked.has(t))) : asked;
      const callId = request.query.callId ?? null;
      const principal = request.principal;
      const stillValid = principal !== null && deps.auth !== undefined ? deps.auth.watchPrincipal(principal) : () => principal !== null;
      let dropped = 0;
      const unsubscribe = deps.bus.subscribe((event: ApplianceEvent) => {
        if (!stillValid()) {
          unsubscribe();
          socket.close(CREDENTIAL_ENDED, 'credential ended');
          return;
        }
        if (types !== null && !types.has(event.type)) return;
        if (callId !== null && ('callId' in event ? event.callId : null) !== callId) return;
        if (socket.readyState !== socket.OPEN) return;
        if (socket.bufferedAmount > maxBuffered) {
          dropped++;
          deps.onDropped?.(1);
          return;
        }
        if (dropped > 0) {
          socket.send(JSON.stringify({ type: 'events.dropped', at: Date.now(), count: dropped }));
          dropped = 0;
        }
        socket.send(JSON.stringify(event));
      });
      socket.on('message', () => {
        // The stream is one-way; anything a client sends is ignored rather than parsed.
      });
      socket.on('close', unsubscribe);
      socket.on('error', unsubscribe);
      socket.send(JSON.stringify({ type: 'events.hello', at: Date.now(), filters: { types: types ? [...types] : null, callId } }));
    },
  );
}
