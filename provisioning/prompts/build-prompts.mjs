#!/usr/bin/env node
/**
 * Builds the default voice prompts of the contact centre, reproducibly: the same texts, voice and
 * Debian tool versions give the same bytes.
 *
 *   node provisioning/prompts/build-prompts.mjs [--lang en] [--out dist/prompts] [--texts-dir DIR]
 *
 * For every `texts.<lang>.json` next to this script (or only --lang), it writes
 * `<out>/<lang>/<name>.wav` (16 kHz, mono, 16-bit PCM) and `<out>/<lang>/manifest.json`
 * ({ name, prompt, n, kind, text, file, sha256, durationMs } per file). The language directory is
 * built aside and swapped in with a rename, so a failed build leaves the previous one whole.
 *
 * - Speech: the language's voice (`flite` for English; `espeak-ng` is also wired for languages
 *   flite has no voice for), then sox: 16 kHz mono 16-bit, peak-normalised to -3 dBFS, no dither.
 * - Numbers (`position`, `expected-wait`): every whole sentence is synthesised once per number of
 *   its range (`position-1.wav` .. `position-20.wav`), numbers spelled with the language's number
 *   words. Playing one file needs no concatenation at call time and keeps natural prosody; the cost
 *   is 50 short files (~2 MB). A number outside the range has no prompt (the caller decides).
 * - Hold music: the same ~30 s loop in every language: plucked broken chords (sox synth pluck,
 *   C-Am-F-G / C-Em-F-G / Am-F-Dm-G, 2.5 s per bar, ending on G so the loop resolves to C), each bar
 *   faded in and out so the loop point is seamless, peak -12 dBFS.
 * - Reproducible: flite and sox are deterministic; sox runs with -R (fixed seeds) and -D (no
 *   dither); WAV headers carry no dates; the manifest has no timestamps.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '..', '..');
const RATE_HZ = 16000;
const SPEECH_PEAK_DB = -3;
const MUSIC_PEAK_DB = -12;
/** Every prompt id (a file name without `.wav`): lower-case words joined by dashes, digits allowed. */
const NAME_RE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const LANG_RE = /^[a-z]{2,3}(-[a-z0-9]{2,8})?$/;

/** The half-built language directory, removed when the build fails. */
let staging = null;

function fail(message) {
  if (staging !== null) rmSync(staging, { recursive: true, force: true });
  console.error(`build-prompts: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const args = { langs: [], out: join(REPO_ROOT, 'dist', 'prompts'), textsDir: HERE };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => argv[++i] ?? fail(`${a} needs a value`);
    if (a === '--lang') args.langs.push(value());
    else if (a === '--out') args.out = resolve(value());
    else if (a === '--texts-dir') args.textsDir = resolve(value());
    else fail(`unknown argument ${a} (usage: build-prompts.mjs [--lang en] [--out dist/prompts] [--texts-dir DIR])`);
  }
  if (args.langs.length === 0) {
    args.langs = readdirSync(args.textsDir)
      .map((f) => /^texts\.(.+)\.json$/.exec(f)?.[1])
      .filter((l) => l !== undefined)
      .sort();
  }
  return args;
}

function run(cmd, argv) {
  try {
    return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    if (err.code === 'ENOENT') fail(`${cmd} is not installed (it is in provisioning/apt-packages.txt: run make apt)`);
    fail(`${cmd} ${argv.join(' ')} failed: ${String(err.stderr ?? err.message).trim()}`);
  }
}

/** sox, deterministic: fixed seeds (-R), no dither (-D); a clipping warning is an error. */
function soxChecked(argv) {
  const r = spawnSync('sox', ['-R', '-D', '-V2', ...argv], { encoding: 'utf8' });
  if (r.error?.code === 'ENOENT') fail('sox is not installed (it is in provisioning/apt-packages.txt: run make apt)');
  if (r.status !== 0) fail(`sox ${argv.join(' ')} failed: ${String(r.stderr || r.error?.message).trim()}`);
  if (/clipped/i.test(r.stderr)) fail(`sox clipped samples: sox ${argv.join(' ')}: ${r.stderr.trim()}`);
}

const ENGINES = {
  flite: {
    // `flite --version` prints its banner and exits 1.
    version: () => /version:\s*(\S+)/.exec(spawnSync('flite', ['--version'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? 'unknown',
    speak: (voice, text, out) => run('flite', ['-voice', voice, '-t', text, '-o', out]),
  },
  'espeak-ng': {
    version: () => /text-to-speech:\s*(\S+)/.exec(run('espeak-ng', ['--version']))?.[1] ?? 'unknown',
    speak: (voice, text, out) => run('espeak-ng', ['-v', voice, '-w', out, text]),
  },
};

function loadTexts(textsDir, lang) {
  if (!LANG_RE.test(lang)) fail(`language tag ${JSON.stringify(lang)} is not like en or zh`);
  const path = join(textsDir, `texts.${lang}.json`);
  if (!existsSync(path)) fail(`no prompt texts for ${lang}: ${path} is missing`);
  const t = JSON.parse(readFileSync(path, 'utf8'));
  if (t.lang !== lang) fail(`${path}: "lang" is ${JSON.stringify(t.lang)}, not ${lang}`);
  if (ENGINES[t.voice?.engine] === undefined) fail(`${path}: voice.engine must be one of ${Object.keys(ENGINES).join(', ')}`);
  if (typeof t.voice.voice !== 'string') fail(`${path}: voice.voice must name a voice`);
  return { path, ...t };
}

/** The files of one language: [{ name, prompt, n, kind, text }], in table order, numbers ascending. */
function expand(texts) {
  const files = [];
  for (const [prompt, spec] of Object.entries(texts.prompts)) {
    if (!NAME_RE.test(prompt)) fail(`${texts.path}: prompt name ${JSON.stringify(prompt)} is not lower-case-with-dashes`);
    const kind = spec.kind ?? 'speech';
    if (kind === 'music') {
      files.push({ name: prompt, prompt, n: null, kind, text: null });
      continue;
    }
    if (kind !== 'speech' || typeof spec.text !== 'string' || spec.text.trim() === '') fail(`${texts.path}: ${prompt} needs a text`);
    if (spec.range === undefined) {
      if (spec.text.includes('{n}')) fail(`${texts.path}: ${prompt} has {n} but no range`);
      files.push({ name: prompt, prompt, n: null, kind, text: spec.text });
      continue;
    }
    const [lo, hi] = spec.range;
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi < lo) fail(`${texts.path}: ${prompt}.range must be [lo, hi]`);
    for (let n = lo; n <= hi; n++) {
      const word = texts.numbers?.[n];
      if (typeof word !== 'string') fail(`${texts.path}: "numbers" has no word for ${n} (needed by ${prompt})`);
      const text = spec.variants?.[String(n)] ?? spec.text.replaceAll('{n}', word);
      files.push({ name: `${prompt}-${n}`, prompt, n, kind, text });
    }
  }
  return files;
}

/** Duration of a canonical PCM WAV: the data chunk's bytes over the byte rate. */
function wavDurationMs(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 12;
  let byteRate = 0;
  while (off + 8 <= bytes.byteLength) {
    const id = bytes.toString('latin1', off, off + 4);
    const size = dv.getUint32(off + 4, true);
    if (id === 'fmt ') byteRate = dv.getUint32(off + 16, true);
    if (id === 'data') return Math.round((size * 1000) / byteRate);
    off += 8 + size + (size & 1);
  }
  fail('a built WAV has no data chunk');
}

const CHORDS = {
  // bass, then the broken chord up and back down (8 eighths per bar)
  C: ['C3', 'G3', 'C4', 'E4', 'G4', 'E4', 'C4', 'G3'],
  Am: ['A2', 'E3', 'A3', 'C4', 'E4', 'C4', 'A3', 'E3'],
  F: ['F2', 'C3', 'F3', 'A3', 'C4', 'A3', 'F3', 'C3'],
  G: ['G2', 'D3', 'G3', 'B3', 'D4', 'B3', 'G3', 'D3'],
  Em: ['E2', 'B2', 'E3', 'G3', 'B3', 'G3', 'E3', 'B2'],
  Dm: ['D3', 'A3', 'D4', 'F4', 'A4', 'F4', 'D4', 'A3'],
};
const PROGRESSION = ['C', 'Am', 'F', 'G', 'C', 'Em', 'F', 'G', 'Am', 'F', 'Dm', 'G'];
const BAR_S = 2.5;

function holdMusic(work, out) {
  const step = BAR_S / 8;
  const bars = {};
  for (const chord of new Set(PROGRESSION)) {
    const notes = CHORDS[chord];
    const file = join(work, `bar-${chord}.wav`);
    // 8 plucked notes, one per channel, each channel delayed by its eighth; a soft sine pad of the
    // triad under them; mixed down (weights keep the sum far from full scale), cut to the bar, and
    // faded at both ends so bars (and the loop) join without a click.
    const pad = [notes[2], notes[3], notes[4]];
    const delays = notes.map((_, i) => (i * step).toFixed(4));
    const remix = [...notes.map((_, i) => `${i + 1}v0.16`), ...pad.map((_, i) => `${notes.length + i + 1}v0.03`)].join(',');
    soxChecked([
      '-n',
      '-r',
      String(RATE_HZ),
      '-c',
      '1',
      '-b',
      '16',
      '-e',
      'signed-integer',
      file,
      'synth',
      String(BAR_S),
      ...notes.flatMap((n) => ['pluck', n]),
      ...pad.flatMap((n) => ['sine', n]),
      'delay',
      ...delays,
      ...pad.map(() => '0'),
      'remix',
      remix,
      'trim',
      '0',
      String(BAR_S),
      'fade',
      'q',
      '0.01',
      String(BAR_S),
      '0.2',
    ]);
    bars[chord] = file;
  }
  const joined = join(work, 'hold-joined.wav');
  soxChecked([...PROGRESSION.map((c) => bars[c]), joined]);
  soxChecked([
    joined,
    '-r',
    String(RATE_HZ),
    '-c',
    '1',
    '-b',
    '16',
    '-e',
    'signed-integer',
    out,
    'lowpass',
    '3000',
    'gain',
    '-n',
    String(MUSIC_PEAK_DB),
  ]);
}

function speech(engine, voice, text, work, out) {
  const raw = join(work, 'raw.wav');
  engine.speak(voice, text, raw);
  soxChecked([raw, '-r', String(RATE_HZ), '-c', '1', '-b', '16', '-e', 'signed-integer', out, 'gain', '-n', String(SPEECH_PEAK_DB)]);
  rmSync(raw, { force: true });
}

function buildLanguage(args, lang) {
  const texts = loadTexts(args.textsDir, lang);
  const engine = ENGINES[texts.voice.engine];
  const files = expand(texts);
  const final = join(args.out, lang);
  staging = join(args.out, `.${lang}.building-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, '.work'), { recursive: true });
  const work = join(staging, '.work');
  const entries = [];
  for (const f of files) {
    const file = `${f.name}.wav`;
    const out = join(staging, file);
    if (f.kind === 'music') holdMusic(work, out);
    else speech(engine, texts.voice.voice, f.text, work, out);
    const bytes = readFileSync(out);
    entries.push({
      name: f.name,
      prompt: f.prompt,
      n: f.n,
      kind: f.kind,
      text: f.text,
      file,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      durationMs: wavDurationMs(bytes),
    });
  }
  rmSync(work, { recursive: true, force: true });
  const manifest = {
    format: 'edgevox-prompts',
    version: 1,
    lang,
    sampleRateHz: RATE_HZ,
    generator: {
      engine: texts.voice.engine,
      engineVersion: engine.version(),
      voice: texts.voice.voice,
      sox: run('sox', ['--version'])
        .trim()
        .replace(/^sox:\s*/, ''),
    },
    prompts: entries,
  };
  writeFileSync(join(staging, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  const old = join(args.out, `.${lang}.old-${process.pid}`);
  if (existsSync(final)) renameSync(final, old);
  renameSync(staging, final);
  staging = null;
  rmSync(old, { recursive: true, force: true });
  return manifest;
}

const args = parseArgs(process.argv.slice(2));
if (args.langs.length === 0) fail(`no texts.<lang>.json in ${args.textsDir}`);
mkdirSync(args.out, { recursive: true });
for (const lang of args.langs) {
  const m = buildLanguage(args, lang);
  const total = m.prompts.reduce((s, p) => s + p.durationMs, 0);
  console.log(
    `prompts: ${lang}: ${m.prompts.length} files, ${(total / 1000).toFixed(1)} s (${m.generator.engine} ${m.generator.engineVersion}, voice ${m.generator.voice}) -> ${join(args.out, lang)}`,
  );
}
