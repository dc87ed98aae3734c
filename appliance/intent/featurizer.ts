/**
 * Hashed n-gram featurizer for the intent model (the same code runs at training and at run time).
 *
 * An utterance becomes a sparse bag of hashed features: word n-grams (with sentence boundary
 * markers) and character n-grams inside each word (fastText style, "<word>"). Features are hashed
 * with 32-bit FNV-1a into `hashDim` buckets; the output is the sorted list of distinct bucket ids
 * with their raw counts. TF-IDF weighting and L2 normalisation happen inside the ONNX graph, so
 * every learned number lives in the model file and this module holds only the tokenisation.
 */
import { evxError } from '../errors.js';
import { normalizeText } from './normalize.js';
import { normalizeChineseText } from './normalizeZh.js';

export type IntentFeaturizerScheme = 'edgevox-intent-hash-v1' | 'edgevox-intent-hash-zh-v1';

const NORMALIZERS: Record<IntentFeaturizerScheme, (text: string) => string> = {
  'edgevox-intent-hash-v1': normalizeText,
  'edgevox-intent-hash-zh-v1': normalizeChineseText,
};

export interface IntentFeaturizerConfig {
  /**
   * Name of the normalisation + tokenisation scheme; the runtime refuses an unknown one.
   * `edgevox-intent-hash-v1`: English (normalize.ts, words split on spaces).
   * `edgevox-intent-hash-zh-v1`: Chinese (normalizeZh.ts; a "word" is a segment between
   * punctuation, so character n-grams run over whole phrases; use wordNgrams [0, 0]).
   */
  readonly scheme: IntentFeaturizerScheme;
  /** Number of hash buckets (the model's input vocabulary size). */
  readonly hashDim: number;
  /** Word n-gram orders, inclusive, e.g. [1, 2]. */
  readonly wordNgrams: readonly [number, number];
  /** Character n-gram lengths inside "<word>", inclusive, e.g. [2, 5]; [0, 0] disables them. */
  readonly charNgrams: readonly [number, number];
}

/** Longest normalised utterance considered; longer text is cut (bounds the feature buffers). */
export const MAX_NORMALIZED_CHARS = 2000;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const WORD_SEED = fnvStep(FNV_OFFSET, 0x77); // 'w'
const CHAR_SEED = fnvStep(FNV_OFFSET, 0x63); // 'c'
const BOS = 0x02;
const EOS = 0x03;
const SPACE = 0x20;

function fnvStep(h: number, code: number): number {
  return Math.imul(h ^ code, FNV_PRIME) >>> 0;
}

export interface SparseFeatures {
  /** Distinct bucket ids, ascending. Only the first `length` entries are valid. */
  readonly ids: BigInt64Array;
  /** Raw occurrence counts of each id. Only the first `length` entries are valid. */
  readonly counts: Float32Array;
  readonly length: number;
  /** The normalised text the features came from. */
  readonly normalized: string;
}

export function validateFeaturizerConfig(raw: unknown): IntentFeaturizerConfig {
  const c = raw as Partial<IntentFeaturizerConfig> | null;
  const pair = (v: unknown): v is [number, number] =>
    Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x) && x >= 0) && v[0] <= v[1];
  if (
    c === null ||
    typeof c !== 'object' ||
    typeof c.scheme !== 'string' ||
    !Object.hasOwn(NORMALIZERS, c.scheme) ||
    !Number.isInteger(c.hashDim) ||
    (c.hashDim ?? 0) < 2 ||
    !pair(c.wordNgrams) ||
    !pair(c.charNgrams)
  ) {
    throw evxError('EVX_ERR_MODEL_CONTRACT', 'intent featurizer config is missing or malformed', {
      details: { scheme: c?.scheme },
    });
  }
  return { scheme: c.scheme, hashDim: c.hashDim!, wordNgrams: c.wordNgrams, charNgrams: c.charNgrams };
}

/** Turns text into hashed sparse features; reuses its buffers, so one instance per caller thread. */
export class IntentFeaturizer {
  readonly config: IntentFeaturizerConfig;
  private readonly raw: Uint32Array;
  private readonly ids: BigInt64Array;
  private readonly counts: Float32Array;
  private readonly normalize: (text: string) => string;

  constructor(config: IntentFeaturizerConfig) {
    this.config = validateFeaturizerConfig(config);
    this.normalize = NORMALIZERS[this.config.scheme];
    const [w0, w1] = config.wordNgrams;
    const [c0, c1] = config.charNgrams;
    const maxWords = MAX_NORMALIZED_CHARS / 2 + 2;
    // Upper bound on emitted features: word n-grams plus char n-grams per character position.
    const capacity = maxWords * (w1 - w0 + 1 + 2) + (MAX_NORMALIZED_CHARS + 2 * maxWords) * (c1 - c0 + 1) + 16;
    this.raw = new Uint32Array(capacity);
    this.ids = new BigInt64Array(capacity);
    this.counts = new Float32Array(capacity);
  }

  /** Normalise and featurize `text`. The returned arrays are reused by the next call. */
  featurize(text: string): SparseFeatures {
    const normalized = this.normalize(text).slice(0, MAX_NORMALIZED_CHARS).trim();
    if (normalized.length === 0) return { ids: this.ids, counts: this.counts, length: 0, normalized };
    const words = normalized.split(' ');
    const dim = this.config.hashDim;
    let n = 0;
    const raw = this.raw;

    const [w0, w1] = this.config.wordNgrams;
    if (w1 > 0) {
      // Sequence with boundary markers: <s> w1 ... wk </s>; unigrams skip the markers.
      const seq: number[] = [-1];
      for (let i = 0; i < words.length; i++) seq.push(i);
      seq.push(-2);
      for (let order = Math.max(1, w0); order <= w1; order++) {
        for (let start = 0; start + order <= seq.length; start++) {
          if (order === 1 && seq[start]! < 0) continue;
          let h = WORD_SEED;
          for (let k = 0; k < order; k++) {
            const tok = seq[start + k]!;
            if (k > 0) h = fnvStep(h, SPACE);
            if (tok === -1) h = fnvStep(h, BOS);
            else if (tok === -2) h = fnvStep(h, EOS);
            else h = hashInto(h, words[tok]!);
          }
          h = fnvStep(h, 0x30 + order);
          raw[n++] = h % dim;
        }
      }
    }

    const [c0, c1] = this.config.charNgrams;
    if (c1 > 0) {
      for (const w of words) {
        const len = w.length + 2; // "<" + w + ">"
        for (let start = 0; start < len; start++) {
          let h = CHAR_SEED;
          for (let k = 0; start + k < len && k < c1; k++) {
            const pos = start + k;
            const code = pos === 0 ? 0x3c : pos === len - 1 ? 0x3e : w.charCodeAt(pos - 1);
            h = fnvStep(h, code);
            if (k + 1 >= c0) {
              // Skip the bare "<" and ">" 1-grams; they carry no information.
              if (k === 0 && (pos === 0 || pos === len - 1)) continue;
              raw[n++] = h % dim;
            }
          }
        }
      }
    }

    const sorted = raw.subarray(0, n).sort();
    let m = 0;
    let last = -1;
    for (let i = 0; i < n; i++) {
      const id = sorted[i]!;
      if (id === last) this.counts[m - 1] = this.counts[m - 1]! + 1;
      else {
        this.ids[m] = BigInt(id);
        this.counts[m] = 1;
        last = id;
        m++;
      }
    }
    return { ids: this.ids, counts: this.counts, length: m, normalized };
  }
}

function hashInto(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = fnvStep(h, s.charCodeAt(i));
  return h;
}
