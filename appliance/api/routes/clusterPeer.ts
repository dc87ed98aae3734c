/**
 * The box-to-box route of the callback hand-over (cluster/callbackHandover.ts, docs/cluster.md):
 * POST /api/v1/cluster/peer from the partner box only. Public to the console's access guard because
 * it checks its own caller: the shared `cluster.peerToken` as a Bearer token, compared in constant
 * time; while no token of at least 24 characters is configured it denies everything. Bodies are
 * bounded (16 KiB). The number of a `hold` is sealed with this box's key on arrival and never
 * logged nor echoed.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { evxError } from '../../errors.js';
import type { SecretBox } from '../../privacy/secrets.js';
import type { HeldCallbacks } from '../../cluster/heldCallbacks.js';
import { PEER_ROUTE } from '../../cluster/callbackHandover.js';

export const PEER_TOKEN_MIN = 24;
export const PEER_BODY_LIMIT = 16 * 1024;

const Name = Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' });
const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9-]+$' });
const Ms = Type.Integer({ minimum: 0 });
const PeerBody = Type.Union([
  Type.Object(
    {
      op: Type.Literal('hold'),
      home: Name,
      id: Id,
      groupId: Type.String({ minLength: 1, maxLength: 128 }),
      number: Type.String({ minLength: 1, maxLength: 512 }),
      requestedAt: Ms,
      queuedAt: Ms,
    },
    { additionalProperties: false },
  ),
  Type.Object({ op: Type.Literal('close'), home: Name, id: Id }, { additionalProperties: false }),
  Type.Object({ op: Type.Literal('reconcile'), home: Name }, { additionalProperties: false }),
  Type.Object({ op: Type.Literal('alive') }, { additionalProperties: false }),
]);
const PeerReply = Type.Object(
  {
    ok: Type.Boolean(),
    box: Type.Optional(Type.String()),
    adopted: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);

export interface ClusterPeerDeps {
  readonly token: string;
  readonly boxName: string;
  readonly held: HeldCallbacks;
  readonly box: Pick<SecretBox, 'seal'>;
  readonly now: () => number;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time check of `Bearer <token>` against the configured token; false while none (or a short one) is configured. */
export function peerTokenMatches(header: string | undefined, token: string): boolean {
  if (token.length < PEER_TOKEN_MIN || header === undefined) return false;
  const m = /^Bearer (\S+)$/.exec(header);
  return m !== null && timingSafeEqual(digest(m[1]!), digest(token));
}

export function registerClusterPeerRoutes(app: FastifyInstance, deps: ClusterPeerDeps): void {
  app.post(
    PEER_ROUTE,
    {
      bodyLimit: PEER_BODY_LIMIT,
      schema: {
        summary: "The partner box's callback hand-over: hold, close, reconcile, alive (box-to-box token, not for consoles)",
        tags: ['sip'],
        body: PeerBody,
        response: { 200: PeerReply },
      },
      config: { public: true },
      // the token before the body is even read
      onRequest: async (request) => {
        if (!peerTokenMatches(request.headers.authorization, deps.token))
          throw evxError('EVX_ERR_AUTH_FAILED', 'the peer token is missing or wrong');
      },
    },
    async (request): Promise<Static<typeof PeerReply>> => {
      const body = request.body as Static<typeof PeerBody>;
      const at = deps.now();
      switch (body.op) {
        case 'alive':
          return { ok: true, box: deps.boxName };
        case 'hold':
          deps.held.hold(
            body.home,
            {
              id: body.id,
              groupId: body.groupId,
              numberSealed: deps.box.seal(`callback:${body.id}`, body.number),
              requestedAt: body.requestedAt,
              queuedAt: body.queuedAt,
            },
            at,
          );
          return { ok: true };
        case 'close':
          deps.held.close(body.home, body.id, at);
          return { ok: true };
        case 'reconcile':
          return { ok: true, adopted: deps.held.reconcile(body.home, at) };
      }
    },
  );
}
