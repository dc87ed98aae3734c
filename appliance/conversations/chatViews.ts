/** What the chat socket shows of conversations and messages (chatProtocol.ts views): no identifiers. */
import { textSentiment } from '../analysis/textSentiment.js';
import type { ChatMessageView, ChatSummaryView } from './chatProtocol.js';
import type { Conversation, ConversationMessage } from './types.js';

export function messageView(m: ConversationMessage): ChatMessageView {
  return { conversationId: m.conversationId, seq: m.seq, clientId: m.clientId, from: m.sender, text: m.text, at: m.at };
}

/** A message as the agent sees it: a customer's message with its sentiment (the transcripts' lexicon; none in Mandarin). */
export function agentMessageView(m: ConversationMessage, language: 'en' | 'zh'): ChatMessageView {
  const v = messageView(m);
  if (m.sender !== 'visitor') return v;
  const s = textSentiment(m.text, language);
  return s === null ? v : { ...v, sentiment: s.label };
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
