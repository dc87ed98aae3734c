/** A conversation service on a test store: no intent, no routing, redaction on, unless the test says otherwise. */
import { CallerHasher } from '../../appliance/calls/callerHash.js';
import { ConversationRepo } from '../../appliance/conversations/conversationRepo.js';
import { ConversationService, type ConversationServiceDeps } from '../../appliance/conversations/conversationService.js';
import { createLogger } from '../../appliance/log/logger.js';
import { Redactor } from '../../appliance/privacy/redactor.js';
import type { Store } from '../../appliance/store/database.js';

export function testConversationService(
  store: Store,
  dataDir: string,
  overrides: Partial<ConversationServiceDeps> = {},
): ConversationService {
  return new ConversationService({
    repo: new ConversationRepo(store.db, store.write.bind(store)),
    redactor: new Redactor(),
    hasher: CallerHasher.fromDataDir(dataDir),
    intent: null,
    routing: null,
    agentGroups: () => [],
    logger: createLogger({ level: 'silent', includePii: false }),
    options: { maxChatsPerAgent: 3, maxMessagesBeforeDefault: 3, maxMessageChars: 1000 },
    ...overrides,
  });
}
