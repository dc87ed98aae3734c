/**
 * `make eval-kws-zh`: keywords written in Chinese characters on the Mandarin model (tonal pinyin
 * units). Detections of a fixed keyword list on the speech-zh clips that speak them, at 16 kHz and
 * through the 8 kHz G.711 μ-law round trip, and false alarms per hour over all the Mandarin and
 * English audio there is (speech-zh, speech-en, FSDD digits, RAVDESS, pocketsphinx test data).
 *
 * A hit counts as a detection when its keyword is spoken in the clip (per trans.tsv, up to the
 * number of times it is spoken); any other hit is a false alarm. The clips have no time alignment,
 * so a hit at the wrong place in a clip that speaks the keyword would count as a detection.
 *
 * env: ASR_ZH_MODEL_DIR, VAD_MODEL, EDGEVOX_SHARED; KWS_ZH_THRESHOLD / KWS_ZH_BOOST (defaults: the
 * spotter's); KWS_ZH_TONES=1 adds each keyword's one-syllable tone variants (spelled in pinyin,
 * reported under the keyword); KWS_ZH_PATH=full|product (default product: Silero VAD + endpointing);
 * KWS_ZH_SETS=speech-zh,speech-en,pocketsphinx,fsdd,ravdess (default all); KWS_ZH_MULAW=0 skips the
 * 8 kHz pass over the false-alarm sets.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinyin } from 'pinyin-pro';
import { DEFAULT_KEYWORD_BOOST, DEFAULT_KEYWORD_THRESHOLD } from '../../appliance/asr/kws.js';
import { resolveModelPaths } from '../../appliance/asr/modelFiles.js';
import { withToneMark } from '../../appliance/asr/pinyinSpelling.js';
import { Recognizer, type PhraseSpec } from '../../appliance/asr/recognizer.js';
import { readWavFile, transcribeAudio, type TranscribeOptions } from '../../appliance/asr/transcribeFile.js';
import type { WavAudio } from '../../appliance/audio/wav.js';
import { loadEvalSet, sharedDir } from './evalSet.js';
import { mulawRoundTrip8k } from './telephone.js';

/** Fixed before any tuning (the contact-centre words); do not edit to flatter a figure. */
export const KEYWORDS_ZH = ['交易', '情况', '销售', '商场', '业绩', '投诉', '退款', '信用卡'] as const;

interface Clip {
  readonly set: string;
  readonly path: string;
  /** Reference characters (speech-zh only): which keywords are spoken, and how often. */
  readonly reference?: string;
}

function listClips(shared: string, sets: ReadonlySet<string>): { clips: Clip[]; missing: string[] } {
  const clips: Clip[] = [];
  const missing: string[] = [];
  const zh = join(shared, 'datasets/speech-zh');
  if (sets.has('speech-zh')) {
    const tsv = join(zh, 'trans.tsv');
    if (!existsSync(tsv)) missing.push(tsv);
    else {
      for (const line of readFileSync(tsv, 'utf8').split('\n')) {
        const [file, ref] = line.split('\t');
        if (file && ref) clips.push({ set: 'speech-zh', path: join(zh, file), reference: ref.trim() });
      }
    }
  }
  if (sets.has('speech-en') || sets.has('pocketsphinx')) {
    const en = loadEvalSet(shared);
    missing.push(...en.missing);
    for (const c of en.clips) {
      const set = c.subset === 'speech-en' ? 'speech-en' : 'pocketsphinx';
      if (sets.has(set)) clips.push({ set, path: c.path });
    }
  }
  const dirs: [string, string][] = [
    ['fsdd', join(shared, 'datasets/fsdd-8k/recordings')],
    ['ravdess', join(shared, 'datasets/emotion/ravdess-16k')],
  ];
  for (const [set, dir] of dirs) {
    if (!sets.has(set)) continue;
    if (!existsSync(dir)) {
      missing.push(dir);
      continue;
    }
    for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
      if (f.endsWith('.wav')) clips.push({ set, path: join(dir, f) });
    }
  }
  return { clips, missing };
}

function occurrences(text: string, word: string): number {
  let n = 0;
  for (let i = text.indexOf(word); i >= 0; i = text.indexOf(word, i + word.length)) n++;
  return n;
}

/** The keyword's pinyin with one syllable's tone changed, each other tone in turn (neutral included). */
function toneVariants(word: string): string[] {
  const syllables = pinyin(word, { type: 'array', toneType: 'num', toneSandhi: false });
  const out: string[] = [];
  for (let i = 0; i < syllables.length; i++) {
    const m = /^(.*?)([0-5])?$/.exec(syllables[i]!.replaceAll('ü', 'v'))!;
    for (const tone of ['1', '2', '3', '4', '5']) {
      if (tone === (m[2] ?? '5') || withToneMark(`${m[1]}${tone}`) === undefined) continue;
      out.push(syllables.map((s, j) => (j === i ? `${m[1]}${tone}` : s.replaceAll('ü', 'v'))).join(' '));
    }
  }
  return out;
}

/** Tone variants the model's units cannot spell (a neutral final it lacks) are left out. */
function spellable(recognizer: Recognizer, phrase: string): boolean {
  try {
    recognizer.tokenize(phrase);
    return true;
  } catch {
    return false;
  }
}

interface Tally {
  clips: number;
  audioMs: number;
  detected: number;
  spoken: number;
  falseAlarms: number;
  /** False alarms by keyword: their scores. */
  byKeyword: Map<string, number[]>;
}

const emptyTally = (): Tally => ({ clips: 0, audioMs: 0, detected: 0, spoken: 0, falseAlarms: 0, byKeyword: new Map() });

const USAGE = `usage: node dist/tools/asr/evalKwsZh.js   (make eval-kws-zh)
Chinese keywords on the Mandarin model: detections on speech-zh (16 kHz, 8 kHz G.711 mu-law) and
false alarms per hour over speech-zh, speech-en, pocketsphinx test data, FSDD and RAVDESS.
env: ASR_ZH_MODEL_DIR, VAD_MODEL, EDGEVOX_SHARED, KWS_ZH_THRESHOLD, KWS_ZH_BOOST, KWS_ZH_TONES=1,
     KWS_ZH_PATH=product|full, KWS_ZH_SETS=speech-zh,speech-en,pocketsphinx,fsdd,ravdess, KWS_ZH_MULAW=0
`;

async function main(): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const shared = sharedDir();
  const sets = new Set((process.env.KWS_ZH_SETS ?? 'speech-zh,speech-en,pocketsphinx,fsdd,ravdess').split(','));
  const { clips, missing } = listClips(shared, sets);
  for (const m of missing) process.stderr.write(`eval-kws-zh: missing ${m}\n`);
  if (!clips.some((c) => c.set === 'speech-zh')) return 1;
  const threshold = Number(process.env.KWS_ZH_THRESHOLD ?? DEFAULT_KEYWORD_THRESHOLD);
  const boost = Number(process.env.KWS_ZH_BOOST ?? DEFAULT_KEYWORD_BOOST);
  const tones = process.env.KWS_ZH_TONES === '1';
  const product = (process.env.KWS_ZH_PATH ?? 'product') === 'product';
  const mulawAll = process.env.KWS_ZH_MULAW !== '0';

  const paths = resolveModelPaths({
    modelDir: process.env.ASR_ZH_MODEL_DIR ?? join(shared, 'models/asr/kws-zipformer-wenetspeech-zh-3.3m'),
    vadModel: process.env.VAD_MODEL ?? join(shared, 'models/vad/silero-vad-v5/silero_vad.onnx'),
  });
  const recognizer = await Recognizer.create({ modelDir: paths.modelDir, vadModelPath: paths.vadModelPath, threads: 1 });
  // phrase → the keyword it stands for (a tone variant reports under its keyword)
  const keywordOf = new Map<string, string>();
  const phrases: PhraseSpec[] = [];
  for (const k of KEYWORDS_ZH) {
    for (const p of [k, ...(tones ? toneVariants(k).filter((v) => spellable(recognizer, v)) : [])]) {
      keywordOf.set(p, k);
      phrases.push({ phrase: p, boost, threshold });
    }
  }
  const options: TranscribeOptions = product ? { keywords: phrases } : { keywords: phrases, vad: false, endpoint: false };
  process.stdout.write(
    `eval-kws-zh: ${KEYWORDS_ZH.join(' ')} | ${phrases.length} phrases${tones ? ' (with one-syllable tone variants)' : ''} | ` +
      `threshold ${threshold} boost ${boost} | ${product ? 'Silero VAD + endpointing (product path)' : 'every sample decoded'}\n`,
  );
  const passes: { name: string; transform: (a: WavAudio) => WavAudio; all: boolean }[] = [
    { name: '16 kHz', transform: (a) => a, all: true },
    { name: '8 kHz μ-law', transform: mulawRoundTrip8k, all: mulawAll },
  ];
  const tallies = new Map<string, Tally>(); // `${pass}\t${set}`
  const detectionRows: string[] = [];
  const t0 = performance.now();
  try {
    for (const pass of passes) {
      for (const clip of clips) {
        if (!pass.all && clip.set !== 'speech-zh') continue;
        const audio = readWavFile(clip.path);
        // FSDD is recorded at 8 kHz: its '16 kHz' pass is the native audio, its μ-law pass the codec alone
        const input = pass.transform(audio);
        const t = await transcribeAudio(recognizer, input, clip.path, options);
        const key = `${pass.name}\t${clip.set}`;
        const tally = tallies.get(key) ?? emptyTally();
        tallies.set(key, tally);
        tally.clips++;
        tally.audioMs += audio.durationMs;
        const remaining = new Map<string, number>();
        for (const k of KEYWORDS_ZH) remaining.set(k, clip.reference !== undefined ? occurrences(clip.reference, k) : 0);
        for (const k of KEYWORDS_ZH) tally.spoken += remaining.get(k)!;
        const found = new Map<string, number>();
        for (const hit of t.keywords) {
          const k = keywordOf.get(hit.keyword) ?? hit.keyword;
          const left = remaining.get(k) ?? 0;
          if (left > 0) {
            remaining.set(k, left - 1);
            tally.detected++;
            found.set(k, (found.get(k) ?? 0) + 1);
          } else {
            tally.falseAlarms++;
            tally.byKeyword.set(k, [...(tally.byKeyword.get(k) ?? []), hit.score]);
          }
        }
        if (clip.reference !== undefined) {
          for (const k of KEYWORDS_ZH) {
            const spoken = occurrences(clip.reference, k);
            if (spoken > 0) detectionRows.push(`${pass.name}\t${clip.path.split('/').pop()}\t${k}\t${spoken}\t${found.get(k) ?? 0}`);
          }
        }
      }
    }
  } finally {
    await recognizer.close();
  }

  process.stdout.write('\n== detections (speech-zh clips that speak a keyword)\n');
  process.stdout.write(
    table(
      ['pass', 'clip', 'keyword', 'spoken', 'detected'],
      detectionRows.map((r) => r.split('\t')),
    ),
  );
  for (const pass of passes) {
    const zh = tallies.get(`${pass.name}\tspeech-zh`);
    if (zh) process.stdout.write(`${pass.name}: detected ${zh.detected}/${zh.spoken} (${pct(zh.detected, zh.spoken)})\n`);
  }

  process.stdout.write('\n== false alarms (hits of keywords not spoken in the clip)\n');
  const rows: string[][] = [];
  for (const pass of passes) {
    const total = emptyTally();
    for (const [key, t] of tallies) {
      const [p, set] = key.split('\t') as [string, string];
      if (p !== pass.name) continue;
      rows.push([
        pass.name,
        set,
        String(t.clips),
        hours(t.audioMs),
        String(t.falseAlarms),
        perHour(t.falseAlarms, t.audioMs),
        byKeyword(t.byKeyword),
      ]);
      total.clips += t.clips;
      total.audioMs += t.audioMs;
      total.falseAlarms += t.falseAlarms;
      for (const [k, scores] of t.byKeyword) total.byKeyword.set(k, [...(total.byKeyword.get(k) ?? []), ...scores]);
    }
    if (total.clips > 0) {
      rows.push([
        pass.name,
        'ALL',
        String(total.clips),
        hours(total.audioMs),
        String(total.falseAlarms),
        perHour(total.falseAlarms, total.audioMs),
        byKeyword(total.byKeyword),
      ]);
    }
  }
  process.stdout.write(table(['pass', 'set', 'clips', 'hours', 'false alarms', 'per hour', 'by keyword (hit scores)'], rows));
  process.stdout.write(`\n(decoded in ${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
  return 0;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join(' | ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n') + '\n';
}

const pct = (a: number, b: number): string => (b === 0 ? '-' : `${((100 * a) / b).toFixed(0)}%`);
const hours = (ms: number): string => (ms / 3_600_000).toFixed(3);
const perHour = (n: number, ms: number): string => (ms === 0 ? '-' : (n / (ms / 3_600_000)).toFixed(2));
const byKeyword = (m: Map<string, number[]>): string =>
  [...m].map(([k, scores]) => `${k}×${scores.length} (score ${scores.map((x) => x.toFixed(2)).join(',')})`).join(' ');

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`eval-kws-zh: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
