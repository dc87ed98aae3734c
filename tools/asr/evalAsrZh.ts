/**
 * `make eval-asr-zh`: the Mandarin model on ../shared/datasets/speech-zh (four clips: a smoke test,
 * reported per clip, never tuned on). Character error rate with the pinyin-to-character language
 * model and without it (each syllable's most frequent character), the pinyin syllable error rate
 * (tonal, and with tones ignored) against the references' pinyin, at 16 kHz and through an 8 kHz
 * G.711 μ-law round trip; CPU per audio second next to the English model's on its own clips; and
 * how often language `auto` picks the right model on every Mandarin and English clip there is.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinyin as toPinyin } from 'pinyin-pro';
import type { SpeechRecognizer } from '../../appliance/asr/api.js';
import { AutoLanguageStream, DEFAULT_AUTO_LANGUAGE } from '../../appliance/asr/autoLanguage.js';
import type { SpeechLanguage } from '../../appliance/asr/language.js';
import { resolveModelPaths } from '../../appliance/asr/modelFiles.js';
import { Recognizer } from '../../appliance/asr/recognizer.js';
import { readWavFile, transcribeAudio } from '../../appliance/asr/transcribeFile.js';
import type { WavAudio } from '../../appliance/audio/wav.js';
import { loadEvalSet, sharedDir } from './evalSet.js';
import { mulawRoundTrip8k } from './telephone.js';
import { addCounts, werCounts, type WerCounts } from './wer.js';

interface ZhClip {
  readonly id: string;
  readonly path: string;
  readonly reference: string;
}

/** Clips of a folder with `trans.tsv` (file<TAB>characters). */
function loadZhClips(dir: string): ZhClip[] {
  const tsv = join(dir, 'trans.tsv');
  if (!existsSync(tsv)) return [];
  return readFileSync(tsv, 'utf8')
    .split('\n')
    .map((l) => l.split('\t'))
    .filter((p) => p.length === 2 && p[0] !== '')
    .map(([file, ref]) => ({ id: file!, path: join(dir, file!), reference: ref!.trim() }));
}

/** Characters to score: CJK ideographs, letters and digits; punctuation and spaces dropped. */
function chars(text: string): string[] {
  return [...text.normalize('NFKC')].filter((c) => /[\p{Script=Han}\p{L}\p{N}]/u.test(c));
}

/** Reference pinyin of a character string (pinyin-pro, in context), tone-marked syllables. */
function referencePinyin(text: string): string[] {
  return toPinyin(chars(text).join(''), { type: 'array', toneSandhi: false });
}

const stripTones = (s: string): string =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace('ü', 'v');

const pct = (c: WerCounts): string => (c.words === 0 ? '-' : ((100 * (c.subs + c.dels + c.ins)) / c.words).toFixed(1) + '%');

async function main(): Promise<number> {
  const shared = sharedDir();
  const clips = loadZhClips(join(shared, 'datasets/speech-zh'));
  if (clips.length === 0) {
    process.stderr.write(`eval-asr-zh: no ${join(shared, 'datasets/speech-zh/trans.tsv')}\n`);
    return 1;
  }
  // More Mandarin clips with references, where a site or a developer has them (same layout)
  const extraDir = process.env.ASR_ZH_EXTRA_DIR;
  const extra = extraDir !== undefined && extraDir !== '' ? loadZhClips(extraDir) : [];
  const zhDir = process.env.ASR_ZH_MODEL_DIR ?? join(shared, 'models/asr/kws-zipformer-wenetspeech-zh-3.3m');
  const paths = resolveModelPaths({ modelDir: process.env.ASR_MODEL_DIR, vadModel: process.env.VAD_MODEL });
  const base = { modelDir: zhDir, vadModelPath: paths.vadModelPath, threads: 1 };
  const withLm = await Recognizer.create(base);
  const noLm = await Recognizer.create({ ...base, hanziLm: false });
  const zhGreedy = await Recognizer.create({ ...base, decoding: 'greedy' });
  const en = await Recognizer.create({ modelDir: paths.modelDir, vadModelPath: paths.vadModelPath, threads: 1 });
  try {
    process.stdout.write(
      `Mandarin model: ${zhDir}\nLanguage: ${withLm.info().language}; characters from the sunpinyin open-gram trigram (CC BY-SA 3.0)\n`,
    );
    process.stdout.write('speech-zh has four clips: a smoke test, per-clip figures; nothing was tuned on them.\n');
    const sets: [string, ZhClip[]][] = [['speech-zh', clips]];
    if (extra.length > 0) sets.push([`${extraDir} (ASR_ZH_EXTRA_DIR)`, extra]);
    for (const [setName, set] of sets)
      for (const [title, transform] of [
        ['16 kHz PCM, VAD + endpointing', (a: WavAudio) => a],
        ['8 kHz G.711 μ-law round trip, VAD at 8 kHz + endpointing', mulawRoundTrip8k],
      ] as const) {
        process.stdout.write(
          `\n== ${setName}: ${title}\n| clip | chars | CER with LM | CER without LM | pinyin SER (tonal) | pinyin SER (toneless) | text with LM |\n|---|---|---|---|---|---|---|\n`,
        );
        let cerLm: WerCounts = { words: 0, subs: 0, dels: 0, ins: 0 };
        let cerNoLm = cerLm;
        let ser = cerLm;
        let serToneless = cerLm;
        for (const clip of set) {
          const audio = transform(readWavFile(clip.path));
          const a = await transcribeAudio(withLm, audio, clip.id);
          const b = await transcribeAudio(noLm, audio, clip.id);
          const ref = chars(clip.reference);
          const c1 = werCounts(ref, chars(a.text));
          const c2 = werCounts(ref, chars(b.text));
          const refPy = referencePinyin(clip.reference);
          const hypPy = (a.pinyin ?? '').split(/\s+/).filter((s) => s !== '');
          const s1 = werCounts(refPy, hypPy);
          const s2 = werCounts(refPy.map(stripTones), hypPy.map(stripTones));
          cerLm = addCounts(cerLm, c1);
          cerNoLm = addCounts(cerNoLm, c2);
          ser = addCounts(ser, s1);
          serToneless = addCounts(serToneless, s2);
          process.stdout.write(`| ${clip.id} | ${ref.length} | ${pct(c1)} | ${pct(c2)} | ${pct(s1)} | ${pct(s2)} | ${a.text} |\n`);
        }
        process.stdout.write(`| **all** | ${cerLm.words} | **${pct(cerLm)}** | ${pct(cerNoLm)} | ${pct(ser)} | ${pct(serToneless)} | |\n`);
      }
    await cpuCost(withLm, zhGreedy, en, clips, shared);
    await languageId(zhGreedy, en, [...clips, ...extra]);
  } finally {
    await Promise.all([withLm.close(), noLm.close(), zhGreedy.close(), en.close()]);
  }
  return 0;
}

/** CPU seconds per audio second (this process, one thread), every sample decoded, 16 kHz. */
async function cpuCost(zhBeam: Recognizer, zhGreedy: Recognizer, en: Recognizer, clips: ZhClip[], shared: string): Promise<void> {
  const cost = async (rec: SpeechRecognizer, paths: string[]): Promise<{ audioS: number; cpuS: number }> => {
    let audioS = 0;
    let cpuS = 0;
    for (let round = 0; round < 3; round++) {
      for (const p of paths) {
        const t = await transcribeAudio(rec, readWavFile(p), p, { vad: false, endpoint: false });
        if (round === 0) continue; // warm-up round
        audioS += t.durationMs / 1000;
        cpuS += t.cpuMs / 1000;
      }
    }
    return { audioS, cpuS };
  };
  const enClips = loadEvalSet(shared)
    .clips.filter((c) => c.subset === 'speech-en')
    .map((c) => c.path);
  const zhPaths = clips.map((c) => c.path);
  process.stdout.write('\n== CPU per audio second (16 kHz, every sample decoded, 1 thread, 2 timed rounds after a warm-up)\n');
  process.stdout.write('| model | decoding | audio s | CPU s | CPU s per audio s |\n|---|---|---|---|---|\n');
  for (const [name, rec, dec, paths] of [
    ['English (gigaspeech) on speech-en', en, 'greedy', enClips],
    ['Mandarin on speech-zh', zhGreedy, 'greedy + characters', zhPaths],
    ['Mandarin on speech-zh', zhBeam, 'beam 4 + n-best characters (product)', zhPaths],
  ] as const) {
    const c = await cost(rec, [...paths]);
    process.stdout.write(`| ${name} | ${dec} | ${c.audioS.toFixed(1)} | ${c.cpuS.toFixed(2)} | ${(c.cpuS / c.audioS).toFixed(3)} |\n`);
  }
}

/** Language `auto` on every clip: which model it keeps, after how much speech. */
async function languageId(zh: Recognizer, en: Recognizer, clips: ZhClip[]): Promise<void> {
  const enClips = loadEvalSet().clips;
  const all: { id: string; path: string; truth: SpeechLanguage }[] = [
    ...clips.map((c) => ({ id: c.id, path: c.path, truth: 'zh' as const })),
    ...enClips.map((c) => ({ id: c.id, path: c.path, truth: 'en' as const })),
  ];
  process.stdout.write(`\n== Language auto (decide after ${DEFAULT_AUTO_LANGUAGE.decideAfterMs} ms of speech or the first final)\n`);
  for (const [title, transform] of [
    ['16 kHz', (a: WavAudio) => a],
    ['8 kHz G.711 μ-law', mulawRoundTrip8k],
  ] as const) {
    let right = 0;
    const wrong: string[] = [];
    const at: number[] = [];
    const byTruth = { en: { n: 0, right: 0 }, zh: { n: 0, right: 0 } };
    for (const clip of all) {
      const audio = transform(readWavFile(clip.path));
      const auto = new AutoLanguageStream({
        en: en.createStream({ sampleRateHz: audio.sampleRateHz }),
        zh: zh.createStream({ sampleRateHz: audio.sampleRateHz }),
      });
      let decided: { language: SpeechLanguage; decidedAtMs: number } | undefined;
      auto.on('language', (e) => (decided = e));
      const piece = audio.sampleRateHz / 10;
      for (let off = 0; off < audio.samples.length; off += piece) {
        auto.push(audio.samples.subarray(off, off + piece));
        if ((off / piece) % 10 === 9) await auto.whenIdle();
      }
      await auto.flush();
      auto.close();
      byTruth[clip.truth].n++;
      if (decided?.language === clip.truth) {
        right++;
        byTruth[clip.truth].right++;
      } else wrong.push(`${clip.id} (${clip.truth} → ${decided?.language ?? 'none'})`);
      if (decided !== undefined) at.push(decided.decidedAtMs);
    }
    at.sort((a, b) => a - b);
    process.stdout.write(
      `${title}: ${right}/${all.length} right (Mandarin ${byTruth.zh.right}/${byTruth.zh.n}, English ${byTruth.en.right}/${byTruth.en.n}); ` +
        `decided at median ${at[Math.floor(at.length / 2)] ?? '-'} ms of the clip${wrong.length > 0 ? `; wrong: ${wrong.join(', ')}` : ''}\n`,
    );
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`eval-asr-zh: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
