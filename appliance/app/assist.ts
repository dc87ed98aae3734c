/**
 * Starts agent assist: the knowledge base (its index built from the store), the cards pushed to the
 * agent during each call (with their feedback), and their HTTP routes.
 */
import type { FastifyInstance } from 'fastify';
import { registerAssistCardRoutes } from '../api/routes/assistCards.js';
import { registerKnowledgeRoutes } from '../api/routes/knowledge.js';
import { CardRepo } from '../assist/cardRepo.js';
import { CardService } from '../assist/cardService.js';
import { KnowledgeBase } from '../assist/knowledgeBase.js';
import { KnowledgeRepo } from '../assist/knowledgeRepo.js';
import type { RoutingService } from '../routing/routingService.js';
import type { CapabilityDeps } from './capability.js';

export interface StartedAssist {
  readonly knowledge: KnowledgeBase;
  readonly cards: CardService;
  readonly routes: (app: FastifyInstance) => Promise<void>;
  close(): Promise<void>;
}

export async function startAssist(deps: CapabilityDeps & { routing: RoutingService }): Promise<StartedAssist> {
  const { store, bus, logger, now } = deps;
  const knowledge = await KnowledgeBase.open(new KnowledgeRepo(store.db, store.write.bind(store)), now ? { now } : {});
  const cards = new CardService({
    bus,
    logger,
    repo: new CardRepo(store.db, store.write.bind(store)),
    search: (text, options) => knowledge.search(text, options),
    scripts: () => deps.routing.scripts(),
    // wall clock, like the asr.final times it measures its latency from (not the data clock)
  });
  return {
    knowledge,
    cards,
    routes: async (app) => {
      await registerKnowledgeRoutes(app, { knowledge });
      registerAssistCardRoutes(app, { store, cards });
    },
    close: async () => {
      cards.close();
      await knowledge.close();
    },
  };
}
