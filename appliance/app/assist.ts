/** Starts the knowledge base of agent assist (its index built from the store) and its HTTP routes. */
import type { FastifyInstance } from 'fastify';
import { registerKnowledgeRoutes } from '../api/routes/knowledge.js';
import { KnowledgeBase } from '../assist/knowledgeBase.js';
import { KnowledgeRepo } from '../assist/knowledgeRepo.js';
import type { CapabilityDeps } from './capability.js';

export interface StartedAssist {
  readonly knowledge: KnowledgeBase;
  readonly routes: (app: FastifyInstance) => Promise<void>;
  close(): Promise<void>;
}

export async function startAssist(deps: CapabilityDeps): Promise<StartedAssist> {
  const { store, now } = deps;
  const knowledge = await KnowledgeBase.open(new KnowledgeRepo(store.db, store.write.bind(store)), now ? { now } : {});
  return { knowledge, routes: (app) => registerKnowledgeRoutes(app, { knowledge }), close: () => knowledge.close() };
}
