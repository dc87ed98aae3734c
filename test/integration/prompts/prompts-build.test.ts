/**
 * The built default prompts (make prompts: flite + sox into dist/prompts/en): every prompt of the
 * text table is there with a manifest that tells the truth about each file, durations are sane,
 * speech is not silent, the hold music is low and unclipped; a second build gives the same bytes;
 * and the English recogniser hears the greeting's words, at 16 kHz and at the 8 kHz of a phone call
 * (played through the prompt store).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Recognizer } from '../../../appliance/asr/recognizer.js';
import { transcribeAudio } from '../../../appliance/asr/transcribeFile.js';
import { parseWav } from '../../../appliance/audio/wav.js';
import { PromptStore, type PromptManifest } from '../../../appliance/prompts/promptStore.js';
import { haveTool } from '../../e2e/sip/harness.js';
import { REPO_ROOT, scratchDir } from '../../helpers/paths.js';
import { wordErrors } from '../../helpers/speech.js';
import { HAVE_MODELS, MODEL_DIR, VAD_MODEL } from '../asr/helpers.js';

const SCRIPT = join(REPO_ROOT, 'provisioning', 'prompts', 'build-prompts.mjs');
const TEXTS = join(REPO_ROOT, 'provisioning', 'prompts', 'texts.en.json');
const BUILT = join(REPO_ROOT, 'dist', 'prompts');

interface Texts {
  numbers: string[];
  prompts: Record<string, { kind?: string; text?: string; range?: [number, number] }>;
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const dbfs = (samples: Int16Array, of: 'rms' | 'peak'): number => {
  let acc = 0;
  for (const v of samples) acc = of === 'rms' ? acc + v * v : Math.max(acc, Math.abs(v));
  const level = of === 'rms' ? Math.sqrt(acc / samples.length) : acc;
  return 20 * Math.log10(level / 32768);
};

function build(out: string): void {
  execFileSync(process.execPath, [SCRIPT, '--lang', 'en', '--out', out], { cwd: REPO_ROOT, stdio: 'pipe' });
}

let manifest: PromptManifest;
let scratch: string | undefined;

beforeAll(() => {
  for (const tool of ['flite', 'sox']) if (!haveTool(tool)) throw new Error(`${tool} is required: run make setup`);
  // `make build` (and so `make setup`) builds them; a bare checkout builds them here, as make would.
  if (!existsSync(join(BUILT, 'en', 'manifest.json'))) build(BUILT);
  manifest = JSON.parse(readFileSync(join(BUILT, 'en', 'manifest.json'), 'utf8')) as PromptManifest;
});
afterAll(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

describe('built default prompts (en)', () => {
  it('has every prompt of the text table, numbers spelled out, each file as the manifest says', () => {
    const texts = JSON.parse(readFileSync(TEXTS, 'utf8')) as Texts;
    const expected: string[] = [];
    for (const [name, spec] of Object.entries(texts.prompts)) {
      if (spec.range === undefined) expected.push(name);
      else for (let n = spec.range[0]; n <= spec.range[1]; n++) expected.push(`${name}-${n}`);
    }
    expect(manifest).toMatchObject({ format: 'edgevox-prompts', version: 1, lang: 'en', sampleRateHz: 16000 });
    expect(manifest.generator).toMatchObject({ engine: 'flite', voice: 'slt' });
    expect(manifest.prompts.map((p) => p.name)).toEqual(expected);
    for (const p of ['greeting', 'hold-music', 'position-20', 'expected-wait-30', 'callback-offer', 'callback-confirmed'])
      expect(expected).toContain(p);
    for (const p of ['all-busy', 'closed', 'queue-full', 'goodbye']) expect(expected).toContain(p);

    expect(manifest.prompts.find((p) => p.name === 'greeting')!.text).toBe(
      'Thank you for calling. Please tell us briefly how we can help you.',
    );
    expect(manifest.prompts.find((p) => p.name === 'position-7')).toMatchObject({
      prompt: 'position',
      n: 7,
      text: 'You are number seven in the queue.',
    });
    expect(manifest.prompts.find((p) => p.name === 'expected-wait-1')!.text).toBe('The expected wait is about one minute.');
    expect(manifest.prompts.find((p) => p.name === 'expected-wait-25')!.text).toBe('The expected wait is about twenty five minutes.');

    for (const p of manifest.prompts) {
      const bytes = readFileSync(join(BUILT, 'en', p.file));
      expect(sha(bytes), p.name).toBe(p.sha256);
      const wav = parseWav(bytes, p.file);
      expect(wav.sampleRateHz, p.name).toBe(16000);
      expect(wav.encoding, p.name).toBe('pcm16');
      expect(Math.abs(wav.durationMs - p.durationMs), p.name).toBeLessThanOrEqual(1);
      if (p.kind === 'music') {
        expect(p.durationMs, p.name).toBeGreaterThanOrEqual(25_000);
        expect(p.durationMs, p.name).toBeLessThanOrEqual(35_000);
      } else {
        expect(p.durationMs, p.name).toBeGreaterThanOrEqual(1_000);
        expect(p.durationMs, p.name).toBeLessThanOrEqual(8_000);
        expect(dbfs(wav.samples, 'peak'), p.name).toBeCloseTo(-3, 0);
        expect(dbfs(wav.samples, 'rms'), p.name).toBeGreaterThan(-30);
      }
    }
  });

  it('greets with speech, not silence, that starts and ends quietly', () => {
    const wav = parseWav(readFileSync(join(BUILT, 'en', 'greeting.wav')));
    expect(dbfs(wav.samples, 'rms')).toBeGreaterThan(-25);
    expect(wav.durationMs).toBeGreaterThan(2500);
    // flite leaves a short quiet lead-in and tail: the first syllable is not cut when RTP starts.
    expect(dbfs(wav.samples.subarray(0, 800), 'peak')).toBeLessThan(-30);
    expect(dbfs(wav.samples.subarray(wav.samples.length - 800), 'peak')).toBeLessThan(-30);
  });

  it('holds with music at a low level, unclipped, that loops without a click', () => {
    const wav = parseWav(readFileSync(join(BUILT, 'en', 'hold-music.wav')));
    const peak = dbfs(wav.samples, 'peak');
    expect(peak).toBeLessThanOrEqual(-11.9);
    expect(peak).toBeGreaterThan(-13);
    expect(dbfs(wav.samples, 'rms')).toBeGreaterThan(-35);
    // Not a steady tone: the level moves with the notes (20 ms frames).
    const frames: number[] = [];
    for (let i = 0; i + 320 <= wav.samples.length; i += 320) frames.push(dbfs(wav.samples.subarray(i, i + 320), 'rms'));
    expect(Math.max(...frames) - Math.min(...frames.filter(Number.isFinite))).toBeGreaterThan(10);
    // The loop point: both ends are near silence, so end → start does not click.
    const last = wav.samples.length - 1;
    expect(dbfs(wav.samples.subarray(last - 15), 'peak')).toBeLessThan(-45); // the last millisecond
    expect(dbfs(wav.samples.subarray(0, 16), 'peak')).toBeLessThan(-30); // the first one
    expect(Math.abs(wav.samples[last]! - wav.samples[0]!)).toBeLessThan(100);
  });

  it('is reproducible: a second build gives byte-identical files and manifest', () => {
    scratch = scratchDir('prompts-build');
    build(scratch);
    const again = readFileSync(join(scratch, 'en', 'manifest.json'));
    expect(again.toString('utf8')).toBe(readFileSync(join(BUILT, 'en', 'manifest.json'), 'utf8'));
    for (const p of manifest.prompts) expect(sha(readFileSync(join(scratch, 'en', p.file))), p.name).toBe(p.sha256);
  });
});

describe.skipIf(!HAVE_MODELS)('the English recogniser hears the built greeting', () => {
  let rec: Recognizer;
  beforeAll(async () => {
    rec = await Recognizer.create({ modelDir: MODEL_DIR, vadModelPath: VAD_MODEL, threads: 1 });
  });
  afterAll(async () => rec?.close());

  it('word for word at 16 kHz, and within a few words at the 8 kHz a call plays it at', async () => {
    const greeting = manifest.prompts.find((p) => p.name === 'greeting')!;
    const reference = greeting.text!;
    const words = reference.split(/\s+/).length;
    const wide = parseWav(readFileSync(join(BUILT, 'en', 'greeting.wav')));
    const t16 = await transcribeAudio(rec, wide, 'greeting.wav', { vad: false });
    // Measured with flite 2.2 slt: 0 errors at 16 kHz, 2 of 12 words at 8 kHz.
    expect(wordErrors(reference, t16.text), t16.text).toBeLessThanOrEqual(1);

    const store = new PromptStore({ dataDir: scratchDir('prompts-data'), defaultsDir: BUILT });
    const narrow = await store.get('en', 'greeting', { rateHz: 8000 });
    const t8 = await transcribeAudio(
      rec,
      { sampleRateHz: 8000, encoding: 'pcm16', samples: narrow, durationMs: (narrow.length * 1000) / 8000 },
      'greeting@8k',
      { vad: false },
    );
    expect(wordErrors(reference, t8.text), t8.text).toBeLessThanOrEqual(Math.floor(words / 4));
  });
});
