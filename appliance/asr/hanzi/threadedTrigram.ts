/**
 * Reader of sunpinyin's threaded back-off n-gram model (CThreadSlm, lm_sc.t3g), over the file's
 * bytes: typed-array views, no object per node, so the 39 MB model loads in tens of ms and stays
 * the size of the file.
 *
 * Layout (little-endian, x86 bitfields fill from the low bit):
 *   u32 N, u32 useLogPr, u32 levelSize[N+1]          (each level ends with a sentinel node)
 *   f32 pr[65536], f32 bow[16384]                    (quantised values; probabilities or -ln)
 *   node[levelSize[0..N-1]], 12 bytes each:
 *     w0: wid:18 bow:14   w1: pr:16 childLo:16   w2: bon:23 bol:2 childHi:7
 *   leaf[levelSize[N]], 8 bytes each:
 *     w0: wid:18 prLo:14  w1: bon:23 bol:2 prHi:2
 * A node's children are the next level's [child(i), child(i+1)), sorted by word id. (bol, bon) is the
 * "thread": the back-off state to continue from when a word is not among the children, and the
 * history state a leaf (or a childless node) stands for.
 *
 * A state is one number: level * 2^24 + index (sunpinyin's TState packing).
 */
import { evxError } from '../../errors.js';

const BITS_PR = 16;
const BITS_BOW = 14;
const STATE_LEVEL = 0x100_0000;
/** Entries of the direct-mapped transfer cache (fixed size: 2^16 × 20 bytes = 1.3 MB). */
const CACHE_BITS = 16;
/** Word id sunpinyin treats as "not a word": transfers to the root at no cost. */
export const NOT_A_WORD_ID = 69;

export class ThreadedTrigram {
  /** Model order (3 for lm_sc.t3g). */
  readonly order: number;
  /** n-gram counts per order (sentinels excluded): [unigrams, bigrams, trigrams]. */
  readonly ngramCounts: number[];
  private readonly words: Uint32Array;
  private readonly lnPr = new Float64Array(1 << BITS_PR);
  private readonly lnBow = new Float64Array(1 << BITS_BOW);
  /** u32 index of each level's first node. */
  private readonly levelStart: number[] = [];
  private readonly levelSize: number[] = [];
  /** The state the last transfer() ended in (historified), so the hot path allocates nothing. */
  lastState = 0;
  // Direct-mapped cache of transfers: streaming partials re-search the same syllables on every
  // chunk and n-best hypotheses share most words, while a lookup in the 39 MB model misses the
  // CPU caches at every step of its binary search.
  private readonly cacheState = new Int32Array(1 << CACHE_BITS).fill(-1);
  private readonly cacheWid = new Int32Array(1 << CACHE_BITS);
  private readonly cacheNext = new Int32Array(1 << CACHE_BITS);
  private readonly cacheLnP = new Float64Array(1 << CACHE_BITS);

  private constructor(bytes: Uint8Array, file: string) {
    const corrupt = (why: string) =>
      evxError('EVX_ERR_ASR_HANZI_DATA', `language model ${file} is truncated or corrupt: ${why}`, { details: { file, reason: why } });
    if (bytes.byteLength < 8 || bytes.byteLength % 4 !== 0) throw corrupt(`size ${bytes.byteLength} is not a CThreadSlm file`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = view.getUint32(0, true);
    const useLogPr = view.getUint32(4, true);
    if (n < 1 || n > 7 || useLogPr > 1) throw corrupt(`header (order ${n}, useLogPr ${useLogPr}) is not a CThreadSlm header`);
    this.order = n;
    const headerBytes = 8 + 4 * (n + 1);
    if (bytes.byteLength < headerBytes) throw corrupt('the header is cut off');
    let nodes = 0;
    for (let l = 0; l <= n; l++) {
      const size = view.getUint32(8 + 4 * l, true);
      if (size < 1) throw corrupt(`level ${l} has no sentinel`);
      this.levelSize.push(size);
      if (l < n) nodes += size;
    }
    const prStart = headerBytes;
    const bowStart = prStart + 4 * (1 << BITS_PR);
    const nodeStart = bowStart + 4 * (1 << BITS_BOW);
    const expected = nodeStart + 12 * nodes + 8 * this.levelSize[n]!;
    if (bytes.byteLength !== expected) throw corrupt(`size ${bytes.byteLength} bytes, its header describes ${expected}`);

    for (let i = 0; i < 1 << BITS_PR; i++) {
      const v = view.getFloat32(prStart + 4 * i, true);
      this.lnPr[i] = useLogPr ? -v : Math.log(v);
    }
    for (let i = 0; i < 1 << BITS_BOW; i++) {
      const v = view.getFloat32(bowStart + 4 * i, true);
      this.lnBow[i] = useLogPr ? -v : Math.log(v);
    }
    // Nodes as u32 words; copy only when the buffer is not 4-byte aligned (readFileSync's is).
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
    this.words = new Uint32Array(aligned.buffer, aligned.byteOffset + nodeStart, (bytes.byteLength - nodeStart) / 4);
    let at = 0;
    for (let l = 0; l <= n; l++) {
      this.levelStart.push(at);
      at += (l < n ? 3 : 2) * this.levelSize[l]!;
    }
    this.ngramCounts = this.levelSize.slice(1).map((s) => s - 1);
    this.verify(corrupt);
  }

  /** Parse a CThreadSlm file's bytes (little-endian); throws EVX_ERR_ASR_HANZI_DATA when inconsistent. */
  static fromBytes(bytes: Uint8Array, file = 'lm_sc.t3g'): ThreadedTrigram {
    return new ThreadedTrigram(bytes, file);
  }

  /** Every child range inside the next level and ascending; every thread inside its level. */
  private verify(corrupt: (why: string) => Error): void {
    const w = this.words;
    const n = this.order;
    for (let l = 0; l < n; l++) {
      const base = this.levelStart[l]!;
      const size = this.levelSize[l]!;
      const below = this.levelSize[l + 1]!;
      let prev = 0;
      for (let i = 0; i < size; i++) {
        const w1 = w[base + 3 * i + 1]!;
        const w2 = w[base + 3 * i + 2]!;
        const ch = ((w2 >>> 25) << 16) | (w1 >>> 16);
        // the sentinel only ends its predecessor's range (the packer may leave it 0: an empty range)
        const sentinel = i === size - 1;
        if (ch > below || (!sentinel && ch < prev)) {
          throw corrupt(`level ${l} node ${i} has children at ${ch} (previous ${prev}, level ${l + 1} holds ${below})`);
        }
        prev = ch;
        if (l > 0 && i < size - 1) this.verifyThread(w2, l, i, corrupt);
      }
    }
    const leaves = this.levelStart[n]!;
    for (let i = 0; i < this.levelSize[n]! - 1; i++) this.verifyThread(w[leaves + 2 * i + 1]!, n, i, corrupt);
  }

  private verifyThread(word: number, level: number, i: number, corrupt: (why: string) => Error): void {
    const bol = (word >>> 23) & 3;
    const bon = word & 0x7f_ffff;
    if (bol >= level || bon >= this.levelSize[bol]!) throw corrupt(`level ${level} node ${i} backs off to (${bol}, ${bon})`);
  }

  /** The start state (the root, no history). */
  get rootState(): number {
    return 0;
  }

  /**
   * ln P(wid | state), backing off along the threads as sunpinyin does; the next (historified)
   * state is left in `lastState`.
   */
  transfer(state: number, wid: number): number {
    const slot = (Math.imul(state, 0x9e37_79b1) ^ Math.imul(wid, 0x85eb_ca6b)) >>> (32 - CACHE_BITS);
    if (this.cacheState[slot] === state && this.cacheWid[slot] === wid) {
      this.lastState = this.cacheNext[slot]!;
      return this.cacheLnP[slot]!;
    }
    const lnP = this.lookup(state, wid);
    this.cacheState[slot] = state;
    this.cacheWid[slot] = wid;
    this.cacheNext[slot] = this.lastState;
    this.cacheLnP[slot] = lnP;
    return lnP;
  }

  private lookup(state: number, wid: number): number {
    if (wid === NOT_A_WORD_ID) {
      this.lastState = 0;
      return 0;
    }
    const w = this.words;
    const n = this.order;
    let level = state >>> 24;
    let pos = level === 0 ? 0 : state & 0xff_ffff;
    let cost = 0;
    for (;;) {
      const node = this.levelStart[level]! + 3 * pos;
      const lo = childOf(w, node);
      const hi = childOf(w, node + 3);
      const childLevel = level + 1;
      const stride = childLevel < n ? 3 : 2;
      const base = this.levelStart[childLevel]!;
      // binary search of wid among the children (ascending word ids)
      let a = lo;
      let b = hi;
      while (a < b) {
        const m = (a + b) >>> 1;
        const id = w[base + stride * m]! & 0x3_ffff;
        if (id < wid) a = m + 1;
        else if (id > wid) b = m;
        else {
          const at = base + stride * m;
          const pr = stride === 3 ? w[at + 1]! & 0xffff : ((w[at + 1]! >>> 30) << 14) | (w[at]! >>> 18);
          this.lastState = this.historify(childLevel, m);
          return cost + this.lnPr[pr]!;
        }
      }
      cost += this.lnBow[w[node]! >>> 18]!;
      if (level === 0) break;
      const thread = w[node + 2]!;
      level = (thread >>> 23) & 3;
      pos = thread & 0x7f_ffff;
    }
    this.lastState = 0;
    return cost + this.lnPr[w[this.levelStart[0]! + 1]! & 0xffff]!;
  }

  /** ln P(wid) with no history (unigram, or the unknown-word probability). */
  unigram(wid: number): number {
    return this.transfer(0, wid);
  }

  /** A state as history: a leaf or a childless node stands for its thread. */
  private historify(level: number, i: number): number {
    const w = this.words;
    let thread: number;
    if (level >= this.order) {
      thread = w[this.levelStart[level]! + 2 * i + 1]!;
    } else {
      const node = this.levelStart[level]! + 3 * i;
      if (childOf(w, node) !== childOf(w, node + 3)) return level * STATE_LEVEL + i;
      thread = w[node + 2]!;
    }
    return ((thread >>> 23) & 3) * STATE_LEVEL + (thread & 0x7f_ffff);
  }
}

function childOf(w: Uint32Array, node: number): number {
  return ((w[node + 2]! >>> 25) << 16) | (w[node + 1]! >>> 16);
}
