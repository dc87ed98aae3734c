/**
 * What a call leg's stages (transcript, analysis) may use: the leg's identity, the clock, the event
 * bus, the store (through the call manager's persist, which never throws into the media path) and
 * the logger. Narrow on purpose: a stage never reaches into the call manager.
 */
import type { ApplianceEvent } from '../events/appEvents.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/database.js';

export interface LegContext {
  readonly callId: string;
  readonly legId: string;
  /** The leg's label: caller, agent, or a SIPREC participant. */
  readonly speaker: string;
  readonly sampleRateHz: number;
  readonly store: Store;
  readonly logger: Logger;
  now(): number;
  publish(event: ApplianceEvent): void;
  /** Run a store write; a failure is counted, logged and retried later, never thrown. */
  persist<T>(operation: string, write: () => T): T | undefined;
}
