/**
 * SIP trunks API: each configured trunk's reachability (OPTIONS keep-alive) and registration state.
 * Hosts and transports are configuration a viewer may see; registration credentials never leave
 * the box (the response schema has no place for them).
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { TrunkStatus } from '../../telephony/trunkTypes.js';

const TrunkView = Type.Object(
  {
    name: Type.String(),
    transport: Type.Union([Type.Literal('udp'), Type.Literal('tcp'), Type.Literal('tls')]),
    host: Type.String(),
    port: Type.Integer(),
    keepaliveSec: Type.Integer({ description: 'OPTIONS interval (0 = no keep-alive: state stays unknown)' }),
    state: Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('unknown')]),
    since: Type.Integer({ description: 'When the state last changed (unix ms)' }),
    reason: Type.String(),
    rttMs: Type.Union([Type.Integer(), Type.Null()], { description: 'Round trip of the last answered OPTIONS' }),
    registration: Type.Union([
      Type.Object(
        {
          state: Type.Union([Type.Literal('registered'), Type.Literal('failed'), Type.Literal('unregistered')]),
          since: Type.Integer(),
          expiresSec: Type.Integer({ description: 'Expiry the registrar granted (0 unless registered)' }),
          reason: Type.String(),
        },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
  },
  { additionalProperties: false },
);
const TrunksReply = Type.Object({ at: Type.Integer(), trunks: Type.Array(TrunkView) }, { additionalProperties: false });

export interface TrunkRoutesDeps {
  /** The supervisor, or null when SIP is off (no trunks then). */
  readonly trunks: { status(): readonly TrunkStatus[] } | null;
  readonly now?: () => number;
}

/** Only the fields of the view, whatever the status object carries. */
function view(t: TrunkStatus): Static<typeof TrunkView> {
  const r = t.registration;
  return {
    name: t.name,
    transport: t.transport,
    host: t.host,
    port: t.port,
    keepaliveSec: t.keepaliveSec,
    state: t.state,
    since: t.since,
    reason: t.reason,
    rttMs: t.rttMs,
    registration: r === null ? null : { state: r.state, since: r.since, expiresSec: r.expiresSec, reason: r.reason },
  };
}

export function registerTrunkRoutes(app: FastifyInstance, deps: TrunkRoutesDeps): void {
  const now = deps.now ?? Date.now;
  app.get(
    '/api/v1/sip/trunks',
    {
      schema: {
        summary: 'Configured SIP trunks: up/down by OPTIONS keep-alive, last round trip, registration state (no credentials)',
        tags: ['sip'],
        response: { 200: TrunksReply },
      },
      config: { minRole: 'viewer' },
    },
    async (): Promise<Static<typeof TrunksReply>> => ({ at: now(), trunks: (deps.trunks?.status() ?? []).map(view) }),
  );
}
