/** Seeded stratified split: `fraction` of each label goes to validation. */
import { Rng } from '../common/rng.js';

export function stratifiedSplit(labels: readonly string[], fraction: number, seed: number): { trainIdx: number[]; valIdx: number[] } {
  const byLabel = new Map<string, number[]>();
  labels.forEach((l, i) => {
    const list = byLabel.get(l) ?? [];
    list.push(i);
    byLabel.set(l, list);
  });
  const rng = new Rng(seed);
  const trainIdx: number[] = [];
  const valIdx: number[] = [];
  for (const label of [...byLabel.keys()].sort()) {
    const idx = rng.shuffle([...byLabel.get(label)!]);
    const nVal = Math.max(1, Math.round(idx.length * fraction));
    valIdx.push(...idx.slice(0, nVal));
    trainIdx.push(...idx.slice(nVal));
  }
  return { trainIdx: trainIdx.sort((a, b) => a - b), valIdx: valIdx.sort((a, b) => a - b) };
}
