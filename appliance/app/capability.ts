/** What the start-up of one capability hands the composition root. */
import type { FastifyInstance } from 'fastify';
import type { EdgeVoxConfig } from '../config/schema.js';
import type { EventBus } from '../events/appEvents.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/database.js';

/** The shared pieces every capability is started from. */
export interface CapabilityDeps {
  readonly config: EdgeVoxConfig;
  readonly store: Store;
  readonly bus: EventBus;
  readonly logger: Logger;
  /** Clock of the data services (tests move it forward to close a window). */
  readonly now?: (() => number) | undefined;
}

/** A started capability: its HTTP routes (if any) and its part of the close cascade. */
export interface Started {
  readonly routes?: (app: FastifyInstance) => void | Promise<void>;
  close(): void | Promise<void>;
}
