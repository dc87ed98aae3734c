/**
 * Cluster API: the boxes behind this site's Kamailio front and their state there (docs/cluster.md),
 * for the console's cluster view. Configured by `cluster.frontRpcUrl`; without it the box stands alone.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { readFrontBoxes } from '../../cluster/frontState.js';

const BoxView = Type.Object(
  {
    set: Type.Integer({ description: 'Partition (dispatcher set)' }),
    name: Type.String(),
    uri: Type.String({ description: 'SIP address of the box at the front' }),
    state: Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('disabled')], {
      description: 'up: gets new calls; down: failed OPTIONS probes or calls (draining, full, stopped); disabled: taken out by hand',
    }),
    probing: Type.Boolean(),
    priority: Type.Integer({ description: 'The home box of a partition has the highest' }),
  },
  { additionalProperties: false },
);
const ClusterReply = Type.Object(
  {
    at: Type.Integer(),
    front: Type.Union([Type.Literal('none'), Type.Literal('ok'), Type.Literal('unreachable')], {
      description: 'none: no front configured (cluster.frontRpcUrl); unreachable: the front did not answer',
    }),
    boxes: Type.Array(BoxView),
  },
  { additionalProperties: false },
);

export interface ClusterRoutesDeps {
  readonly frontRpcUrl: string;
  readonly now?: () => number;
}

export function registerClusterRoutes(app: FastifyInstance, deps: ClusterRoutesDeps): void {
  const now = deps.now ?? Date.now;
  app.get(
    '/api/v1/cluster',
    {
      schema: {
        summary: "The boxes behind the site's Kamailio front, per partition, and whether the front sends them new calls",
        tags: ['sip'],
        response: { 200: ClusterReply },
      },
      config: { minRole: 'viewer' },
    },
    async (): Promise<Static<typeof ClusterReply>> => {
      if (deps.frontRpcUrl === '') return { at: now(), front: 'none', boxes: [] };
      const boxes = await readFrontBoxes(deps.frontRpcUrl);
      return { at: now(), front: boxes === null ? 'unreachable' : 'ok', boxes: boxes ?? [] };
    },
  );
}
