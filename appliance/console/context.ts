/** What the console's route modules share: services built once by mount.ts. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuthService } from '../auth/authService.js';
import type { CallManager } from '../calls/callManager.js';
import type { CallerHasher } from '../calls/callerHash.js';
import type { EdgeVoxConfig } from '../config/schema.js';
import type { EventBus } from '../events/appEvents.js';
import type { Readiness } from '../lifecycle/readiness.js';
import type { Logger } from '../log/logger.js';
import type { ModelStore } from '../modelstore/modelStore.js';
import type { Store } from '../store/database.js';
import type { ConsoleStatsRepo } from './statsRepo.js';
import type { SipServer } from '../telephony/sip-server.js';
import type { ConfigService } from './configService.js';
import type { HttpsListener } from './tls.js';

export interface RecentError {
  at: number;
  source: string;
  code: string;
  message: string;
}

/** A bounded ring of recent errors (codes and static messages only, never request data). */
export class RecentErrors {
  private readonly items: RecentError[] = [];
  constructor(private readonly capacity = 200) {}
  add(e: RecentError): void {
    this.items.push(e);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
  }
  list(): RecentError[] {
    return [...this.items].reverse();
  }
}

export interface ConsoleContext {
  config: EdgeVoxConfig;
  dataDir: string;
  logger: Logger;
  store: Store;
  models: ModelStore;
  bus: EventBus;
  calls: CallManager;
  sip: SipServer | null;
  readiness: Readiness;
  hasher: CallerHasher;
  auth: AuthService;
  configs: ConfigService;
  stats: ConsoleStatsRepo;
  errors: RecentErrors;
  https: { listener: HttpsListener | null };
  repoRoot: string;
}

/** Wizard completion is a file in the data dir, so a restored backup on a fresh box can set it. */
export function setupComplete(dataDir: string): { completedAt: number } | null {
  const p = join(dataDir, 'setup-complete.json');
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as { completedAt: number };
  } catch {
    return null;
  }
}

export function markSetupComplete(dataDir: string, at = Date.now()): void {
  writeFileSync(join(dataDir, 'setup-complete.json'), JSON.stringify({ completedAt: at }) + '\n');
}
