/** What the chat socket shows of conversations and messages (chatProtocol.ts views): no identifiers. */
import type { ChatMessageView, ChatSummaryView } from './chatProtocol.js';
import type { Conversation, ConversationMessage } from './types.js';

export function messageView(m: ConversationMessage): ChatMessageView {
  return { conversationId: m.conversationId, seq: m.seq, clientId: m.clientId, from: m.sender, text: m.text, at: m.at };
}

export function summaryView(c: Conversation, preview: string): ChatSummaryView {
  return {
    conversationId: c.id,
    state: c.state,
    groupId: c.groupId,
    intent: c.intent,
    language: c.language,
    callId: c.callId,
    createdAt: c.createdAt,
    preview: preview.slice(0, 200),
  };
}
