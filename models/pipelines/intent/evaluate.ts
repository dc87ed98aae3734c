/** Evaluation of a shipped intent model through the runtime classifier (featurizer + ONNX). */
import { performance } from 'node:perf_hooks';
import type { IntentClassifier } from '../../../appliance/intent/classifier.js';
import type { Example } from './data.js';

export interface IntentMetrics {
  /** Top-1 accuracy on the BANKING77 test utterances, ignoring the out-of-scope flag. */
  readonly accuracy: number;
  readonly macroF1: number;
  /** Share of in-scope test utterances flagged out of scope (false rejections). */
  readonly inScopeRejected: number;
  /** Share of test utterances that are accepted and correctly classified. */
  readonly acceptedCorrect: number;
  /** Share of CLINC150 oos_test utterances flagged out of scope (OOS recall). */
  readonly oosDetected: number;
  readonly testUtterances: number;
  readonly oosUtterances: number;
}

export async function evaluateIntent(clf: IntentClassifier, test: readonly Example[], oos: readonly string[]): Promise<IntentMetrics> {
  let correct = 0;
  let rejected = 0;
  let acceptedCorrect = 0;
  const tp = new Map<string, number>();
  const fp = new Map<string, number>();
  const fn = new Map<string, number>();
  const inc = (m: Map<string, number>, k: string): void => {
    m.set(k, (m.get(k) ?? 0) + 1);
  };
  for (const e of test) {
    const r = await clf.classify(e.text);
    if (r.intent === e.label) {
      correct++;
      inc(tp, e.label);
      if (!r.outOfScope) acceptedCorrect++;
    } else {
      inc(fn, e.label);
      if (r.intent !== null) inc(fp, r.intent);
    }
    if (r.outOfScope) rejected++;
  }
  let f1Sum = 0;
  for (const label of clf.labels) {
    const t = tp.get(label) ?? 0;
    const denom = 2 * t + (fp.get(label) ?? 0) + (fn.get(label) ?? 0);
    f1Sum += denom > 0 ? (2 * t) / denom : 0;
  }
  let detected = 0;
  for (const text of oos) if ((await clf.classify(text)).outOfScope) detected++;
  return {
    accuracy: correct / test.length,
    macroF1: f1Sum / clf.labels.length,
    inScopeRejected: rejected / test.length,
    acceptedCorrect: acceptedCorrect / test.length,
    oosDetected: oos.length > 0 ? detected / oos.length : 0,
    testUtterances: test.length,
    oosUtterances: oos.length,
  };
}

export interface LatencyStats {
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  /** Process CPU time (user + system) per utterance: independent of other jobs on the machine. */
  readonly cpuMsPerUtterance: number;
  readonly utterances: number;
}

/** Per-utterance latency of classify() (featurize + ONNX run), after a warm-up pass. */
export async function measureLatency(clf: IntentClassifier, texts: readonly string[], warmup = 200): Promise<LatencyStats> {
  for (let i = 0; i < Math.min(warmup, texts.length); i++) await clf.classify(texts[i]!);
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  for (const t of texts) {
    const start = performance.now();
    await clf.classify(t);
    times.push(performance.now() - start);
  }
  const cpu = process.cpuUsage(cpu0);
  times.sort((a, b) => a - b);
  const q = (p: number): number => times[Math.min(times.length - 1, Math.floor(p * times.length))]!;
  return {
    meanMs: times.reduce((s, x) => s + x, 0) / times.length,
    p50Ms: q(0.5),
    p95Ms: q(0.95),
    p99Ms: q(0.99),
    cpuMsPerUtterance: (cpu.user + cpu.system) / 1000 / times.length,
    utterances: times.length,
  };
}

export function formatIntentMetrics(m: IntentMetrics, threshold: number): string[] {
  const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
  return [
    `intent: BANKING77 test accuracy ${pct(m.accuracy)} (${m.testUtterances} utterances), macro-F1 ${m.macroF1.toFixed(4)}`,
    `intent: out-of-scope threshold ${threshold.toFixed(4)}: CLINC150 oos_test detected ${pct(m.oosDetected)} (${m.oosUtterances}), BANKING77 test falsely rejected ${pct(m.inScopeRejected)}, accepted and correct ${pct(m.acceptedCorrect)}`,
  ];
}
