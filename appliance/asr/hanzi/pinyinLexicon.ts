/**
 * Reader of sunpinyin's pinyin lexicon trie (CPinyinTrie, pydict_sc.bin), over the file's bytes.
 *
 * Layout (little-endian u32 words, x86 bitfields fill from the low bit):
 *   u32 wordCount, u32 nodeCount, u32 stringOffset; the root node at byte 12.
 *   node: u32 nWords:12 nTransfers:12 csLevel:2 fullSyllable:1 other:5
 *         nTransfers × { u32 syllableId, u32 childByteOffset }   (ascending syllable id)
 *         nWords × u32 { id:24 csLevel:2 cost:5 seen:1 }        (most likely first)
 *   from stringOffset: wordCount zero-terminated UCS-4 strings, word id = index.
 * csLevel 0 is GB2312 (simplified Chinese); higher levels are GBK / traditional characters.
 * Word ids are shared with the language model (lm_sc.t3g).
 */
import { evxError } from '../../errors.js';

const ROOT = 12;

/** One word entry of a trie node, unpacked. */
export interface LexiconEntry {
  readonly id: number;
  /** 0 = GB2312 (simplified); 1+ = GBK and beyond. */
  readonly csLevel: number;
  /** Rank cost within the node: sunpinyin scales a word by 2^-cost. */
  readonly cost: number;
  /** Seen in the language model's training text. */
  readonly seen: boolean;
}

export class PinyinLexicon {
  readonly wordCount: number;
  private readonly u32: Uint32Array;
  /** u32 index of each word's first character. */
  private readonly wordStart: Uint32Array;

  private constructor(bytes: Uint8Array, file: string) {
    const corrupt = (why: string) =>
      evxError('EVX_ERR_ASR_HANZI_DATA', `pinyin lexicon ${file} is truncated or corrupt: ${why}`, { details: { file, reason: why } });
    if (bytes.byteLength < ROOT + 4 || bytes.byteLength % 4 !== 0) throw corrupt(`size ${bytes.byteLength} is not a CPinyinTrie file`);
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
    this.u32 = new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
    const u = this.u32;
    this.wordCount = u[0]!;
    const nodeCount = u[1]!;
    const stringOffset = u[2]!;
    if (stringOffset % 4 !== 0 || stringOffset <= ROOT || stringOffset > bytes.byteLength) {
      throw corrupt(`string table offset ${stringOffset} is outside the file (${bytes.byteLength} bytes)`);
    }
    // Walk the whole trie once (a DAG: abbreviated-syllable transitions share nodes): every node and
    // transfer inside the node area, every word id known.
    const seen = new Uint8Array(stringOffset / 4);
    const stack = [ROOT];
    let visited = 0;
    while (stack.length > 0) {
      const at = stack.pop()!;
      if (seen[at / 4] === 1) continue;
      seen[at / 4] = 1;
      visited++;
      const head = u[at / 4]!;
      const nWords = head & 0xfff;
      const nTrans = (head >>> 12) & 0xfff;
      const end = at + 4 + 8 * nTrans + 4 * nWords;
      if (end > stringOffset) throw corrupt(`node at ${at} runs past the node area`);
      for (let t = 0; t < nTrans; t++) {
        const child = u[at / 4 + 1 + 2 * t + 1]!;
        if (child % 4 !== 0 || child < ROOT + 4 || child >= stringOffset) throw corrupt(`node at ${at} points to ${child}`);
        stack.push(child);
      }
      for (let k = 0; k < nWords; k++) {
        const id = u[(end - 4 * nWords) / 4 + k]! & 0xff_ffff;
        if (id >= this.wordCount) throw corrupt(`node at ${at} names word ${id} of ${this.wordCount}`);
      }
    }
    // the packer may leave a few unreachable nodes: more reachable than counted is the corruption
    if (visited > nodeCount) throw corrupt(`the trie has ${visited} nodes, its header says ${nodeCount}`);
    // The string table: wordCount zero-terminated UCS-4 strings filling the rest of the file.
    this.wordStart = new Uint32Array(this.wordCount + 1);
    let w = 0;
    let start = stringOffset / 4;
    for (let i = start; i < u.length && w < this.wordCount; i++) {
      const c = u[i]!;
      if (c > 0x10_ffff) throw corrupt(`character ${c} at ${4 * i} is not Unicode`);
      if (c === 0) {
        this.wordStart[w++] = start;
        start = i + 1;
      }
    }
    if (w !== this.wordCount) throw corrupt(`the string table holds ${w} words, the header says ${this.wordCount}`);
    this.wordStart[w] = start;
  }

  /** Parse a CPinyinTrie file's bytes; throws EVX_ERR_ASR_HANZI_DATA when inconsistent. */
  static fromBytes(bytes: Uint8Array, file = 'pydict_sc.bin'): PinyinLexicon {
    return new PinyinLexicon(bytes, file);
  }

  /** The root node (no syllable yet). */
  get root(): number {
    return ROOT;
  }

  /** The node reached from `node` by a toneless syllable id; 0 when none. */
  child(node: number, syllable: number): number {
    const u = this.u32;
    const base = node / 4 + 1;
    let a = 0;
    let b = (u[node / 4]! >>> 12) & 0xfff;
    while (a < b) {
      const m = (a + b) >>> 1;
      const s = u[base + 2 * m]!;
      if (s < syllable) a = m + 1;
      else if (s > syllable) b = m;
      else return u[base + 2 * m + 1]!;
    }
    return 0;
  }

  /** Number of words spelled exactly by the path to `node`. */
  wordCountAt(node: number): number {
    return this.u32[node / 4]! & 0xfff;
  }

  /** The k-th word of `node` (most likely first), as its packed u32; unpack with entryOf. */
  packedEntry(node: number, k: number): number {
    const head = this.u32[node / 4]!;
    return this.u32[node / 4 + 1 + 2 * ((head >>> 12) & 0xfff) + k]!;
  }

  /** The k-th word of `node`, unpacked. */
  entry(node: number, k: number): LexiconEntry {
    return entryOf(this.packedEntry(node, k));
  }

  /** The text of a word id. */
  word(id: number): string {
    const from = this.wordStart[id]!;
    const to = this.wordStart[id + 1]! - 1;
    let s = '';
    for (let i = from; i < to; i++) s += String.fromCodePoint(this.u32[i]!);
    return s;
  }
}

/** Unpack a word entry. */
export function entryOf(packed: number): LexiconEntry {
  return { id: packed & 0xff_ffff, csLevel: (packed >>> 24) & 3, cost: (packed >>> 26) & 31, seen: packed >>> 31 === 1 };
}
