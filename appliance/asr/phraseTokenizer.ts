/**
 * Text → model tokens, for hotwords and keywords (decoding itself never needs this).
 *
 * With the model's SentencePiece `bpe.model` we read its pieces and scores from the protobuf
 * (ModelProto.pieces = 1: {piece = 1, score = 2, type = 3}; trainer_spec = 2: {model_type = 3})
 * and segment each word with the unigram Viterbi algorithm (best total piece score), which is
 * what SentencePiece does for unigram models. Only pieces present in tokens.txt are used. Without
 * a bpe.model (or for a BPE-type model) we fall back to greedy longest match over tokens.txt.
 * When tokens.txt holds tonal pinyin units (initials and tone-marked finals, as the Mandarin model's)
 * phrases are spelled in pinyin instead (`pinyinSpelling.ts`): 交易 → `j iāo y ì`.
 *
 * A spelling only uses symbols the network can emit: ids below `outputSize` (the joiner's output
 * width, when known) and never graph-only symbols (`<...>`, lexicon disambiguation `#0`, `#1`, ...).
 */
import { readFileSync } from 'node:fs';
import { evxError } from '../errors.js';
import { PinyinSpeller } from './pinyinSpelling.js';
import { isPinyinTokenSet } from './pinyinSyllables.js';
import { pbFields, pbFloat, pbString } from './protobuf.js';
import { WORD_START, type TokenTable } from './tokens.js';

const PIECE_NORMAL = 1;
const MODEL_TYPE_UNIGRAM = 1;

export class PhraseTokenizer {
  private readonly tokens: TokenTable;
  /** piece → score, for pieces usable in Viterbi (normal pieces present in tokens.txt). */
  private readonly scores: Map<string, number> | undefined;
  private readonly maxPieceLength: number;
  private readonly pinyin: PinyinSpeller | undefined;
  private readonly outputSize: number;
  readonly method: 'unigram-viterbi' | 'longest-match' | 'pinyin';

  /** `outputSize`: the joiner's number of output classes; symbols with larger ids are never used. */
  constructor(tokens: TokenTable, bpeModelPath?: string, options: { outputSize?: number | undefined } = {}) {
    this.tokens = tokens;
    this.outputSize = options.outputSize ?? tokens.size;
    let scores: Map<string, number> | undefined;
    if (bpeModelPath !== undefined) scores = readUnigramScores(bpeModelPath, tokens);
    this.scores = scores;
    this.pinyin = scores === undefined && isPinyinTokenSet(tokens) ? new PinyinSpeller(tokens, (s) => this.usable(s)) : undefined;
    this.method = scores !== undefined ? 'unigram-viterbi' : this.pinyin !== undefined ? 'pinyin' : 'longest-match';
    this.maxPieceLength = Math.max(...tokens.symbols.map((s) => s.length));
  }

  /** Tokenize a phrase. Pinyin models: characters or pinyin; otherwise words are upper-cased (the vocabulary is upper case). */
  encode(phrase: string): number[] {
    if (this.pinyin !== undefined) {
      const r = this.pinyin.spell(phrase);
      if ('failure' in r) {
        throw evxError('EVX_ERR_ASR_PHRASE', `a phrase cannot be spelled with the model's pinyin tokens (${r.failure})`, {
          details: { reason: r.failure, length: phrase.length },
        });
      }
      return r.pieces.map((p) => this.tokens.id(p)!);
    }
    const words = phrase
      .toUpperCase()
      .split(/\s+/)
      .filter((w) => w.length > 0);
    if (words.length === 0) throw evxError('EVX_ERR_ASR_PHRASE', 'empty phrase');
    const out: number[] = [];
    for (const w of words) {
      const pieces = this.scores !== undefined ? this.viterbi(WORD_START + w) : this.longestMatch(WORD_START + w);
      if (pieces === undefined) {
        throw evxError('EVX_ERR_ASR_PHRASE', `a word of a phrase cannot be spelled with the model's tokens`, {
          details: { length: w.length },
        });
      }
      for (const p of pieces) out.push(this.tokens.id(p)!);
    }
    return out;
  }

  private viterbi(text: string): string[] | undefined {
    const scores = this.scores!;
    const n = text.length;
    const best = new Float64Array(n + 1).fill(-Infinity);
    const back = new Int32Array(n + 1).fill(-1);
    best[0] = 0;
    for (let end = 1; end <= n; end++) {
      for (let start = Math.max(0, end - this.maxPieceLength); start < end; start++) {
        if (best[start] === -Infinity) continue;
        const s = scores.get(text.slice(start, end));
        if (s === undefined) continue;
        const v = best[start]! + s;
        if (v > best[end]!) {
          best[end] = v;
          back[end] = start;
        }
      }
    }
    if (best[n] === -Infinity) return undefined;
    const pieces: string[] = [];
    for (let end = n; end > 0; end = back[end]!) pieces.unshift(text.slice(back[end], end));
    return pieces;
  }

  private longestMatch(text: string): string[] | undefined {
    const pieces: string[] = [];
    let pos = 0;
    while (pos < text.length) {
      let found = '';
      for (let len = Math.min(this.maxPieceLength, text.length - pos); len > 0; len--) {
        const cand = text.slice(pos, pos + len);
        if (this.usable(cand)) {
          found = cand;
          break;
        }
      }
      if (found === '') return undefined;
      pieces.push(found);
      pos += found.length;
    }
    return pieces;
  }

  /** A symbol the network emits: below the joiner's output size and not graph-only. */
  private usable(symbol: string): boolean {
    const id = this.tokens.id(symbol);
    return id !== undefined && id < this.outputSize && !symbol.startsWith('<') && !/^#\d+$/.test(symbol);
  }
}

function readUnigramScores(path: string, tokens: TokenTable): Map<string, number> | undefined {
  let buf: Uint8Array;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw evxError('EVX_ERR_MODEL_LOAD', `cannot read ${path}`, { cause: err, details: { path } });
  }
  const scores = new Map<string, number>();
  let modelType = MODEL_TYPE_UNIGRAM;
  try {
    for (const f of pbFields(buf)) {
      if (f.field === 1 && f.wireType === 2) {
        let piece = '';
        let score = 0;
        let type = PIECE_NORMAL;
        for (const g of pbFields(f.bytes)) {
          if (g.field === 1) piece = pbString(g.bytes);
          else if (g.field === 2 && g.wireType === 5) score = pbFloat(g.bytes);
          else if (g.field === 3) type = g.varint;
        }
        if (type === PIECE_NORMAL && tokens.id(piece) !== undefined) scores.set(piece, score);
      } else if (f.field === 2 && f.wireType === 2) {
        for (const g of pbFields(f.bytes)) if (g.field === 3 && g.wireType === 0) modelType = g.varint;
      }
    }
  } catch (err) {
    throw evxError('EVX_ERR_MODEL_LOAD', `${path} is not a SentencePiece model`, { cause: err, details: { path } });
  }
  return modelType === MODEL_TYPE_UNIGRAM && scores.size > 0 ? scores : undefined;
}
