/**
 * E-mail cases API (console): the cases (open first by default), one case with its messages (redacted
 * text as stored), and an agent's reply, sent through the configured relay (conversations/emailReply.ts).
 * Replies are declared schemas: the customer's address never leaves the box over HTTP.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { ConversationRepo } from '../../conversations/conversationRepo.js';
import type { EmailReplies } from '../../conversations/emailReply.js';
import type { EmailThreads } from '../../conversations/emailThreads.js';
import type { Conversation, ConversationMessage } from '../../conversations/types.js';

const CaseView = Type.Object(
  {
    id: Type.String(),
    mailbox: Type.String({ description: "The box's own address the customer wrote to" }),
    state: Type.Union([Type.Literal('waiting'), Type.Literal('assigned'), Type.Literal('closed')]),
    subject: Type.Union([Type.String(), Type.Null()], { description: 'Redacted' }),
    groupId: Type.Union([Type.String(), Type.Null()]),
    intent: Type.Union([Type.String(), Type.Null()]),
    routeReason: Type.Union([Type.String(), Type.Null()]),
    agentId: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.Integer(),
    updatedAt: Type.Integer(),
  },
  { additionalProperties: false },
);
const MessageView = Type.Object(
  {
    seq: Type.Integer(),
    sender: Type.Union([Type.Literal('visitor'), Type.Literal('agent'), Type.Literal('system')]),
    agentId: Type.Union([Type.String(), Type.Null()]),
    text: Type.String({ description: 'Redacted before it was stored' }),
    redactions: Type.Integer(),
    at: Type.Integer(),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const ListQuery = Type.Object({
  all: Type.Optional(Type.Boolean({ description: 'Closed cases too' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
});
const ReplyBody = Type.Object({ text: Type.String({ minLength: 1, maxLength: 100_000 }) }, { additionalProperties: false });

export interface EmailRoutesDeps {
  readonly repo: ConversationRepo;
  readonly threads: EmailThreads;
  readonly replies: EmailReplies;
}

function caseView(c: Conversation, mailbox: string): Static<typeof CaseView> {
  return {
    id: c.id,
    mailbox,
    state: c.state,
    subject: c.subject,
    groupId: c.groupId,
    intent: c.intent,
    routeReason: c.routeReason,
    agentId: c.agentId,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

function messageView(m: ConversationMessage): Static<typeof MessageView> {
  return { seq: m.seq, sender: m.sender, agentId: m.agentId, text: m.text, redactions: m.redactions, at: m.at };
}

const userOf = (request: FastifyRequest): string => request.principal?.username ?? 'unknown';

export function registerEmailRoutes(app: FastifyInstance, deps: EmailRoutesDeps): void {
  const tags = ['email'];
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/api/v1/email/cases',
    {
      schema: {
        tags,
        summary: 'E-mail cases, newest activity first (open ones only unless ?all=true)',
        querystring: ListQuery,
        response: { 200: Type.Object({ cases: Type.Array(CaseView) }, { additionalProperties: false }) },
      },
      config: { minRole: 'supervisor' },
    },
    async (request) => ({
      cases: deps.threads.cases({ open: request.query.all !== true, limit: request.query.limit ?? 100 }).flatMap((r) => {
        const c = deps.repo.get(r.conversationId);
        return c === undefined ? [] : [caseView(c, r.mailbox)];
      }),
    }),
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/v1/email/cases/:id',
    {
      schema: {
        tags,
        summary: 'One e-mail case with its messages (redacted), oldest first',
        params: IdParams,
        response: { 200: Type.Object({ case: CaseView, messages: Type.Array(MessageView) }, { additionalProperties: false }) },
      },
      config: { minRole: 'supervisor' },
    },
    async (request) => {
      const c = deps.replies.caseOf(request.params.id);
      const mailbox = deps.threads.replyTarget(c.id)?.mailbox ?? '';
      return { case: caseView(c, mailbox), messages: deps.repo.messagesAfter(c.id, 0, 500).map(messageView) };
    },
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof ReplyBody> }>(
    '/api/v1/email/cases/:id/reply',
    {
      schema: {
        tags,
        summary: 'Reply to the customer through the relay (takes a waiting case); stored only once the relay took it',
        params: IdParams,
        body: ReplyBody,
        response: { 200: MessageView },
      },
      config: { minRole: 'supervisor' },
    },
    async (request) => messageView(await deps.replies.reply(request.params.id, userOf(request), request.body.text)),
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/api/v1/email/cases/:id/close',
    {
      schema: {
        tags,
        summary: 'Close the case (closed cases and their sealed reply address expire with privacy.retention.emailCasesHours)',
        params: IdParams,
        response: { 200: CaseView },
      },
      config: { minRole: 'supervisor' },
    },
    async (request) => {
      const c = deps.replies.closeCase(request.params.id, userOf(request));
      return caseView(c, deps.threads.replyTarget(c.id)?.mailbox ?? '');
    },
  );
}
