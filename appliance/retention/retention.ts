/**
 * Retention: every class of stored data has a maximum age and is purged on a schedule.
 *
 * A RetentionClass knows how to delete (or strip) its own expired rows; the RetentionService runs
 * them all on a timer (unref'd, closed in the appliance's close cascade) and on demand. The clock is
 * injected so the schedule and the cut-offs are testable without waiting.
 */
import type { Logger } from '../log/logger.js';

export interface RetentionClass {
  /** Data class name (a metric label and a log field): transcripts, analysis, calls, ... */
  readonly name: string;
  /** Rows older than this are purged. */
  readonly maxAgeMs: number;
  /** Purge rows created before `cutoffMs`; returns how many were purged. */
  purge(cutoffMs: number): number;
}

export interface RetentionDeps {
  classes: readonly RetentionClass[];
  intervalMs: number;
  logger: Logger;
  now?: () => number;
  /** Called after each class's purge (metrics). */
  onPurged?: (name: string, rows: number) => void;
}

export class RetentionService {
  private readonly classes: RetentionClass[];
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Cumulative rows purged per class. */
  readonly purged: Record<string, number> = {};
  lastSweepAt: number | null = null;

  constructor(private readonly deps: RetentionDeps) {
    this.classes = [...deps.classes];
    for (const c of this.classes) this.purged[c.name] = 0;
  }

  /** Add a data class (e.g. caller profiles, owned by another module). */
  register(c: RetentionClass): void {
    if (this.classes.some((x) => x.name === c.name)) throw new Error(`retention class ${c.name} registered twice`);
    this.classes.push(c);
    this.purged[c.name] = 0;
  }

  get classNames(): string[] {
    return this.classes.map((c) => c.name);
  }

  /** Purge every class now. A failing class is logged and does not stop the others. */
  sweep(): Record<string, number> {
    const now = (this.deps.now ?? Date.now)();
    const result: Record<string, number> = {};
    for (const c of this.classes) {
      try {
        const n = c.purge(now - c.maxAgeMs);
        result[c.name] = n;
        this.purged[c.name] = (this.purged[c.name] ?? 0) + n;
        this.deps.onPurged?.(c.name, n);
      } catch (err) {
        this.deps.logger.warn({ dataClass: c.name, reason: err instanceof Error ? err.message : String(err) }, 'retention purge failed');
      }
    }
    this.lastSweepAt = now;
    const total = Object.values(result).reduce((a, b) => a + b, 0);
    if (total > 0) this.deps.logger.info({ purged: result }, 'expired data purged');
    return result;
  }

  /** Sweep once now and then every `intervalMs` until close(). */
  start(): void {
    if (this.closed || this.timer !== null) return;
    this.sweep();
    this.timer = setInterval(() => this.sweep(), this.deps.intervalMs);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
