/**
 * The readers of sunpinyin's binary formats on small files built here byte by byte: a bigram
 * CThreadSlm (probabilities, back-off along the threads, history of a childless word) and a
 * three-node CPinyinTrie; and every kind of damage refused with EVX_ERR_ASR_HANZI_DATA.
 */
import { describe, expect, it } from 'vitest';
import { isEdgeVoxError } from '../../../../appliance/errors.js';
import { PinyinLexicon } from '../../../../appliance/asr/hanzi/pinyinLexicon.js';
import { syllableId } from '../../../../appliance/asr/hanzi/syllable.js';
import { ThreadedTrigram } from '../../../../appliance/asr/hanzi/threadedTrigram.js';

const A = 100;
const B = 101;
const PR = [0.5, 0.25, 0.1, 0.01];
const BOW = [1, 0.5];

interface TinyNode {
  wid: number;
  bow: number;
  pr: number;
  child: number;
  bol: number;
  bon: number;
}

/**
 * A bigram model: root (unknown word 0.01, back-off 0.5) → A (0.25), B (0.1); A → B (0.5).
 * B has no children, so after B the history is the root.
 */
function tinyModel(patch: (nodes: TinyNode[][]) => void = () => {}): Uint8Array {
  const levels: TinyNode[][] = [
    [
      { wid: 0, bow: 1, pr: 3, child: 0, bol: 0, bon: 0 },
      { wid: 0, bow: 0, pr: 0, child: 2, bol: 0, bon: 0 }, // sentinel: end of the root's children
    ],
    [
      { wid: A, bow: 1, pr: 1, child: 0, bol: 0, bon: 0 },
      { wid: B, bow: 1, pr: 2, child: 1, bol: 0, bon: 0 },
      { wid: 0, bow: 0, pr: 0, child: 1, bol: 0, bon: 0 },
    ],
    [
      { wid: B, bow: 0, pr: 0, child: 0, bol: 1, bon: 1 }, // A B: history (B) = level 1 node 1
      { wid: 0, bow: 0, pr: 0, child: 0, bol: 0, bon: 0 },
    ],
  ];
  patch(levels);
  const n = 2;
  const header = 8 + 4 * (n + 1);
  const size = header + 4 * 65536 + 4 * 16384 + 12 * (levels[0]!.length + levels[1]!.length) + 8 * levels[2]!.length;
  const buf = Buffer.alloc(size);
  buf.writeUInt32LE(n, 0);
  buf.writeUInt32LE(0, 4);
  levels.forEach((l, i) => buf.writeUInt32LE(l.length, 8 + 4 * i));
  for (let i = 0; i < 65536; i++) buf.writeFloatLE(PR[i] ?? 1, header + 4 * i);
  for (let i = 0; i < 16384; i++) buf.writeFloatLE(BOW[i] ?? 1, header + 4 * 65536 + 4 * i);
  let at = header + 4 * 65536 + 4 * 16384;
  for (const l of levels.slice(0, n)) {
    for (const x of l) {
      buf.writeUInt32LE((x.wid | (x.bow << 18)) >>> 0, at);
      buf.writeUInt32LE((x.pr | ((x.child & 0xffff) << 16)) >>> 0, at + 4);
      buf.writeUInt32LE((x.bon | (x.bol << 23) | ((x.child >>> 16) << 25)) >>> 0, at + 8);
      at += 12;
    }
  }
  for (const x of levels[n]!) {
    buf.writeUInt32LE((x.wid | ((x.pr & 0x3fff) << 18)) >>> 0, at);
    buf.writeUInt32LE((x.bon | (x.bol << 23) | ((x.pr >>> 14) << 30)) >>> 0, at + 4);
    at += 8;
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function expectCorrupt(f: () => unknown, what: RegExp): void {
  try {
    f();
  } catch (err) {
    expect(isEdgeVoxError(err, 'EVX_ERR_ASR_HANZI_DATA')).toBe(true);
    expect((err as Error).message).toMatch(/truncated or corrupt/);
    expect((err as Error).message).toMatch(what);
    return;
  }
  throw new Error('expected EVX_ERR_ASR_HANZI_DATA');
}

describe('ThreadedTrigram (CThreadSlm reader)', () => {
  const lm = ThreadedTrigram.fromBytes(tinyModel());

  it('reads the header and the n-gram counts without sentinels', () => {
    expect(lm.order).toBe(2);
    expect(lm.ngramCounts).toEqual([2, 1]);
  });

  it('gives unigram, bigram and backed-off probabilities as sunpinyin does', () => {
    expect(lm.transfer(lm.rootState, A)).toBeCloseTo(Math.log(0.25), 6);
    const afterA = lm.lastState;
    expect(lm.transfer(afterA, B)).toBeCloseTo(Math.log(0.5), 6); // the bigram A B
    expect(lm.transfer(afterA, A)).toBeCloseTo(Math.log(0.5 * 0.25), 6); // back-off weight of A × P(A)
    expect(lm.transfer(afterA, 999)).toBeCloseTo(Math.log(0.5 * 0.5 * 0.01), 6); // A's, then the root's back-off × unknown
    expect(lm.unigram(999)).toBeCloseTo(Math.log(0.5 * 0.01), 6);
  });

  it('moves to the thread when a state has no children (B → root) and after a leaf (A B → history B)', () => {
    lm.transfer(lm.rootState, B);
    expect(lm.lastState).toBe(lm.rootState);
    lm.transfer(lm.rootState, A);
    lm.transfer(lm.lastState, B);
    expect(lm.lastState).not.toBe(lm.rootState);
    expect(lm.transfer(lm.lastState, A)).toBeCloseTo(Math.log(0.5 * 0.25), 6); // B's back-off weight × P(A)
  });

  it('answers the same from its transfer cache', () => {
    for (let r = 0; r < 3; r++) {
      lm.transfer(lm.rootState, A);
      expect(lm.transfer(lm.lastState, B)).toBeCloseTo(Math.log(0.5), 6);
    }
  });

  it('refuses a truncated file, a bad header, children outside the next level, a thread outside its level', () => {
    const good = tinyModel();
    expectCorrupt(() => ThreadedTrigram.fromBytes(good.subarray(0, good.length - 8)), /header describes/);
    expectCorrupt(() => ThreadedTrigram.fromBytes(good.subarray(0, 6)), /not a CThreadSlm file/);
    const badOrder = Uint8Array.from(good);
    badOrder[0] = 40;
    expectCorrupt(() => ThreadedTrigram.fromBytes(badOrder), /header/);
    expectCorrupt(
      () =>
        ThreadedTrigram.fromBytes(
          tinyModel((l) => {
            l[1]![1]!.child = 7;
          }),
        ),
      /children at 7/,
    );
    expectCorrupt(
      () =>
        ThreadedTrigram.fromBytes(
          tinyModel((l) => {
            l[2]![0]!.bon = 9;
          }),
        ),
      /backs off to \(1, 9\)/,
    );
  });
});

/** A lexicon: jiao → 交 (id 2), jiao'yi → 交易 (id 3), and a GBK-only 較 (id 4). */
function tinyLexicon(patch: (u: Uint32Array) => void = () => {}): Uint8Array {
  const jiao = syllableId('jiao');
  const yi = syllableId('yi');
  const node = (nWords: number, nTrans: number) => nWords | (nTrans << 12);
  const words = ['', '', '交', '交易', '較'];
  const u: number[] = [words.length, 3, 0];
  // root at byte 12: one transfer
  u.push(node(0, 1), jiao, 24);
  // byte 24: jiao: one transfer, two words (交 simplified, 較 GBK)
  u.push(node(2, 1), yi, 44, 2 | (1 << 31), 4 | (1 << 24) | (1 << 31));
  // byte 44: jiao'yi: one word
  u.push(node(1, 0), 3 | (1 << 31));
  u[2] = 4 * u.length;
  for (const w of words) u.push(...[...w].map((c) => c.codePointAt(0)!), 0);
  const arr = Uint32Array.from(u);
  patch(arr);
  return new Uint8Array(arr.buffer);
}

describe('PinyinLexicon (CPinyinTrie reader)', () => {
  const lex = PinyinLexicon.fromBytes(tinyLexicon());

  it('walks syllables to the words they spell, with their unpacked entries', () => {
    const jiao = lex.child(lex.root, syllableId('jiao'));
    expect(jiao).toBe(24);
    expect(lex.wordCountAt(jiao)).toBe(2);
    expect(lex.entry(jiao, 0)).toEqual({ id: 2, csLevel: 0, cost: 0, seen: true });
    expect(lex.entry(jiao, 1)).toEqual({ id: 4, csLevel: 1, cost: 0, seen: true });
    const jiaoyi = lex.child(jiao, syllableId('yi'));
    expect(lex.word(lex.entry(jiaoyi, 0).id)).toBe('交易');
    expect(lex.child(lex.root, syllableId('yi'))).toBe(0);
    expect(lex.word(4)).toBe('較');
    expect(lex.wordCount).toBe(5);
  });

  it('refuses a truncated string table, a pointer out of the node area, an unknown word id', () => {
    const good = tinyLexicon();
    expectCorrupt(() => PinyinLexicon.fromBytes(good.subarray(0, good.length - 4)), /string table holds 4 words/);
    expectCorrupt(() => PinyinLexicon.fromBytes(good.subarray(0, 10)), /not a CPinyinTrie file/);
    expectCorrupt(
      () =>
        PinyinLexicon.fromBytes(
          tinyLexicon((u) => {
            u[5] = 4000;
          }),
        ),
      /points to 4000/,
    );
    expectCorrupt(
      () =>
        PinyinLexicon.fromBytes(
          tinyLexicon((u) => {
            u[12] = 77 | (1 << 31);
          }),
        ),
      /names word 77/,
    );
    expectCorrupt(
      () =>
        PinyinLexicon.fromBytes(
          tinyLexicon((u) => {
            u[2] = 1 << 20;
          }),
        ),
      /string table offset/,
    );
  });
});
