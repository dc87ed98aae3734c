/** Out-of-scope threshold calibration. */
/** Threshold on the top-1 probability maximising (in-scope accept rate + OOS reject rate) / 2. */
export function calibrateThreshold(inScope: number[], oos: number[]): { threshold: number; inAccepted: number; oosRejected: number } {
  const candidates = [...new Set([...inScope, ...oos])].sort((a, b) => a - b);
  let best = { threshold: 0, inAccepted: 1, oosRejected: 0, score: 0.5 };
  for (let i = 0; i < candidates.length; i++) {
    // Midpoint between neighbouring scores, so the decision is not sitting on a sample.
    const t = i + 1 < candidates.length ? (candidates[i]! + candidates[i + 1]!) / 2 : candidates[i]! + 1e-6;
    const inAccepted = inScope.filter((p) => p >= t).length / inScope.length;
    const oosRejected = oos.filter((p) => p < t).length / oos.length;
    const score = (inAccepted + oosRejected) / 2;
    if (score > best.score + 1e-12) best = { threshold: t, inAccepted, oosRejected, score };
  }
  return { threshold: best.threshold, inAccepted: best.inAccepted, oosRejected: best.oosRejected };
}

/**
 * Threshold on the top-1 probability that accepts the share `accept` of in-scope `probs` (midway
 * between neighbouring scores), for a model without an out-of-scope set to balance against.
 */
export function acceptingThreshold(probs: readonly number[], accept: number): number {
  const sorted = [...probs].sort((x, y) => x - y);
  const k = Math.floor((1 - accept) * sorted.length);
  if (k <= 0) return 0;
  return (sorted[k - 1]! + sorted[k]!) / 2;
}
