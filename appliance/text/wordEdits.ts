/**
 * Word-level edit distance (Levenshtein over tokens) with its breakdown into substitutions,
 * deletions and insertions: the one implementation behind WER scoring, the console self-test and
 * the QA phrase matcher.
 */

/** The fewest word edits that turn a reference into a hypothesis. */
export interface WordEdits {
  /** Reference words replaced by another word. */
  readonly substitutions: number;
  /** Reference words missing from the hypothesis. */
  readonly deletions: number;
  /** Hypothesis words that are not in the reference. */
  readonly insertions: number;
  /** substitutions + deletions + insertions: the edit distance. */
  readonly total: number;
}

// Two DP rows (cost, substitutions, deletions; insertions = cost - the other two), kept between
// calls: the QA matcher aligns a phrase against many windows of a transcript, and the function
// runs to completion synchronously, so one set of rows serves every caller.
let capacity = 0;
let prevCost = new Int32Array(0);
let prevSubs = new Int32Array(0);
let prevDels = new Int32Array(0);
let curCost = new Int32Array(0);
let curSubs = new Int32Array(0);
let curDels = new Int32Array(0);

function ensureRows(width: number): void {
  if (width <= capacity) return;
  capacity = Math.max(width, 2 * capacity, 64);
  prevCost = new Int32Array(capacity);
  prevSubs = new Int32Array(capacity);
  prevDels = new Int32Array(capacity);
  curCost = new Int32Array(capacity);
  curSubs = new Int32Array(capacity);
  curDels = new Int32Array(capacity);
}

/**
 * Align `reference` with `hypothesis[start, start + length)` (the whole hypothesis by default).
 * Among equally short alignments the counts follow the classic backtrace preference from the end:
 * match/substitution, then deletion, then insertion (the tie-break the published WER figures used).
 */
export function countWordEdits(
  reference: readonly string[],
  hypothesis: readonly string[],
  start = 0,
  length: number = hypothesis.length - start,
): WordEdits {
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > hypothesis.length) {
    throw new RangeError(`hypothesis window [${start}, ${start + length}) is outside its ${hypothesis.length} words`);
  }
  const m = length;
  ensureRows(m + 1);
  let pCost = prevCost;
  let pSubs = prevSubs;
  let pDels = prevDels;
  let cCost = curCost;
  let cSubs = curSubs;
  let cDels = curDels;
  // Empty reference: every hypothesis word is an insertion.
  for (let j = 0; j <= m; j++) {
    pCost[j] = j;
    pSubs[j] = 0;
    pDels[j] = 0;
  }
  for (let i = 1; i <= reference.length; i++) {
    const word = reference[i - 1];
    // Empty hypothesis: every reference word so far is a deletion.
    cCost[0] = i;
    cSubs[0] = 0;
    cDels[0] = i;
    for (let j = 1; j <= m; j++) {
      const differs = word === hypothesis[start + j - 1] ? 0 : 1;
      const diagonal = pCost[j - 1]! + differs;
      const deletion = pCost[j]! + 1;
      const insertion = cCost[j - 1]! + 1;
      if (diagonal <= deletion && diagonal <= insertion) {
        cCost[j] = diagonal;
        cSubs[j] = pSubs[j - 1]! + differs;
        cDels[j] = pDels[j - 1]!;
      } else if (deletion <= insertion) {
        cCost[j] = deletion;
        cSubs[j] = pSubs[j]!;
        cDels[j] = pDels[j]! + 1;
      } else {
        cCost[j] = insertion;
        cSubs[j] = cSubs[j - 1]!;
        cDels[j] = cDels[j - 1]!;
      }
    }
    [pCost, cCost] = [cCost, pCost];
    [pSubs, cSubs] = [cSubs, pSubs];
    [pDels, cDels] = [cDels, pDels];
  }
  const total = pCost[m]!;
  const substitutions = pSubs[m]!;
  const deletions = pDels[m]!;
  return { substitutions, deletions, insertions: total - substitutions - deletions, total };
}
