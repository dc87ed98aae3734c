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

/** Levenshtein alignment counts between reference and hypothesis word lists. */
export function werCounts(ref: readonly string[], hyp: readonly string[]): WerCounts {
  const n = ref.length;
  const m = hyp.length;
  // cost, then subs/dels/ins along the best path
  const cost = new Int32Array((n + 1) * (m + 1));
  const w = m + 1;
  for (let i = 0; i <= n; i++) cost[i * w] = i;
  for (let j = 0; j <= m; j++) cost[j] = j;
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      const sub = cost[(i - 1) * w + j - 1]! + (ref[i - 1] === hyp[j - 1] ? 0 : 1);
      cost[i * w + j] = Math.min(sub, cost[(i - 1) * w + j]! + 1, cost[i * w + j - 1]! + 1);
    }
  }
  let i = n;
  let j = m;
  let subs = 0;
  let dels = 0;
  let ins = 0;
  while (i > 0 || j > 0) {
    if (i > 0 && j > 0 && cost[i * w + j] === cost[(i - 1) * w + j - 1]! + (ref[i - 1] === hyp[j - 1] ? 0 : 1)) {
      if (ref[i - 1] !== hyp[j - 1]) subs++;
      i--;
      j--;
    } else if (i > 0 && cost[i * w + j] === cost[(i - 1) * w + j]! + 1) {
      dels++;
      i--;
    } else {
      ins++;
      j--;
    }
  }
  return { words: n, subs, dels, ins };
}

export function addCounts(a: WerCounts, b: WerCounts): WerCounts {
  return { words: a.words + b.words, subs: a.subs + b.subs, dels: a.dels + b.dels, ins: a.ins + b.ins };
}

export function werLine(c: WerCounts, utterances: number): string {
  const pct = c.words === 0 ? 0 : (100 * (c.subs + c.dels + c.ins)) / c.words;
  return `WER ${pct.toFixed(2)}% over ${utterances} utterances (${c.subs} subs, ${c.dels} dels, ${c.ins} ins)`;
}
