/**
 * A CallManager on its own fresh store, for tests of the call path without an appliance: every
 * event it publishes is collected in `events`.
 */
import { CallManager, type CallManagerDeps } from '../../appliance/calls/callManager.js';
import { CallerHasher } from '../../appliance/calls/callerHash.js';
import { EventBus, type ApplianceEvent } from '../../appliance/events/appEvents.js';
import { createLogger } from '../../appliance/log/logger.js';
import { Store } from '../../appliance/store/database.js';
import { scratchDir } from './paths.js';

export function testCallManager(
  name: string,
  deps: Pick<CallManagerDeps, 'transcribers'> & Partial<Omit<CallManagerDeps, 'store' | 'bus' | 'hasher'>>,
): { calls: CallManager; store: Store; bus: EventBus; events: ApplianceEvent[] } {
  const dir = scratchDir(name);
  const store = Store.open(dir);
  const bus = new EventBus();
  const events: ApplianceEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const calls = new CallManager({
    store,
    bus,
    hasher: CallerHasher.fromDataDir(dir),
    logger: createLogger({ level: 'silent', includePii: false }),
    limits: { maxConcurrentCalls: 5, maxLagMs: 1000, retryAfterS: 5 },
    ...deps,
  });
  return { calls, store, bus, events };
}
