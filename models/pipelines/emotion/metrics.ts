/** Speaker-independent evaluation metrics for the emotion model. */
import { CATEGORIES, type Category } from './model.js';

export interface Prediction {
  readonly probs: Float32Array;
  readonly av: readonly [number, number];
}

export interface Truth {
  readonly category: Category;
  readonly av: readonly [number, number];
}

export const FOUR_CLASS: readonly Category[] = ['neutral', 'happy', 'sad', 'angry'];

export interface EmotionMetrics {
  /** Unweighted (macro-recall) accuracy over neutral+calm / happy / sad / angry clips, argmax over those 4. */
  readonly ua4: number;
  /** Per-class F1 of the 4-class task. */
  readonly f1by4: Record<string, number>;
  /** Angry-vs-rest F1 on the 4-class clips. */
  readonly angryF1: number;
  /** Unweighted accuracy over all 7 categories (all clips). */
  readonly ua7: number;
  readonly f1by7: Record<string, number>;
  /** Angry-vs-rest F1 over all clips (disgust, surprised, fearful included as "rest"), argmax over 7. */
  readonly angryF1All: number;
  /** Concordance correlation with the proxy arousal / valence targets. */
  readonly arousalCcc: number;
  readonly valenceCcc: number;
  readonly clips4: number;
  readonly clipsAll: number;
}

function argmaxAmong(p: Float32Array, allowed: readonly number[]): number {
  let best = allowed[0]!;
  for (const i of allowed) if (p[i]! > p[best]!) best = i;
  return best;
}

function f1(tp: number, fp: number, fn: number): number {
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

function ccc(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  let va = 0;
  let vb = 0;
  let cov = 0;
  for (let i = 0; i < n; i++) {
    va += (a[i]! - ma) ** 2;
    vb += (b[i]! - mb) ** 2;
    cov += (a[i]! - ma) * (b[i]! - mb);
  }
  return (2 * cov) / n / (va / n + vb / n + (ma - mb) ** 2);
}

function classReport(pairs: { t: number; p: number }[], classes: readonly number[]): { ua: number; f1s: number[] } {
  const recalls: number[] = [];
  const f1s: number[] = [];
  for (const c of classes) {
    const tp = pairs.filter((x) => x.t === c && x.p === c).length;
    const fn = pairs.filter((x) => x.t === c && x.p !== c).length;
    const fp = pairs.filter((x) => x.t !== c && x.p === c).length;
    recalls.push(tp + fn > 0 ? tp / (tp + fn) : 0);
    f1s.push(f1(tp, fp, fn));
  }
  return { ua: recalls.reduce((s, x) => s + x, 0) / recalls.length, f1s };
}

export function emotionMetrics(preds: readonly Prediction[], truths: readonly Truth[]): EmotionMetrics {
  const idx4 = FOUR_CLASS.map((c) => CATEGORIES.indexOf(c));
  const idxAll = CATEGORIES.map((_, i) => i);
  const angry = CATEGORIES.indexOf('angry');
  const pairs4: { t: number; p: number }[] = [];
  const pairsAll: { t: number; p: number }[] = [];
  preds.forEach((pr, i) => {
    const t = CATEGORIES.indexOf(truths[i]!.category);
    if (idx4.includes(t)) pairs4.push({ t, p: argmaxAmong(pr.probs, idx4) });
    pairsAll.push({ t, p: argmaxAmong(pr.probs, idxAll) });
  });
  const r4 = classReport(pairs4, idx4);
  const r7 = classReport(pairsAll, idxAll);
  const angryOf = (pairs: { t: number; p: number }[]): number =>
    f1(
      pairs.filter((x) => x.t === angry && x.p === angry).length,
      pairs.filter((x) => x.t !== angry && x.p === angry).length,
      pairs.filter((x) => x.t === angry && x.p !== angry).length,
    );
  return {
    ua4: r4.ua,
    f1by4: Object.fromEntries(FOUR_CLASS.map((c, i) => [c, r4.f1s[i]!])),
    angryF1: angryOf(pairs4),
    ua7: r7.ua,
    f1by7: Object.fromEntries(CATEGORIES.map((c, i) => [c, r7.f1s[i]!])),
    angryF1All: angryOf(pairsAll),
    arousalCcc: ccc(
      preds.map((p) => p.av[0]),
      truths.map((t) => t.av[0]),
    ),
    valenceCcc: ccc(
      preds.map((p) => p.av[1]),
      truths.map((t) => t.av[1]),
    ),
    clips4: pairs4.length,
    clipsAll: pairsAll.length,
  };
}

export function formatMetrics(label: string, m: EmotionMetrics): string {
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const f = (r: Record<string, number>): string =>
    Object.entries(r)
      .map(([k, v]) => `${k} ${v.toFixed(3)}`)
      .join(', ');
  return [
    `${label}: 4-class UA ${pct(m.ua4)} (${m.clips4} clips), angry-vs-rest F1 ${m.angryF1.toFixed(3)}; per-class F1: ${f(m.f1by4)}`,
    `${label}: 7-class UA ${pct(m.ua7)} (${m.clipsAll} clips), angry-vs-rest F1 (all clips) ${m.angryF1All.toFixed(3)}; per-class F1: ${f(m.f1by7)}`,
    `${label}: arousal CCC ${m.arousalCcc.toFixed(3)}, valence CCC ${m.valenceCcc.toFixed(3)} (against circumplex proxy targets)`,
  ].join('\n');
}
