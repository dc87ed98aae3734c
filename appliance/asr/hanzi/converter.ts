/**
 * Recognised tonal pinyin → Chinese characters: a word lattice over each n-best hypothesis'
 * syllables (lexicon words spelling toneless syllable runs), searched with sunpinyin's trigram
 * language model, a soft per-character tone agreement and the hypothesis' acoustic score; the best
 * path over all hypotheses wins.
 *
 * Score of a path (natural log, higher is better):
 *   Σ ln P_LM(word | two previous words)          (back-off as sunpinyin does; + utterance end)
 * − Σ lexicon rank cost (cost · ln 2)              (sunpinyin's 2^-cost per word of a node)
 * − TONE_MISMATCH_NATS per character whose readings lack the recognised tone
 * + ACOUSTIC_WEIGHT · the hypothesis' logProb
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { evxError } from '../../errors.js';
import { PinyinLexicon } from './pinyinLexicon.js';
import { parseSyllable, syllableId, syllableText, toneBit } from './syllable.js';
import { ThreadedTrigram } from './threadedTrigram.js';
import { toneMasks } from './toneReadings.js';

export { parseSyllable } from './syllable.js';

/** One recognised syllable, tone-marked as the model emits it ('jiāo', 'de', 'lüè'). */
export interface PinyinSyllable {
  text: string;
  startMs: number;
  endMs: number;
}
/** One n-best entry: its syllables and its acoustic score (natural log; 0 for greedy). */
export interface PinyinHypothesis {
  syllables: PinyinSyllable[];
  logProb: number;
}
/** One lexicon word of the result and the span of its syllables. */
export interface HanziWord {
  word: string;
  pinyin: string;
  startMs: number;
  endMs: number;
}
export interface HanziResult {
  text: string;
  words: HanziWord[];
  /** The chosen hypothesis' syllables joined by ' '. */
  pinyin: string;
  /** The chosen path's total score (natural log, see the module comment). */
  score: number;
}

export const DEFAULT_HANZI_DATA_DIR = '/usr/lib/x86_64-linux-gnu/sunpinyin/data';
const LM_FILE = 'lm_sc.t3g';
const LEXICON_FILE = 'pydict_sc.bin';

/**
 * Cost of a character whose readings lack the recognised tone. Chosen a priori, not tuned: assume
 * the acoustic model gets a tone right 80 % of the time and spreads its errors evenly over the four
 * other tones, so a mismatch is 0.8 / (0.2 / 4) = 16 times less likely than a match: ln 16 nats.
 */
export const TONE_MISMATCH_NATS = Math.log(16);
/** Weight of the hypothesis' acoustic log-probability against the LM: 1, plain Bayes. */
export const ACOUSTIC_WEIGHT = 1;
/** Lattice states (distinct LM histories) kept per syllable position. */
const BEAM_STATES = 16;
/** Words per syllable span expanded with the LM, best by unigram, rank cost and tone first. */
const WORDS_PER_SPAN = 10;
/** Words sunpinyin considers per lexicon node (its MAX_LEXICON_TRIES), most likely first. */
const MAX_LEXICON_TRIES = 32;
/** Longest word, in syllables, the search tries. */
const MAX_WORD_SYLLABLES = 8;
const LN2 = Math.log(2);
const UTTERANCE_END = ['，', '。', '？', '！'];

/** The simplified-Chinese words of one lexicon node that the search tries. */
interface NodeWords {
  readonly count: number;
  readonly ids: Int32Array;
  readonly texts: string[];
  /** ln P(word) with no history, minus the rank cost: the ranking before the LM. */
  readonly prior: Float64Array;
  readonly rankCost: Float64Array;
  /** count × depth tone masks, one per character. */
  readonly masks: Uint8Array;
}

interface LatticeState {
  readonly lm: number;
  readonly score: number;
  readonly back: LatticeState | null;
  /** The word that led here (text), and the syllable span [from, to). */
  readonly text: string;
  readonly from: number;
  readonly to: number;
}

/** A searched hypothesis' syllable texts and completed lattice positions. */
interface SearchedHypothesis {
  readonly texts: readonly string[];
  readonly frames: readonly Map<number, LatticeState>[];
}

interface ParsedHypothesis {
  readonly syllables: readonly PinyinSyllable[];
  readonly logProb: number;
  /** sunpinyin syllable id per syllable (0 = not a syllable the lexicon can spell). */
  readonly ids: Int32Array;
  readonly toneBits: Uint8Array;
}

export class HanziConverter {
  private readonly nodeWords = new Map<number, NodeWords>();
  private readonly unknownWordLnP: number;
  /** Word ids of the punctuation that ends an utterance (，。？！). */
  private readonly endIds: number[];

  private constructor(
    private readonly lm: ThreadedTrigram,
    private readonly lexicon: PinyinLexicon,
    private readonly dataDir: string,
  ) {
    this.unknownWordLnP = lm.unigram(0x3_ffff); // an id no model holds: the root's unknown-word probability
    // sunpinyin's symbols sit among the first 100 ids (the comma is 70)
    this.endIds = [];
    for (let id = 1; id < Math.min(100, lexicon.wordCount); id++) if (UTTERANCE_END.includes(lexicon.word(id))) this.endIds.push(id);
  }

  /** Load sunpinyin's lm_sc.t3g and pydict_sc.bin from `dataDir`; throws EVX_ERR_ASR_HANZI_DATA. */
  static load(dataDir: string = DEFAULT_HANZI_DATA_DIR): HanziConverter {
    const lm = ThreadedTrigram.fromBytes(readDataFile(dataDir, LM_FILE), LM_FILE);
    const lexicon = PinyinLexicon.fromBytes(readDataFile(dataDir, LEXICON_FILE), LEXICON_FILE);
    return new HanziConverter(lm, lexicon, dataDir);
  }

  /** Sizes of the loaded data. */
  info(): { words: number; ngrams: number[]; dataDir: string } {
    return { words: this.lexicon.wordCount, ngrams: [...this.lm.ngramCounts], dataDir: this.dataDir };
  }

  /** The best character reading over all hypotheses; `useLm: false` maps each syllable alone. */
  convert(hyps: readonly PinyinHypothesis[], options: { useLm?: boolean } = {}): HanziResult {
    const useLm = options.useLm ?? true;
    let best: HanziResult | null = null;
    const searched: SearchedHypothesis[] = [];
    for (const h of hyps) {
      const parsed = this.parse(h);
      const r = useLm ? this.searchLattice(parsed, searched) : this.mapEachSyllable(parsed);
      if (best === null || r.score > best.score) best = r;
    }
    return best ?? { text: '', words: [], pinyin: '', score: 0 };
  }

  /** ln P(word | previous words) under the trigram LM, for tests and tools (words as lexicon ids). */
  lnProbability(history: readonly number[], wid: number): number {
    let state = this.lm.rootState;
    for (const w of history) {
      this.lm.transfer(state, w);
      state = this.lm.lastState;
    }
    return this.lm.transfer(state, wid);
  }

  /** Lexicon words spelled by toneless syllables ("jiao'yi"), most likely first, as [id, text]. */
  lookup(pinyin: string): { id: number; word: string }[] {
    let node = this.lexicon.root;
    for (const s of pinyin.split("'")) {
      const id = syllableId(s);
      node = id === 0 ? 0 : this.lexicon.child(node, id);
      if (node === 0) return [];
    }
    const out: { id: number; word: string }[] = [];
    for (let k = 0; k < this.lexicon.wordCountAt(node); k++) {
      const e = this.lexicon.entry(node, k);
      if (e.csLevel === 0) out.push({ id: e.id, word: this.lexicon.word(e.id) });
    }
    return out;
  }

  private parse(h: PinyinHypothesis): ParsedHypothesis {
    const n = h.syllables.length;
    const ids = new Int32Array(n);
    const toneBits = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const p = parseSyllable(h.syllables[i]!.text);
      if (p) {
        ids[i] = syllableId(p.base);
        toneBits[i] = toneBit(p.tone);
      }
    }
    return { syllables: h.syllables, logProb: Number.isFinite(h.logProb) ? h.logProb : 0, ids, toneBits };
  }

  /**
   * Viterbi over the word lattice of one hypothesis. Positions up to the longest syllable prefix it
   * shares with an already searched hypothesis (n-best lists differ in a few syllables) are taken
   * from that search: a position's states depend only on the syllables before it.
   */
  private searchLattice(h: ParsedHypothesis, searched: SearchedHypothesis[]): HanziResult {
    const n = h.syllables.length;
    const frames: Map<number, LatticeState>[] = Array.from({ length: n + 1 }, () => new Map<number, LatticeState>());
    frames[0]!.set(this.lm.rootState, { lm: this.lm.rootState, score: 0, back: null, text: '', from: 0, to: 0 });
    let shared = 0;
    let donor: SearchedHypothesis | null = null;
    for (const prev of searched) {
      let p = 0;
      while (p < n && p < prev.texts.length && prev.texts[p] === h.syllables[p]!.text) p++;
      if (p > shared) {
        shared = p;
        donor = prev;
      }
    }
    for (let k = 0; k <= shared && donor !== null; k++) frames[k] = new Map(donor.frames[k]);
    const chosen: number[] = [];
    const costs: number[] = [];
    for (let i = Math.max(0, shared - MAX_WORD_SYLLABLES + 1); i < n; i++) {
      const states = prune(frames[i]!);
      let spelled = false;
      let node = this.lexicon.root;
      for (let j = i; j < n && j < i + MAX_WORD_SYLLABLES; j++) {
        const sid = h.ids[j]!;
        node = sid === 0 ? 0 : this.lexicon.child(node, sid);
        if (node === 0) break;
        const words = this.wordsAt(node, h.ids, i, j + 1);
        if (words.count === 0) continue;
        if (j === i) spelled = true;
        if (j < shared) continue; // ends inside the shared prefix: already in frames[j + 1]
        this.pickWords(words, h.toneBits, i, j + 1 - i, chosen, costs);
        const next = frames[j + 1]!;
        for (let c = 0; c < chosen.length; c++) {
          const k = chosen[c]!;
          const wid = words.ids[k]!;
          const cost = costs[c]!;
          for (const s of states) {
            const score = s.score + this.lm.transfer(s.lm, wid) - cost;
            const lm = this.lm.lastState;
            const old = next.get(lm);
            if (old === undefined || score > old.score) next.set(lm, { lm, score, back: s, text: words.texts[k]!, from: i, to: j + 1 });
          }
        }
      }
      if (!spelled && i >= shared) {
        // not a syllable the lexicon spells (a bad model output, a piece of a partial): keep the
        // pinyin as written, as an unknown word that resets the LM history
        const text = h.syllables[i]!.text;
        for (const s of states) {
          add(frames[i + 1]!, { lm: this.lm.rootState, score: s.score + this.unknownWordLnP, back: s, text, from: i, to: i + 1 });
        }
      }
    }
    searched.push({ texts: h.syllables.map((s) => s.text), frames });
    let end: LatticeState | null = null;
    let endScore = -Infinity;
    for (const s of frames[n]!.values()) {
      const sc = s.score + (n > 0 ? this.utteranceEnd(s.lm) : 0);
      if (sc > endScore) {
        endScore = sc;
        end = s;
      }
    }
    const words: HanziWord[] = [];
    for (let s = end; s !== null && s.back !== null; s = s.back) words.push(this.wordOf(h, s.text, s.from, s.to));
    words.reverse();
    return this.result(h, words, endScore + ACOUSTIC_WEIGHT * h.logProb);
  }

  /** The no-LM baseline: each syllable its most frequent single character that agrees in tone. */
  private mapEachSyllable(h: ParsedHypothesis): HanziResult {
    const words: HanziWord[] = [];
    let score = 0;
    for (let i = 0; i < h.syllables.length; i++) {
      const sid = h.ids[i]!;
      const node = sid === 0 ? 0 : this.lexicon.child(this.lexicon.root, sid);
      const nw = node === 0 ? null : this.wordsAt(node, h.ids, i, i + 1);
      let bestK = -1;
      let bestScore = -Infinity;
      for (let k = 0; nw !== null && k < nw.count; k++) {
        const sc = nw.prior[k]! + nw.rankCost[k]! - ((nw.masks[k]! & h.toneBits[i]!) === 0 ? TONE_MISMATCH_NATS : 0);
        if (sc > bestScore) {
          bestScore = sc;
          bestK = k;
        }
      }
      if (nw === null || bestK < 0) {
        words.push(this.wordOf(h, h.syllables[i]!.text, i, i + 1));
        score += this.unknownWordLnP;
      } else {
        words.push(this.wordOf(h, nw.texts[bestK]!, i, i + 1));
        score += bestScore;
      }
    }
    return this.result(h, words, score + ACOUSTIC_WEIGHT * h.logProb);
  }

  /**
   * The WORDS_PER_SPAN best words of a node for syllables [from, from+len) by unigram, rank cost and
   * tone agreement; their indices go to `chosen` and their rank + tone costs to `costs`.
   */
  private pickWords(words: NodeWords, toneBits: Uint8Array, from: number, len: number, chosen: number[], costs: number[]): void {
    chosen.length = 0;
    costs.length = 0;
    const ranked: { k: number; cost: number; key: number }[] = [];
    for (let k = 0; k < words.count; k++) {
      let tone = 0;
      for (let c = 0; c < len; c++) if ((words.masks[k * len + c]! & toneBits[from + c]!) === 0) tone += TONE_MISMATCH_NATS;
      ranked.push({ k, cost: words.rankCost[k]! + tone, key: words.prior[k]! - tone });
    }
    if (ranked.length > WORDS_PER_SPAN) ranked.sort((a, b) => b.key - a.key);
    for (let r = 0; r < ranked.length && r < WORDS_PER_SPAN; r++) {
      chosen.push(ranked[r]!.k);
      costs.push(ranked[r]!.cost);
    }
  }

  /** The words of a lexicon node the search tries (sunpinyin's rule), cached per node. */
  private wordsAt(node: number, ids: Int32Array, from: number, to: number): NodeWords {
    const cached = this.nodeWords.get(node);
    if (cached) return cached;
    const bases: string[] = [];
    for (let i = from; i < to; i++) bases.push(syllableText(ids[i]!));
    const lex = this.lexicon;
    const size = Math.min(lex.wordCountAt(node), MAX_LEXICON_TRIES);
    const picked: { id: number; text: string; rank: number }[] = [];
    // sunpinyin: the node's words in order, simplified only; unseen words only while fewer than two
    for (let k = 0; k < size; k++) {
      const e = lex.entry(node, k);
      if (!e.seen && picked.length >= 2) break;
      if (e.csLevel === 0) picked.push({ id: e.id, text: lex.word(e.id), rank: e.cost * LN2 });
    }
    const depth = bases.length;
    const words: NodeWords = {
      count: picked.length,
      ids: Int32Array.from(picked, (p) => p.id),
      texts: picked.map((p) => p.text),
      rankCost: Float64Array.from(picked, (p) => p.rank),
      prior: Float64Array.from(picked, (p) => this.lm.unigram(p.id) - p.rank),
      masks: new Uint8Array(picked.length * depth),
    };
    picked.forEach((p, k) => words.masks.set(toneMasks(p.text, bases), k * depth));
    this.nodeWords.set(node, words);
    return words;
  }

  /**
   * ln P(the utterance ends | history): the LM's probability of any sentence-ending mark after it.
   * (sunpinyin scores only the comma, since typed input goes on; an utterance may just as well end
   * with a question mark, which a question particle like 吗 needs.)
   */
  private utteranceEnd(state: number): number {
    let p = 0;
    for (const id of this.endIds) p += Math.exp(this.lm.transfer(state, id));
    return this.endIds.length === 0 ? 0 : Math.log(p);
  }

  private wordOf(h: ParsedHypothesis, word: string, from: number, to: number): HanziWord {
    const syl = h.syllables.slice(from, to);
    return { word, pinyin: syl.map((s) => s.text).join(' '), startMs: syl[0]!.startMs, endMs: syl[syl.length - 1]!.endMs };
  }

  private result(h: ParsedHypothesis, words: HanziWord[], score: number): HanziResult {
    return { text: words.map((w) => w.word).join(''), words, pinyin: h.syllables.map((s) => s.text).join(' '), score };
  }
}

/** Keep the better of two lattice states with the same LM history (Viterbi on the LM state). */
function add(frame: Map<number, LatticeState>, s: LatticeState): void {
  const old = frame.get(s.lm);
  if (old === undefined || s.score > old.score) frame.set(s.lm, s);
}

/** The BEAM_STATES best states of a position. */
function prune(frame: Map<number, LatticeState>): LatticeState[] {
  const states = [...frame.values()];
  if (states.length > BEAM_STATES) {
    states.sort((a, b) => b.score - a.score);
    states.length = BEAM_STATES;
  }
  return states;
}

function readDataFile(dir: string, name: string): Uint8Array {
  const path = join(dir, name);
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw evxError(
      'EVX_ERR_ASR_HANZI_DATA',
      `${path} is missing: the pinyin-to-character data comes from the Debian package sunpinyin-data (make setup installs it)`,
      { details: { file: name, dataDir: dir } },
    );
  }
  return readFileSync(path);
}
