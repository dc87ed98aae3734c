/** What the chat socket shows of conversations and messages (chatProtocol.ts views): no identifiers. */
import { textSentiment } from '../analysis/textSentiment.js';
import type { ChatFileView, ChatMessageView, ChatSummaryView } from './chatProtocol.js';
import type { Conversation, ConversationMessage } from './types.js';

export function messageView(m: ConversationMessage): ChatMessageView {
  const v = { conversationId: m.conversationId, seq: m.seq, clientId: m.clientId, from: m.sender, text: m.text, at: m.at };
  const file = fileOf(m);
  return file === null ? v : { ...v, file };
}

/** The file a message shows (chatFiles.ts), or null. */
function fileOf(m: ConversationMessage): ChatFileView | null {
  const f = m.meta['file'] as Partial<ChatFileView> | undefined;
  if (f === undefined || typeof f.id !== 'string' || typeof f.type !== 'string' || typeof f.bytes !== 'number') return null;
  return { id: f.id, name: m.text, type: f.type, bytes: f.bytes };
}

/** A message as the agent sees it: a customer's message with its sentiment (the transcripts' lexicon; none in Mandarin). */
export function agentMessageView(m: ConversationMessage, language: 'en' | 'zh'): ChatMessageView {
  const v = messageView(m);
  if (m.sender !== 'visitor' || v.file !== undefined) return v;
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
