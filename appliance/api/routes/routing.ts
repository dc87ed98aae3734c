/**
 * Routing API: configure skill groups, agents (with their SIP URIs and live states), rules and
 * de-escalation scripts; read queues and decisions (with their explanations).
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { evxError } from '../../errors.js';
import type { RoutingRepo } from '../../routing/repo.js';
import type { RoutingService } from '../../routing/routingService.js';
import {
  AgentInputSchema,
  AgentStateSchema,
  RoutingConfigSchema,
  RulesPatchSchema,
  ScriptSchema,
  SkillGroupSchema,
  type AgentInput,
  type RoutingConfigInput,
  type Script,
  type SkillGroupInput,
} from '../../routing/schemas.js';
import type { AgentState, RoutingRules } from '../../routing/types.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
type IdParams = Static<typeof IdParams>;
const DecisionsQuery = Type.Object(
  {
    callId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    before: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Only decisions with a smaller id (use nextBefore of the previous page)' }),
    ),
  },
  { additionalProperties: false },
);

const notFound = (what: string) => evxError('EVX_ERR_NOT_FOUND', `no such ${what}`, { details: { resource: what } });
const sameId = (path: string, body: string) => {
  if (path !== body)
    throw evxError('EVX_ERR_BAD_REQUEST', 'the id in the body differs from the id in the path', { details: { field: 'id' } });
};

export function registerRoutingRoutes(app: FastifyInstance, deps: { service: RoutingService; repo: RoutingRepo }): void {
  const { service } = deps;
  const tags = ['routing'];

  app.get(
    '/api/v1/routing/config',
    { schema: { tags, summary: 'The whole routing configuration: groups, agents with states, rules, scripts' } },
    async () => ({
      groups: service.groupList(),
      agents: service.agentList(),
      rules: service.rules(),
      scripts: service.scripts(),
    }),
  );
  app.put<{ Body: RoutingConfigInput }>(
    '/api/v1/routing/config',
    { schema: { tags, summary: 'Replace groups and agents (and rules and scripts when given) in one step', body: RoutingConfigSchema } },
    async (request) => {
      service.configure(request.body);
      return { groups: service.groupList(), agents: service.agentList(), rules: service.rules(), scripts: service.scripts() };
    },
  );

  app.get('/api/v1/routing/groups', { schema: { tags, summary: 'Skill groups' } }, async () => ({ groups: service.groupList() }));
  app.put<{ Params: IdParams; Body: SkillGroupInput }>(
    '/api/v1/routing/groups/:id',
    { schema: { tags, summary: 'Create or replace a skill group', params: IdParams, body: SkillGroupSchema } },
    async (request) => {
      sameId(request.params.id, request.body.id);
      return service.putGroup(request.body);
    },
  );
  app.delete<{ Params: IdParams }>(
    '/api/v1/routing/groups/:id',
    { schema: { tags, summary: 'Delete a skill group', params: IdParams } },
    async (request, reply) => {
      if (!service.deleteGroup(request.params.id)) throw notFound('group');
      return reply.code(204).send();
    },
  );

  app.get('/api/v1/routing/agents', { schema: { tags, summary: 'Agents with skills, levels, SIP URIs and states' } }, async () => ({
    agents: service.agentList(),
  }));
  app.put<{ Params: IdParams; Body: AgentInput }>(
    '/api/v1/routing/agents/:id',
    { schema: { tags, summary: 'Create or replace an agent', params: IdParams, body: AgentInputSchema } },
    async (request) => {
      sameId(request.params.id, request.body.id);
      return service.putAgent(request.body);
    },
  );
  app.put<{ Params: IdParams; Body: { state: AgentState } }>(
    '/api/v1/routing/agents/:id/state',
    {
      schema: {
        tags,
        summary: 'Set an agent state (available / busy / wrap-up / offline); available takes the best queued call',
        params: IdParams,
        body: AgentStateSchema,
      },
    },
    async (request) => service.setAgentState(request.params.id, request.body.state),
  );
  app.delete<{ Params: IdParams }>(
    '/api/v1/routing/agents/:id',
    { schema: { tags, summary: 'Delete an agent', params: IdParams } },
    async (request, reply) => {
      if (!service.deleteAgent(request.params.id)) throw notFound('agent');
      return reply.code(204).send();
    },
  );

  app.get('/api/v1/routing/rules', { schema: { tags, summary: 'Routing rules (priority weights, thresholds, default group)' } }, async () =>
    service.rules(),
  );
  app.put<{ Body: Partial<RoutingRules> }>(
    '/api/v1/routing/rules',
    { schema: { tags, summary: 'Change some routing rules', body: RulesPatchSchema } },
    async (request) => service.setRules(request.body),
  );

  app.get('/api/v1/routing/scripts', { schema: { tags, summary: 'De-escalation scripts suggested with caller alerts' } }, async () => ({
    scripts: service.scripts(),
  }));
  app.put<{ Params: IdParams; Body: Script }>(
    '/api/v1/routing/scripts/:id',
    { schema: { tags, summary: 'Create or replace a de-escalation script', params: IdParams, body: ScriptSchema } },
    async (request) => {
      sameId(request.params.id, request.body.id);
      return service.putScript(request.body);
    },
  );
  app.delete<{ Params: IdParams }>(
    '/api/v1/routing/scripts/:id',
    { schema: { tags, summary: 'Delete a script', params: IdParams } },
    async (request, reply) => {
      if (!service.deleteScript(request.params.id)) throw notFound('script');
      return reply.code(204).send();
    },
  );

  app.get('/api/v1/routing/queues', { schema: { tags, summary: 'Calls waiting per group, highest priority first' } }, async () => ({
    queues: service.queueState(),
  }));

  app.get<{ Querystring: Static<typeof DecisionsQuery> }>(
    '/api/v1/routing/decisions',
    { schema: { tags, summary: 'Routing decisions with their explanations, newest first', querystring: DecisionsQuery } },
    async (request) => {
      const { callId, limit, before } = request.query;
      const decisions = deps.repo.decisions({ callId, limit, beforeId: before });
      const last = decisions[decisions.length - 1];
      return { decisions, nextBefore: decisions.length === limit && last ? last.id : null };
    },
  );
}
