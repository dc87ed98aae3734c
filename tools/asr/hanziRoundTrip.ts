/**
 * `make eval-hanzi`: the pinyin-to-character converter on text, independent of any audio.
 * Chinese sentences → tonal pinyin (pinyin-pro) → optionally a seeded share of tones changed at
 * random → HanziConverter → character accuracy against the sentence, with the language model and
 * with the no-LM baseline (each syllable its most frequent character), and the time per sentence.
 *
 * Text: the user turns of CrossWOZ (thu-coai/CrossWOZ, Apache-2.0; not in this repository):
 *   git clone https://github.com/thu-coai/CrossWOZ && unzip CrossWOZ/data/crosswoz/test.json.zip
 *   node dist/tools/asr/hanziRoundTrip.js test.json [--tone-errors 0,0.1,0.2] [--seed 1] [--limit 2000]
 * Each maximal run of Han characters of a turn is one sentence (the recogniser emits no digits or
 * punctuation). A plain text file (one sentence per line) works too; with no file, a small built-in
 * set of contact-centre sentences is used.
 */
import { readFileSync } from 'node:fs';
import { pinyin } from 'pinyin-pro';
import { HanziConverter, parseSyllable, type PinyinHypothesis } from '../../appliance/asr/hanzi/converter.js';
import { withToneMark } from '../../appliance/asr/pinyinSpelling.js';
import { countWordEdits } from '../../appliance/text/wordEdits.js';

const BUILT_IN = [
  '你好我想查一下我的账单',
  '请帮我转人工服务',
  '我的银行卡被冻结了怎么办',
  '这个月的话费为什么这么高',
  '我要投诉你们的快递员',
  '请问明天上午有空吗',
  '我想取消这个订单',
  '密码忘记了能不能重置一下',
  '甚至出现交易几乎停滞的情况',
  '谢谢你的耐心解答',
];

interface Args {
  file: string | null;
  toneErrors: number[];
  seed: number;
  limit: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { file: null, toneErrors: [0, 0.1, 0.2], seed: 1, limit: 2000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--tone-errors') args.toneErrors = value().split(',').map(Number);
    else if (a === '--seed') args.seed = Number(value());
    else if (a === '--limit') args.limit = Number(value());
    else args.file = a;
  }
  return args;
}

/** Sentences: the Han runs of CrossWOZ user turns, or of each line of a text file. */
function loadSentences(file: string | null, limit: number): string[] {
  if (file === null) return BUILT_IN;
  const raw = readFileSync(file, 'utf8');
  let lines: string[];
  if (file.endsWith('.json')) {
    const dialogues = JSON.parse(raw) as Record<string, { messages?: { role: string; content: string }[] }>;
    lines = Object.values(dialogues).flatMap((d) => (d.messages ?? []).filter((m) => m.role === 'usr').map((m) => m.content));
  } else {
    lines = raw.split('\n');
  }
  const out: string[] = [];
  for (const line of lines) {
    for (const run of line.match(/\p{Script=Han}+/gu) ?? []) {
      if (run.length >= 2) out.push(run);
      if (out.length >= limit) return out;
    }
  }
  return out;
}

/** mulberry32: a small seeded generator, so every run corrupts the same tones. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A sentence as the recogniser would emit it: tone-marked syllables, `share` of the tones changed. */
function toHypothesis(sentence: string, share: number, rnd: () => number): PinyinHypothesis {
  const readings = pinyin(sentence, { type: 'array', toneType: 'num', v: true });
  const syllables = readings.map((r, i) => {
    const p = parseSyllable(r);
    let text = r;
    if (p) {
      let tone = p.tone === 5 ? 0 : p.tone;
      if (rnd() < share) tone = (tone + 1 + Math.floor(rnd() * 4)) % 5; // any of the four other tones
      text = withToneMark(`${p.base.replace(/v/g, 'ü')}${tone}`) ?? r;
    }
    return { text, startMs: i * 250, endMs: i * 250 + 240 };
  });
  return { syllables, logProb: 0 };
}

function percentile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  const sentences = loadSentences(args.file, args.limit);
  const t0 = performance.now();
  const converter = HanziConverter.load(process.env.HANZI_DATA_DIR);
  const loadMs = performance.now() - t0;
  const info = converter.info();
  const chars = sentences.reduce((n, s) => n + s.length, 0);
  process.stdout.write(
    `hanzi round trip: ${sentences.length} sentences, ${chars} characters (${(chars / Math.max(1, sentences.length)).toFixed(1)} per sentence) from ${args.file ?? 'the built-in set'}\n` +
      `data: ${info.words} lexicon words, n-grams ${info.ngrams.join('/')}, loaded in ${loadMs.toFixed(0)} ms\n`,
  );
  for (const share of args.toneErrors) {
    const rnd = seeded(args.seed);
    const hyps = sentences.map((s) => toHypothesis(s, share, rnd));
    const errors = { lm: 0, base: 0 };
    const ms: number[] = [];
    let baseMs = 0;
    sentences.forEach((ref, k) => {
      const refChars = [...ref];
      let t = performance.now();
      const withLm = converter.convert([hyps[k]!]);
      ms.push(performance.now() - t);
      t = performance.now();
      const noLm = converter.convert([hyps[k]!], { useLm: false });
      baseMs += performance.now() - t;
      for (const [key, out] of [
        ['lm', withLm.text],
        ['base', noLm.text],
      ] as const) {
        const e = countWordEdits(refChars, [...out]);
        errors[key] += e.substitutions + e.deletions + e.insertions;
      }
    });
    const sorted = [...ms].sort((a, b) => a - b);
    const mean = ms.reduce((a, b) => a + b, 0) / Math.max(1, ms.length);
    const acc = (e: number) => (100 * (1 - e / Math.max(1, chars))).toFixed(2);
    process.stdout.write(
      `tone errors ${(100 * share).toFixed(0)}%: character accuracy with LM ${acc(errors.lm)}%, without LM ${acc(errors.base)}%; ` +
        `${mean.toFixed(2)} ms per sentence with LM (p95 ${percentile(sorted, 0.95).toFixed(2)}), ${(baseMs / Math.max(1, sentences.length)).toFixed(3)} without\n`,
    );
  }
  streamingCost(converter, sentences, args.seed);
  return 0;
}

/** The cost the stream pays on every partial: 40 syllables × 4 n-best hypotheses (tone variants). */
function streamingCost(converter: HanziConverter, sentences: string[], seed: number): void {
  const rnd = seeded(seed);
  const runs: PinyinHypothesis[][] = [];
  let pool = '';
  for (const s of sentences) {
    pool += s;
    if (pool.length < 40) continue;
    const text = pool.slice(0, 40);
    pool = '';
    const best = toHypothesis(text, 0, rnd);
    runs.push([0, 1, 2, 3].map((k) => (k === 0 ? best : { ...toHypothesis(text, 0.05, rnd), logProb: -k })));
    if (runs.length >= 200) break;
  }
  if (runs.length === 0) return;
  // first pass: new text for the transfer cache (the tone readings of these words are mostly cached
  // by the accuracy runs above); second pass: the same syllables again, as successive partials are
  for (const pass of ['first pass', 'repeated (as successive partials)']) {
    const ms = runs.map((r) => {
      const t = performance.now();
      converter.convert(r);
      return performance.now() - t;
    });
    const sorted = [...ms].sort((a, b) => a - b);
    process.stdout.write(
      `40 syllables × 4 hypotheses, ${pass} (${runs.length} runs): ${(ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(2)} ms mean, ` +
        `p50 ${percentile(sorted, 0.5).toFixed(2)}, p95 ${percentile(sorted, 0.95).toFixed(2)}\n`,
    );
  }
}

process.exitCode = main();
