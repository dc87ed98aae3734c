/** Evaluation of the Chinese intent model through the runtime classifier (featurizer + ONNX). */
import type { IntentClassifier } from '../../../appliance/intent/classifier.js';
import type { Example } from './data.js';

export interface IntentZhMetrics {
  /** Top-1 accuracy on the test turns as typed (with punctuation). */
  readonly accuracy: number;
  readonly macroF1: number;
  /** Top-1 accuracy with every punctuation mark and space removed, the shape of an ASR final. */
  readonly accuracyUnpunctuated: number;
  /** Share of test turns flagged out of scope (all are in scope: false rejections). */
  readonly inScopeRejected: number;
  /** Share of test turns accepted and correctly classified. */
  readonly acceptedCorrect: number;
  readonly perIntentRecall: Record<string, number>;
  readonly testUtterances: number;
}

/** Strip punctuation and spaces (what a recognizer's final looks like); letters and numerals stay. */
export function unpunctuated(text: string): string {
  return text.replace(/[^\p{L}\p{N}]+/gu, '');
}

export async function evaluateIntentZh(clf: IntentClassifier, test: readonly Example[]): Promise<IntentZhMetrics> {
  let correct = 0;
  let correctBare = 0;
  let rejected = 0;
  let acceptedCorrect = 0;
  const tp = new Map<string, number>();
  const fp = new Map<string, number>();
  const fn = new Map<string, number>();
  const support = new Map<string, number>();
  const inc = (m: Map<string, number>, k: string): void => {
    m.set(k, (m.get(k) ?? 0) + 1);
  };
  for (const e of test) {
    inc(support, e.label);
    const r = await clf.classify(e.text);
    if (r.outOfScope) rejected++;
    if (r.intent === e.label) {
      correct++;
      if (!r.outOfScope) acceptedCorrect++;
      inc(tp, e.label);
    } else {
      inc(fn, e.label);
      if (r.intent !== null) inc(fp, r.intent);
    }
    if ((await clf.classify(unpunctuated(e.text))).intent === e.label) correctBare++;
  }
  let f1Sum = 0;
  const perIntentRecall: Record<string, number> = {};
  for (const label of clf.labels) {
    const t = tp.get(label) ?? 0;
    const denom = 2 * t + (fp.get(label) ?? 0) + (fn.get(label) ?? 0);
    f1Sum += denom > 0 ? (2 * t) / denom : 0;
    const n = support.get(label) ?? 0;
    if (n > 0) perIntentRecall[label] = t / n;
  }
  return {
    accuracy: correct / test.length,
    macroF1: f1Sum / clf.labels.length,
    accuracyUnpunctuated: correctBare / test.length,
    inScopeRejected: rejected / test.length,
    acceptedCorrect: acceptedCorrect / test.length,
    perIntentRecall,
    testUtterances: test.length,
  };
}

export function formatIntentZhMetrics(m: IntentZhMetrics, threshold: number): string[] {
  const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
  return [
    `intent-zh: CrossWOZ test accuracy ${pct(m.accuracy)} (${m.testUtterances} user turns), macro-F1 ${m.macroF1.toFixed(4)}, without punctuation ${pct(m.accuracyUnpunctuated)}`,
    `intent-zh: out-of-scope threshold ${threshold.toFixed(4)}: CrossWOZ test falsely rejected ${pct(m.inScopeRejected)}, accepted and correct ${pct(m.acceptedCorrect)}`,
    `intent-zh: recall per intent ${Object.entries(m.perIntentRecall)
      .map(([k, v]) => `${k} ${pct(v)}`)
      .join(', ')}`,
  ];
}
