/**
 * Summarises every call when it ends: on `call.ended` the call's stored utterances (redacted text,
 * with the intents the analysers stored) are summarised and the summary is stored with the call.
 * It runs off the publishing stack (setImmediate) so the call path never waits for it. A transfer
 * counts from the call record (end reason 'transferred') or a completed `route.transfer` event.
 */
import type { EventBus } from '../events/appEvents.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/database.js';
import { summariseCall, type CallSummary, type SummaryUtterance } from './summariser.js';
import { SummaryRepo, type StoredSummary } from './summaryRepo.js';

export interface SummaryServiceDeps {
  store: Store;
  bus: EventBus;
  logger: Logger;
  now?: () => number;
}

/** Calls with a completed transfer remembered until they end; bounded. */
const MAX_TRACKED_CALLS = 10_000;

export class SummaryService {
  readonly repo: SummaryRepo;
  private readonly unsubscribe: () => void;
  private readonly transferred = new Set<string>();
  private readonly pending = new Set<Promise<void>>();
  private closed = false;
  readonly counters = { summarised: 0, errors: 0 };

  constructor(private readonly deps: SummaryServiceDeps) {
    this.repo = new SummaryRepo(deps.store.db, (op, fn) => deps.store.write(op, fn));
    this.unsubscribe = deps.bus.subscribe((e) => {
      if (e.type === 'route.transfer' && e.state === 'completed') {
        if (this.transferred.size >= MAX_TRACKED_CALLS) this.transferred.delete(this.transferred.values().next().value!);
        this.transferred.add(e.callId);
      } else if (e.type === 'call.ended' && !this.closed) {
        const job = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
          if (!this.closed) this.summariseAndStore(e.callId);
        });
        this.pending.add(job);
        void job.finally(() => this.pending.delete(job));
      }
    });
  }

  /** Summarise a stored call now (also used to re-summarise); undefined when the call does not exist. */
  summarise(callId: string): CallSummary | undefined {
    const call = this.deps.store.calls.get(callId);
    if (call === undefined) return undefined;
    const utterances: SummaryUtterance[] = this.deps.store.utterances.listByCall(callId).map((u) => ({
      speaker: u.speaker,
      text: u.text,
      language: u.language,
      intent: intentOf(u.analysis),
    }));
    return summariseCall(utterances, {
      language: call.language,
      transferred: call.endReason === 'transferred' || this.transferred.has(callId),
    });
  }

  /** The stored summary of a call, if it has one. */
  get(callId: string): StoredSummary | undefined {
    return this.repo.get(callId);
  }

  private summariseAndStore(callId: string): void {
    try {
      const summary = this.summarise(callId);
      this.transferred.delete(callId);
      if (summary === undefined) return;
      this.repo.save(callId, summary, (this.deps.now ?? Date.now)());
      this.counters.summarised++;
    } catch (err) {
      this.counters.errors++;
      // Static message, no transcript: the error's code and the call id only.
      this.deps.logger.warn({ callId, code: (err as { code?: string }).code ?? 'unknown' }, 'call summary failed');
    }
  }

  /** Wait for summaries in flight (tests, drain). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.unsubscribe();
    await this.idle();
    this.closed = true;
    this.transferred.clear();
  }
}

/** The stored `analysis.intent` in the shape the summariser reads; null when absent or malformed. */
function intentOf(analysis: Record<string, unknown>): SummaryUtterance['intent'] {
  const a = analysis['intent'] as { intent?: unknown; confidence?: unknown; outOfScope?: unknown } | undefined;
  if (a === undefined || a === null || typeof a !== 'object') return null;
  if (typeof a.confidence !== 'number' || typeof a.outOfScope !== 'boolean') return null;
  return { intent: typeof a.intent === 'string' ? a.intent : null, confidence: a.confidence, outOfScope: a.outOfScope };
}
