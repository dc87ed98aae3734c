/**
 * Supervision API (supervisors and technicians): ring a supervisor's registered phone into an ACD
 * call bridged to a SIP agent to listen in, whisper to the agent or barge in (acd/supervision.ts),
 * change the mode, stop. Ids and figures only; every change lands in the audit trail.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { evxError } from '../../errors.js';
import type { SupervisionMode, SupervisionView } from '../../acd/supervision.js';
import { SUPERVISION_MODES } from '../../rtp/conference.js';

const Mode = Type.Union(
  SUPERVISION_MODES.map((m) => Type.Literal(m)),
  {
    description:
      'listen: the supervisor hears caller and agent, nobody hears the supervisor; whisper: only the agent hears the supervisor; barge: all three hear each other',
  },
);

const Delay = Type.Object(
  { samples: Type.Integer(), p50Ms: Type.Number(), p95Ms: Type.Number(), maxMs: Type.Number() },
  { additionalProperties: false, description: "Added by the mixer: a frame's arrival in the socket handler to its mixed send" },
);

const View = Type.Object(
  {
    callId: Type.String(),
    supervisorId: Type.String(),
    mode: Mode,
    state: Type.Union([Type.Literal('ringing'), Type.Literal('active')], {
      description: "ringing: the supervisor's phones ring; active: the three legs are mixed",
    }),
    startedAt: Type.Integer({ description: 'Unix ms' }),
    answeredAt: Type.Union([Type.Integer(), Type.Null()], { description: "Unix ms the supervisor's phone answered; null while ringing" }),
    mixer: Type.Union(
      [
        Type.Object(
          {
            frames: Type.Integer({ description: '20 ms frames mixed' }),
            missingFrames: Type.Integer({ description: "Parties' frames not there at their tick (late or lost): silence in their place" }),
            droppedSamples: Type.Integer({ description: "Samples dropped from a party's full buffer (bounded delay)" }),
            trimmedSamples: Type.Integer({
              description: "Samples skipped to bring a party's standing buffer level (queued jitter) back down",
            }),
            delay: Delay,
          },
          { additionalProperties: false },
        ),
        Type.Null(),
      ],
      { description: 'Figures of the mixer while active; null while ringing' },
    ),
  },
  { additionalProperties: false },
);

const Params = Type.Object({ callId: Type.String({ minLength: 1, maxLength: 128 }) });
const StartBody = Type.Object({ supervisorId: Type.String({ minLength: 1, maxLength: 64 }), mode: Mode }, { additionalProperties: false });
const ModeBody = Type.Object({ mode: Mode }, { additionalProperties: false });

export interface SupervisionRoutesDeps {
  readonly supervisions: {
    start(callId: string, supervisorId: string, mode: SupervisionMode): SupervisionView;
    setMode(callId: string, mode: SupervisionMode): SupervisionView;
    stop(callId: string): void;
    get(callId: string): SupervisionView | undefined;
  };
}

export function registerSupervisionRoutes(app: FastifyInstance, deps: SupervisionRoutesDeps): void {
  const tags = ['acd'];
  const url = '/api/v1/acd/calls/:callId/supervision';
  const config = { minRole: 'supervisor' } as const;

  app.post<{ Params: Static<typeof Params>; Body: Static<typeof StartBody> }>(
    url,
    {
      schema: {
        tags,
        summary:
          "Ring the supervisor's registered phone into the call (202, state ringing; the mix starts when it answers). 404: no such call bridged to a SIP agent; 409: already supervised, supervisor busy or without a phone",
        params: Params,
        body: StartBody,
        response: { 202: View },
      },
      config,
    },
    async (request, reply) => {
      const view = deps.supervisions.start(request.params.callId, request.body.supervisorId, request.body.mode);
      return reply.code(202).send(view);
    },
  );

  app.get<{ Params: Static<typeof Params> }>(
    url,
    {
      schema: {
        tags,
        summary: "The call's supervision and the mixer's figures (404 when not supervised)",
        params: Params,
        response: { 200: View },
      },
      config,
    },
    async (request) => {
      const view = deps.supervisions.get(request.params.callId);
      if (view === undefined)
        throw evxError('EVX_ERR_NOT_FOUND', 'the call is not supervised', { details: { callId: request.params.callId } });
      return view;
    },
  );

  app.patch<{ Params: Static<typeof Params>; Body: Static<typeof ModeBody> }>(
    url,
    {
      schema: { tags, summary: 'Change the mode, from the next 20 ms frame', params: Params, body: ModeBody, response: { 200: View } },
      config,
    },
    async (request) => deps.supervisions.setMode(request.params.callId, request.body.mode),
  );

  app.delete<{ Params: Static<typeof Params> }>(
    url,
    {
      schema: { tags, summary: "Stop: the supervisor's leg is hung up, caller and agent go back to the plain relay", params: Params },
      config,
    },
    async (request, reply) => {
      deps.supervisions.stop(request.params.callId);
      return reply.code(204).send();
    },
  );
}
