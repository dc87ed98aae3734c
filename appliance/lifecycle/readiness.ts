/**
 * Readiness: named checks that must all pass before /readyz answers 200. Components register a
 * check when they start (store, models, each media listener); draining makes the appliance unready
 * so load balancers and the SIP front stop sending new work.
 */
export interface CheckResult {
  ok: boolean;
  reason?: string;
}

export type Phase = 'starting' | 'running' | 'draining' | 'stopped';

export interface ReadinessReport {
  ready: boolean;
  phase: Phase;
  checks: { name: string; ok: boolean; reason?: string }[];
}

export class Readiness {
  private readonly checks = new Map<string, () => CheckResult>();
  phase: Phase = 'starting';

  register(name: string, check: () => CheckResult): void {
    this.checks.set(name, check);
  }

  unregister(name: string): void {
    this.checks.delete(name);
  }

  evaluate(): ReadinessReport {
    const checks = [...this.checks.entries()].map(([name, check]) => {
      let result: CheckResult;
      try {
        result = check();
      } catch (err) {
        result = { ok: false, reason: err instanceof Error ? err.message : String(err) };
      }
      return result.reason === undefined ? { name, ok: result.ok } : { name, ok: result.ok, reason: result.reason };
    });
    const ready = this.phase === 'running' && checks.every((c) => c.ok);
    return { ready, phase: this.phase, checks };
  }
}
