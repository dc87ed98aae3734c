/**
 * How a model's tokens become text. English pieces join into words (SentencePiece ▁ marks);
 * Mandarin tonal-pinyin units group into syllables that a pinyin-to-character language model
 * turns into Chinese characters (fed the search's n-best, so one wrong tone does not break a
 * word). The stream asks its text form for partial and final text and never looks at units.
 */
import type { Hypothesis, ScoredHypothesis } from './hypothesis.js';
import type { SpeechLanguage } from './language.js';
import { isPinyinTokenSet, toSyllables } from './pinyinSyllables.js';
import { HanziConverter } from './hanzi/converter.js';
import type { TokenTable } from './tokens.js';
import { toWords, type WordTiming } from './words.js';

export interface TextTiming {
  /** Stream time of an utterance-relative encoder frame. */
  readonly frameMs: (frame: number) => number;
  readonly encoderFrameMs: number;
}

export interface FinalText {
  readonly text: string;
  readonly words: WordTiming[];
  /** Pinyin models: the chosen hypothesis' syllables, space separated. */
  readonly pinyin?: string;
}

export interface TextForm {
  readonly language: SpeechLanguage;
  /** Text of a partial hypothesis (cheap: runs after every decoded chunk). */
  partial(h: Hypothesis, timing: TextTiming): string;
  /** Text and words of an utterance: `best` and, when the search keeps several, its n-best (best first). */
  final(best: Hypothesis, nbest: readonly ScoredHypothesis[], timing: TextTiming): FinalText;
}

/** Word-piece models (English): pieces joined, ▁ starts a word. */
export class WordPieceText implements TextForm {
  readonly language = 'en' as const;
  constructor(private readonly tokens: TokenTable) {}

  partial(h: Hypothesis): string {
    return this.tokens.text(h.tokens);
  }

  final(best: Hypothesis, _nbest: readonly ScoredHypothesis[], timing: TextTiming): FinalText {
    return { text: this.tokens.text(best.tokens), words: toWords(best, this.tokens, timing.frameMs, timing.encoderFrameMs) };
  }
}

/** The pinyin-to-character converter's contract (appliance/asr/hanzi). */
export interface PinyinToHanzi {
  convert(
    hyps: readonly { syllables: readonly { text: string; startMs: number; endMs: number }[]; logProb: number }[],
    options?: { useLm?: boolean },
  ): { text: string; pinyin: string; words: readonly { word: string; pinyin: string; startMs: number; endMs: number }[] };
}

/** Tonal-pinyin models (Mandarin): syllables → characters by a language model. */
export class HanziText implements TextForm {
  readonly language = 'zh' as const;
  constructor(
    private readonly tokens: TokenTable,
    private readonly converter: PinyinToHanzi,
    private readonly useLm = true,
  ) {}

  partial(h: Hypothesis, timing: TextTiming): string {
    if (h.tokens.length === 0) return '';
    const syllables = toSyllables(h, this.tokens, timing.frameMs, timing.encoderFrameMs);
    return this.converter.convert([{ syllables, logProb: 0 }], { useLm: this.useLm }).text;
  }

  final(best: Hypothesis, nbest: readonly ScoredHypothesis[], timing: TextTiming): FinalText {
    const list = nbest.length > 0 ? nbest : [{ hypothesis: best, logProb: 0 }];
    const hyps = list
      .filter((s) => s.hypothesis.tokens.length > 0)
      .map((s) => ({ syllables: toSyllables(s.hypothesis, this.tokens, timing.frameMs, timing.encoderFrameMs), logProb: s.logProb }));
    if (hyps.length === 0) return { text: '', words: [], pinyin: '' };
    const r = this.converter.convert(hyps, { useLm: this.useLm });
    // a word's confidence: the mean token probability of the syllables it spans (best hypothesis)
    const syl = hyps[0]!.syllables;
    const words: WordTiming[] = r.words.map((w) => {
      let lp = 0;
      let n = 0;
      for (const s of syl) {
        if (s.startMs >= w.startMs && s.endMs <= w.endMs) {
          lp += s.logProb;
          n += s.tokens;
        }
      }
      return { word: w.word, startMs: w.startMs, endMs: w.endMs, confidence: n > 0 ? Math.exp(lp / n) : 0 };
    });
    return { text: r.text, words, pinyin: r.pinyin };
  }
}

/** The text form a model's units call for: pinyin units need the pinyin-to-character data. */
export function textFormFor(tokens: TokenTable, options: { hanziDataDir?: string | undefined; hanziLm?: boolean | undefined }): TextForm {
  if (!isPinyinTokenSet(tokens)) return new WordPieceText(tokens);
  return new HanziText(tokens, HanziConverter.load(options.hanziDataDir), options.hanziLm ?? true);
}
