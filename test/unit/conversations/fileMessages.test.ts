/**
 * A file a visitor sends is a message whose text is the file's name: the analysis must not read it
 * as something the customer wrote (no sentiment stored for it, not a line of the QA scorecard or
 * the summary), while the customer's written lines still are.
 */
import { describe, expect, it } from 'vitest';
import { ConversationAnalysis, scoreConversation, summariseConversation } from '../../../appliance/conversations/conversationAnalysis.js';
import type { ConversationAnalysisRepo } from '../../../appliance/conversations/conversationAnalysisRepo.js';
import type { ConversationService } from '../../../appliance/conversations/conversationService.js';
import type { Conversation, ConversationMessage } from '../../../appliance/conversations/types.js';
import { TypedEmitter } from '../../../appliance/events/typedEmitter.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { DEFAULT_RULES } from '../../../appliance/qa/rules.js';

const T0 = 1_800_000_000_000;
const conversation = { id: 'c1', createdAt: T0, closedAt: T0 + 60_000, updatedAt: T0 + 60_000, language: 'en' } as Conversation;
let seq = 0;
function message(sender: 'visitor' | 'agent', text: string, meta: Record<string, unknown> = {}): ConversationMessage {
  seq++;
  return {
    conversationId: 'c1',
    seq,
    clientId: `m${seq}`,
    sender,
    agentId: null,
    text,
    redactions: 0,
    intent: null,
    meta,
    at: T0 + seq * 1000,
  };
}
const FILE_NAME = 'furious complaint I want to cancel my account terrible service.pdf';
const file = () => message('visitor', FILE_NAME, { file: { id: 'f1', name: FILE_NAME, type: 'application/pdf', bytes: 2000 } });

describe('file messages in the conversation analysis', () => {
  it('the summary and the scorecard read what was written, not file names', () => {
    const messages = [file(), message('agent', 'Hello, how can I help you today?'), message('visitor', 'my statement is attached')];
    const summary = summariseConversation(conversation, messages);
    expect(JSON.stringify(summary)).not.toMatch(/furious|cancel|terrible/);
    const card = scoreConversation(conversation, messages, DEFAULT_RULES, 80);
    expect(JSON.stringify(card)).not.toMatch(/furious|cancel|terrible/);
  });

  it('no sentiment is stored for a file message; a written one gets its own', () => {
    const events = new TypedEmitter<{
      message: { conversation: Conversation; message: ConversationMessage };
      closed: { conversation: Conversation };
    }>();
    const saved: number[] = [];
    const analysis = new ConversationAnalysis({
      service: { events } as unknown as ConversationService,
      repo: { saveMessageSentiment: (_id: string, s: number) => saved.push(s) } as unknown as ConversationAnalysisRepo,
      rules: () => ({ version: 0, rules: DEFAULT_RULES }),
      qa: true,
      passScore: 80,
      messages: () => [],
      logger: createLogger({ level: 'silent', includePii: false }),
      audit: { record: () => 0 },
    });
    const f = file();
    const written = message('visitor', 'this is terrible, I am furious');
    events.emit('message', { conversation, message: f });
    events.emit('message', { conversation, message: written });
    expect(saved).toEqual([written.seq]);
    void analysis.close();
  });
});
