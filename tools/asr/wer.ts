import { countWordEdits } from '../../appliance/text/wordEdits.js';

/** Word error rate with the model card's scoring: lower case, everything but a-z 0-9 ' becomes a space. */
export function normalizeForWer(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9']+/g, ' ')
    .trim()
    .split(' ')
    .filter((w) => w.length > 0);
}

export interface WerCounts {
  readonly words: number;
  readonly subs: number;
  readonly dels: number;
  readonly ins: number;
}

/** WER counts of a hypothesis against its reference (the alignment is countWordEdits'). */
export function werCounts(ref: readonly string[], hyp: readonly string[]): WerCounts {
  const e = countWordEdits(ref, hyp);
  return { words: ref.length, subs: e.substitutions, dels: e.deletions, ins: e.insertions };
}

export function addCounts(a: WerCounts, b: WerCounts): WerCounts {
  return { words: a.words + b.words, subs: a.subs + b.subs, dels: a.dels + b.dels, ins: a.ins + b.ins };
}

export function werLine(c: WerCounts, utterances: number): string {
  const pct = c.words === 0 ? 0 : (100 * (c.subs + c.dels + c.ins)) / c.words;
  return `WER ${pct.toFixed(2)}% over ${utterances} utterances (${c.subs} subs, ${c.dels} dels, ${c.ins} ins)`;
}
