/**
 * The chat socket's JSON protocol (chatSocket.ts), one message per text frame. A socket is either a
 * visitor's (first message `start` or `resume`) or an agent's (first message `agent` with the
 * softphone's agent token). Visitors' messages carry a client id (`clientId`): a resend after a
 * drop is acknowledged with the seq it already has, never stored twice. A reconnecting page sends
 * `resume` with the last seq it saw and gets every later message, in order.
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { evxError } from '../errors.js';

const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' });
const Seq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
// Text is bounded again by chat.maxMessageChars in the service; this only stops absurd frames early.
const Text = Type.String({ maxLength: 20_000 });
const Optional = (max: number) => Type.Optional(Type.String({ maxLength: max }));

const ClientMessageSchema = Type.Union([
  // visitor
  Type.Object(
    {
      type: Type.Literal('start'),
      name: Optional(200),
      customerId: Optional(200),
      email: Optional(320),
      /** Typed by the visitor: stored as a salted hash, an unverified claim that links no timeline. */
      phone: Optional(40),
      /** The site's signed identity token (customers/identityToken.ts): links the chat to the customer. */
      identity: Optional(2000),
      language: Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('zh')])),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { type: Type.Literal('resume'), conversationId: Id, token: Type.String({ maxLength: 200 }), afterSeq: Seq },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('call'), callId: Id, callerToken: Type.String({ maxLength: 2000 }) }, { additionalProperties: false }),
  // agent
  Type.Object({ type: Type.Literal('agent'), token: Type.String({ maxLength: 2000 }) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('accept'), conversationId: Id }, { additionalProperties: false }),
  Type.Object(
    { type: Type.Literal('history'), conversationId: Type.Optional(Id), callId: Type.Optional(Id), afterSeq: Type.Optional(Seq) },
    {
      additionalProperties: false,
    },
  ),
  // both (agents name the conversation; a visitor's socket has one)
  Type.Object(
    { type: Type.Literal('message'), clientId: Id, text: Text, conversationId: Type.Optional(Id) },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('typing'), typing: Type.Boolean(), conversationId: Type.Optional(Id) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('read'), seq: Seq, conversationId: Type.Optional(Id) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('close'), conversationId: Type.Optional(Id) }, { additionalProperties: false }),
  // refused with a clear error: files go over HTTP (chatFileRoutes.ts), not in socket frames
  Type.Object({ type: Type.Literal('upload') }, { additionalProperties: true }),
]);

export type ChatClientMessage = Static<typeof ClientMessageSchema>;

/** A message as both sides see it (the text is redacted when chat.redact is on). */
export interface ChatMessageView {
  readonly conversationId: string;
  readonly seq: number;
  readonly clientId: string;
  readonly from: 'visitor' | 'agent' | 'system';
  readonly text: string;
  readonly at: number;
  /** A file the visitor sent (its name is `text`); fetched from GET /api/v1/chat/files/:id. */
  readonly file?: ChatFileView;
  /** Agents only: the sentiment of a customer's message (absent where no lexicon serves the language). */
  readonly sentiment?: 'positive' | 'neutral' | 'negative';
}

/** A file in a chat (chatFiles.ts). */
export interface ChatFileView {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly bytes: number;
}

/** A conversation as an agent sees it (no identifiers: only the customer's words, routing and state). */
export interface ChatSummaryView {
  readonly conversationId: string;
  readonly state: 'waiting' | 'assigned' | 'closed';
  readonly groupId: string | null;
  readonly intent: string | null;
  readonly language: 'en' | 'zh';
  readonly callId: string | null;
  readonly createdAt: number;
  /** The customer's first message (redacted), for the offer. */
  readonly preview: string;
}

export type ChatServerMessage =
  | {
      type: 'started';
      conversationId: string;
      token: string;
      lastSeq: number;
      state: 'waiting' | 'assigned' | 'closed';
      /** What files the visitor may send (chat.uploads); absent: none. */
      uploads?: { maxBytes: number; types: string[] };
    }
  | { type: 'ack'; clientId: string; seq: number; text: string }
  | { type: 'message'; message: ChatMessageView }
  | { type: 'typing'; conversationId: string; from: 'visitor' | 'agent'; typing: boolean }
  | { type: 'read'; conversationId: string; by: 'visitor' | 'agent'; seq: number }
  | { type: 'state'; conversation: ChatSummaryView }
  | { type: 'agent-ready'; agentId: string; maxChats: number }
  | { type: 'offers'; conversations: ChatSummaryView[] }
  | { type: 'held'; conversations: ChatSummaryView[] }
  | { type: 'history'; conversation: ChatSummaryView; messages: ChatMessageView[] }
  | { type: 'linked'; callId: string }
  | { type: 'error'; code: string; message: string; clientId?: string };

const checker = TypeCompiler.Compile(ClientMessageSchema);

/** Parses one text frame; throws EVX_ERR_CHAT_PROTOCOL. */
export function parseChatMessage(text: string): ChatClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw evxError('EVX_ERR_CHAT_PROTOCOL', 'chat message is not JSON');
  }
  if (!checker.Check(value)) {
    const first = checker.Errors(value).First();
    throw evxError('EVX_ERR_CHAT_PROTOCOL', `invalid chat message${first ? ` at ${first.path || '/'}: ${first.message}` : ''}`);
  }
  return value;
}
