/**
 * The steps of a load ramp. The configured steps run upward; with stopAtFirstFailure the ramp ends
 * at the first step that is not real-time, except when no step has passed yet: then it halves the
 * failed step until one passes (down to `floor` calls) and bisects between that step and the
 * lowest failure (to within an eighth), so a machine that carries fewer calls than the first step
 * gets its figure instead of 0 (a ramp of 44, 56, ... on a slow or busy machine otherwise reported
 * "0 real-time calls" and no ratio between two encoders). Without stopAtFirstFailure every
 * configured step runs.
 */
export class RampPlan {
  private queue: number[];
  private readonly stopAtFirstFailure: boolean;
  private readonly floor: number;
  private passed = false;
  /** Below the configured steps: the highest step that passed and the lowest that failed. */
  private below: { lo: number; hi: number } | undefined;
  private done = false;

  constructor(steps: readonly number[], options: { stopAtFirstFailure: boolean; floor?: number }) {
    this.queue = [...steps];
    this.stopAtFirstFailure = options.stopAtFirstFailure;
    this.floor = Math.max(1, options.floor ?? 4);
  }

  /** The next step's calls, or undefined when the ramp is over. */
  next(): number | undefined {
    return this.done ? undefined : this.queue.shift();
  }

  /** Record the outcome of the step just run. */
  record(calls: number, realTime: boolean): void {
    if (this.below !== undefined) {
      if (realTime) this.below.lo = Math.max(this.below.lo, calls);
      else this.below.hi = Math.min(this.below.hi, calls);
      this.queue = [];
      const { lo, hi } = this.below;
      if (lo === 0) {
        const half = Math.floor(hi / 2);
        if (half >= this.floor) this.queue = [half];
      } else if (hi - lo > Math.max(1, Math.floor(lo / 8))) this.queue = [Math.floor((lo + hi) / 2)];
      this.done = this.queue.length === 0;
      return;
    }
    if (realTime) {
      this.passed = true;
      return;
    }
    if (!this.stopAtFirstFailure) return;
    if (this.passed) {
      this.done = true;
      return;
    }
    this.below = { lo: 0, hi: calls };
    this.record(calls, false);
  }
}
