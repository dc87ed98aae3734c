/** Conversations: chats (and, later, e-mail cases) with their ordered messages (conversations/). */

export const CHANNELS = ['chat', 'email'] as const;
export type Channel = (typeof CHANNELS)[number];

export type ConversationState = 'waiting' | 'assigned' | 'closed';
export type Sender = 'visitor' | 'agent' | 'system';

/** Salted hashes (calls/callerHash.ts) of what the customer gave; never the values themselves. */
export interface IdentityHashes {
  readonly nameHash: string | null;
  readonly customerHash: string | null;
  readonly emailHash: string | null;
  readonly phoneHash: string | null;
}

export interface Conversation extends IdentityHashes {
  readonly id: string;
  readonly channel: Channel;
  readonly state: ConversationState;
  readonly groupId: string | null;
  readonly agentId: string | null;
  readonly intent: string | null;
  readonly routeReason: string | null;
  readonly language: 'en' | 'zh';
  readonly callId: string | null;
  readonly subject: string | null;
  /** The customer has read up to this seq (the agent's messages). */
  readonly visitorReadSeq: number;
  /** The agent has read up to this seq (the customer's messages). */
  readonly agentReadSeq: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly closedAt: number | null;
}

export interface ConversationMessage {
  readonly conversationId: string;
  /** 1, 2, ... per conversation: the order both sides see. */
  readonly seq: number;
  /** The sender's own id of the message: a resend with the same id is the same message. */
  readonly clientId: string;
  readonly sender: Sender;
  readonly agentId: string | null;
  /** Redacted before it was stored (when redaction is on). */
  readonly text: string;
  readonly redactions: number;
  readonly intent: string | null;
  readonly meta: Record<string, unknown>;
  readonly at: number;
}
