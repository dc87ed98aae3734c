/**
 * Alert detectors, free of I/O and clocks (times are passed in): the caller-emotion rule, the queue
 * wait watch with hysteresis, and the intent-spike detector against a rolling baseline.
 */

export interface EmotionAlertInput {
  readonly category: string;
  readonly angryScore: number;
  readonly trend: string;
  readonly agitation: number;
}

export type EmotionAlertKind = 'caller_angry' | 'caller_escalating';

/** Which emotion alert (if any) an utterance raises; angry wins over escalating, and both together are critical. */
export function emotionAlert(
  e: EmotionAlertInput,
  angerThreshold: number,
): { kind: EmotionAlertKind; severity: 'warning' | 'critical' } | null {
  const angry = e.category === 'angry' || e.angryScore >= angerThreshold;
  const escalating = e.trend === 'escalating';
  if (angry) return { kind: 'caller_angry', severity: escalating ? 'critical' : 'warning' };
  if (escalating) return { kind: 'caller_escalating', severity: 'warning' };
  return null;
}

/**
 * One alert per group while its oldest queued call waits longer than the threshold; re-armed once
 * the group's oldest wait drops below it again (so a long queue does not alert every tick).
 */
export class QueueWaitWatch {
  private readonly firing = new Set<string>();

  /** `oldestWaitMs` per group with queued calls; returns the groups that newly crossed the threshold. */
  check(oldestWaitMs: ReadonlyMap<string, number>, thresholdMs: number): { groupId: string; waitMs: number }[] {
    const out: { groupId: string; waitMs: number }[] = [];
    for (const [groupId, waitMs] of oldestWaitMs) {
      if (waitMs > thresholdMs) {
        if (!this.firing.has(groupId)) {
          this.firing.add(groupId);
          out.push({ groupId, waitMs });
        }
      } else this.firing.delete(groupId);
    }
    for (const g of [...this.firing]) if (!oldestWaitMs.has(g)) this.firing.delete(g);
    return out;
  }
}

export interface SpikeOptions {
  readonly bucketMs: number;
  /** Past buckets averaged into the baseline. */
  readonly baselineBuckets: number;
  /** Spike when the current bucket reaches factor × baseline ... */
  readonly factor: number;
  /** ... and at least this many calls. */
  readonly minCount: number;
}

export interface Spike {
  readonly intent: string;
  readonly count: number;
  readonly baseline: number;
  readonly ratio: number;
  readonly bucketStart: number;
}

/**
 * Counts intents in fixed time buckets and reports an intent whose count in the current bucket
 * reaches `factor` times its mean over the previous `baselineBuckets` buckets (an intent never seen
 * before has a baseline floor of one call per bucket). Reported once per intent per bucket, and only
 * once the detector has watched a whole baseline period (no spikes from an empty history at start).
 * Memory: (baselineBuckets + 1) counters per intent seen.
 */
export class IntentSpikeDetector {
  private readonly counts = new Map<string, Map<number, number>>();
  private readonly reported = new Set<string>();
  private currentBucket = Number.NEGATIVE_INFINITY;
  /** First bucket seen: nothing is judged until a full baseline period has been observed. */
  private firstBucket: number | null = null;

  constructor(private readonly options: SpikeOptions) {}

  /** Count one utterance's intent at `atMs`; returns a spike when this count makes one. */
  add(intent: string, atMs: number): Spike | null {
    const { bucketMs, baselineBuckets, factor, minCount } = this.options;
    const bucket = Math.floor(atMs / bucketMs);
    this.firstBucket ??= bucket;
    if (bucket > this.currentBucket) {
      this.currentBucket = bucket;
      this.reported.clear();
      this.prune(bucket - baselineBuckets);
    }
    let series = this.counts.get(intent);
    if (series === undefined) {
      series = new Map();
      this.counts.set(intent, series);
    }
    const count = (series.get(bucket) ?? 0) + 1;
    series.set(bucket, count);
    if (bucket < this.currentBucket) return null; // late event for an old bucket: counted, not judged
    if (bucket - this.firstBucket < baselineBuckets) return null; // still learning the baseline
    let sum = 0;
    for (let b = bucket - baselineBuckets; b < bucket; b++) sum += series.get(b) ?? 0;
    const baseline = sum / baselineBuckets;
    const floor = Math.max(baseline, 1);
    if (count >= minCount && count >= factor * floor && !this.reported.has(intent)) {
      this.reported.add(intent);
      return { intent, count, baseline, ratio: count / floor, bucketStart: bucket * bucketMs };
    }
    return null;
  }

  private prune(oldestKept: number): void {
    for (const [intent, series] of this.counts) {
      for (const b of series.keys()) if (b < oldestKept) series.delete(b);
      if (series.size === 0) this.counts.delete(intent);
    }
  }

  get trackedIntents(): number {
    return this.counts.size;
  }
}
