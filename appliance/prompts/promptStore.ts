/**
 * The voice prompts a caller hears (greeting, hold music, queue position, ...), per language.
 *
 * Two layers, looked up in this order:
 * - the site's own recordings, `<dataDir>/prompts/<lang>/<name>.wav`, uploaded from the console
 *   (`replace`) and removed again with `reset`;
 * - the defaults built with the appliance, `<defaultsDir>/<lang>/<name>.wav` and their
 *   `manifest.json` (provisioning/prompts/build-prompts.mjs, `make prompts`). The manifest is the
 *   list of prompt names: a site may replace a prompt, never add one.
 *
 * Numbers: `position` and `expected-wait` are built once per number (`position-1` .. `position-20`,
 * `expected-wait-1` .. `expected-wait-30`), whole sentences, so playing one is a single file and no
 * concatenation happens during a call. `get(lang, 'position', { n: 3 })` and
 * `get(lang, 'position-3')` are the same file; a number outside the built range has no prompt
 * (EVX_ERR_NOT_FOUND; the caller plays something else). A site replaces each number's file alone.
 *
 * Uploads are validated before anything is written (RIFF/WAVE, 16-bit PCM, mono or stereo — stereo
 * is mixed down —, 8–48 kHz, 0.3–300 s, RMS above -50 dBFS), stored as mono 16-bit PCM at their own
 * rate or 16 kHz when higher (no call plays more than 16 kHz), written to a temporary file and
 * renamed over the old one: a refused or failed upload leaves the previous file as it was.
 *
 * Decoded audio is cached per file version and rate in a bounded LRU (bytes of PCM); long work
 * (resampling minutes of audio) yields to the event loop between 1 s blocks, so calls in progress
 * keep their RTP pacing while a technician uploads hold music.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { StreamingResampler } from '../audio/resample.js';
import { encodeWav, MAX_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ, parseWav } from '../audio/wav.js';
import { evxError } from '../errors.js';

/** The rates prompts are played at: G.711 (8 kHz) and G.722 / WebRTC to the ASR (16 kHz). */
export type PromptRateHz = 8000 | 16000;
export const PROMPT_RATES_HZ: readonly PromptRateHz[] = [8000, 16000];

export const MIN_PROMPT_MS = 300;
export const MAX_PROMPT_MS = 300_000;
/** An upload whose RMS level is below this is refused as silent. */
export const SILENCE_FLOOR_DBFS = -50;
/** Highest rate an upload is stored at (higher ones are resampled to it). */
export const STORED_MAX_RATE_HZ = 16000;
/** Largest upload that can pass validation: 300 s of 48 kHz stereo 16-bit, plus header room. */
export const MAX_PROMPT_UPLOAD_BYTES = (MAX_PROMPT_MS / 1000) * MAX_SAMPLE_RATE_HZ * 2 * 2 + 64 * 1024;
const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

/** Prompt ids: file names without `.wav` (lower-case words and digits joined by dashes). */
export const PROMPT_NAME_RE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** Language tags as used for directories: `en`, `zh`, `pt-br`. */
export const PROMPT_LANG_RE = /^[a-z]{2,3}(-[a-z0-9]{2,8})?$/;

export type PromptKind = 'speech' | 'music';
export type PromptSource = 'default' | 'site';

/** One file of the built defaults, as build-prompts.mjs writes it into manifest.json. */
export interface PromptManifestEntry {
  /** The file's id: `greeting`, `position-3`. */
  readonly name: string;
  /** The prompt it belongs to: `greeting`, `position`. */
  readonly prompt: string;
  /** The number a templated prompt says, or null. */
  readonly n: number | null;
  readonly kind: PromptKind;
  /** What the default says (null for music): what an ASR transcript of it is compared with. */
  readonly text: string | null;
  readonly file: string;
  readonly sha256: string;
  readonly durationMs: number;
}

export interface PromptManifest {
  readonly format: 'edgevox-prompts';
  readonly version: 1;
  readonly lang: string;
  readonly sampleRateHz: number;
  readonly generator: Readonly<Record<string, string>>;
  readonly prompts: readonly PromptManifestEntry[];
}

/** A prompt file as it is in effect now. */
export interface PromptInfo {
  readonly lang: string;
  readonly name: string;
  readonly prompt: string;
  readonly n: number | null;
  readonly kind: PromptKind;
  /** The default's wording (a site recording may say it differently). */
  readonly text: string | null;
  readonly source: PromptSource;
  readonly sampleRateHz: number;
  readonly durationMs: number;
  readonly sha256: string;
  /** When the site recording was stored (unix ms); null for a default. */
  readonly updatedAt: number | null;
}

export interface PromptStoreOptions {
  /** The appliance's data directory: site recordings go to `<dataDir>/prompts/<lang>/`. */
  readonly dataDir: string;
  /** Where the built defaults are: `<defaultsDir>/<lang>/manifest.json` (dist/prompts). */
  readonly defaultsDir: string;
  /** Most bytes of decoded PCM kept in memory (default 64 MiB). */
  readonly cacheBytes?: number;
  /** Told when a site recording cannot be read and the default is played instead. */
  readonly onFallback?: (info: { lang: string; name: string; error: unknown }) => void;
}

interface Located {
  readonly entry: PromptManifestEntry;
  readonly path: string;
  readonly source: PromptSource;
  readonly mtimeMs: number;
  readonly size: number;
}

interface FileFacts {
  readonly sampleRateHz: number;
  readonly durationMs: number;
  readonly sha256: string;
}

export class PromptStore {
  readonly dataDir: string;
  readonly defaultsDir: string;
  private readonly cacheLimit: number;
  private readonly onFallback: NonNullable<PromptStoreOptions['onFallback']>;
  private readonly manifests = new Map<string, Promise<PromptManifest>>();
  /** Decoded PCM by file version and rate; Map order is the LRU order (oldest first). */
  private readonly cache = new Map<string, Int16Array>();
  private cachedBytes = 0;
  private readonly decoding = new Map<string, Promise<Int16Array>>();
  /** sha256/duration of site files by version (list() reads them once). */
  private readonly facts = new Map<string, FileFacts>();
  /** replace/reset of one prompt run one after the other. */
  private readonly writes = new Map<string, Promise<unknown>>();

  constructor(options: PromptStoreOptions) {
    this.dataDir = options.dataDir;
    this.defaultsDir = options.defaultsDir;
    this.cacheLimit = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
    this.onFallback = options.onFallback ?? (() => {});
  }

  /** Languages with built defaults. */
  async languages(): Promise<string[]> {
    let dirs: string[];
    try {
      dirs = await readdir(this.defaultsDir);
    } catch {
      return [];
    }
    const out: string[] = [];
    for (const d of dirs.sort()) {
      if (!PROMPT_LANG_RE.test(d)) continue;
      if (await exists(join(this.defaultsDir, d, 'manifest.json'))) out.push(d);
    }
    return out;
  }

  /** The built defaults of a language. */
  manifest(lang: string): Promise<PromptManifest> {
    checkLang(lang);
    let m = this.manifests.get(lang);
    if (m === undefined) {
      m = loadManifest(this.defaultsDir, lang);
      m.catch(() => this.manifests.delete(lang)); // a later build may fix it
      this.manifests.set(lang, m);
    }
    return m;
  }

  /** Every prompt file of a language with where it comes from, its duration and sha256. */
  async list(lang: string): Promise<PromptInfo[]> {
    const m = await this.manifest(lang);
    const out: PromptInfo[] = [];
    for (const entry of m.prompts) out.push(await this.info(lang, await this.locate(lang, entry)));
    return out;
  }

  /** One prompt file as it is in effect now. */
  async describe(lang: string, name: string, n?: number): Promise<PromptInfo> {
    const entry = await this.entry(lang, name, n);
    return this.info(lang, await this.locate(lang, entry));
  }

  /**
   * The PCM samples of a prompt at `rateHz` (mono 16-bit), the site's recording when there is one.
   * Templated prompts take their number as `n` (or as part of the name: `position-3`).
   */
  async get(lang: string, name: string, options: { n?: number; rateHz?: PromptRateHz } = {}): Promise<Int16Array> {
    const rateHz = options.rateHz ?? 8000;
    if (!PROMPT_RATES_HZ.includes(rateHz)) {
      throw evxError('EVX_ERR_BAD_REQUEST', `prompts play at ${PROMPT_RATES_HZ.join(' or ')} Hz, not ${String(rateHz)}`, {
        details: { rateHz },
      });
    }
    const entry = await this.entry(lang, name, options.n);
    const at = await this.locate(lang, entry);
    try {
      return await this.decoded(at, rateHz);
    } catch (err) {
      if (at.source === 'default') throw err;
      // A site file that cannot be read (changed behind our back) must not silence the call.
      this.onFallback({ lang, name: entry.name, error: err });
      return this.decoded(await this.defaultLocation(lang, entry), rateHz);
    }
  }

  /** The WAV file in effect (for download), with its facts. */
  async file(lang: string, name: string): Promise<{ bytes: Buffer; info: PromptInfo }> {
    const entry = await this.entry(lang, name);
    const at = await this.locate(lang, entry);
    const bytes = await readFile(at.path);
    return { bytes, info: await this.info(lang, at) };
  }

  /**
   * Validate `wav` and store it as the site's recording of `name`. Refused uploads throw an
   * EdgeVoxError (EVX_ERR_AUDIO_FORMAT, EVX_ERR_AUDIO_TRUNCATED, EVX_ERR_BAD_REQUEST for duration or
   * silence) and leave the current file untouched; so does a failed write.
   */
  async replace(lang: string, name: string, wav: Uint8Array): Promise<PromptInfo> {
    const entry = await this.entry(lang, name);
    const stored = await normaliseUpload(wav, `${lang}/${entry.name}.wav`);
    return this.serialised(lang, entry.name, async () => {
      const dir = join(this.dataDir, 'prompts', lang);
      const path = join(dir, entry.file);
      await writeAtomically(dir, path, stored);
      this.forget(path);
      return this.info(lang, await this.locate(lang, entry));
    });
  }

  /** Remove the site's recording of `name`: the default plays again. Idempotent. */
  async reset(lang: string, name: string): Promise<PromptInfo> {
    const entry = await this.entry(lang, name);
    return this.serialised(lang, entry.name, async () => {
      const path = join(this.dataDir, 'prompts', lang, entry.file);
      try {
        await unlink(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          throw evxError('EVX_ERR_DATA_DIR', `cannot remove the site recording of ${lang}/${entry.name}`, {
            cause: err,
            details: { lang, name: entry.name },
          });
        }
      }
      this.forget(path);
      return this.info(lang, await this.locate(lang, entry));
    });
  }

  /** What the decoded-audio cache holds now. */
  cacheStats(): { entries: number; bytes: number; limitBytes: number } {
    return { entries: this.cache.size, bytes: this.cachedBytes, limitBytes: this.cacheLimit };
  }

  // ---------------------------------------------------------------------------------------------

  private async entry(lang: string, name: string, n?: number): Promise<PromptManifestEntry> {
    const m = await this.manifest(lang);
    const base = name.endsWith('.wav') ? name.slice(0, -4) : name;
    if (!PROMPT_NAME_RE.test(base)) {
      throw evxError('EVX_ERR_NOT_FOUND', `no prompt named ${JSON.stringify(name).slice(0, 80)}`, { details: { resource: 'prompt' } });
    }
    if (n !== undefined) {
      const family = m.prompts.filter((p) => p.prompt === base && p.n !== null);
      if (family.length === 0) {
        throw evxError('EVX_ERR_BAD_REQUEST', `prompt ${lang}/${base} takes no number`, { details: { lang, name: base } });
      }
      const hit = Number.isInteger(n) ? family.find((p) => p.n === n) : undefined;
      if (hit === undefined) {
        const ns = family.map((p) => p.n!);
        throw evxError(
          'EVX_ERR_NOT_FOUND',
          `prompt ${lang}/${base} has no file for ${String(n)} (built for ${Math.min(...ns)}..${Math.max(...ns)})`,
          {
            details: { resource: 'prompt', lang, name: base, min: Math.min(...ns), max: Math.max(...ns) },
          },
        );
      }
      return hit;
    }
    const hit = m.prompts.find((p) => p.name === base);
    if (hit !== undefined) return hit;
    if (m.prompts.some((p) => p.prompt === base && p.n !== null)) {
      throw evxError('EVX_ERR_BAD_REQUEST', `prompt ${lang}/${base} needs a number (${base}-<n>)`, { details: { lang, name: base } });
    }
    throw evxError('EVX_ERR_NOT_FOUND', `no prompt ${lang}/${base}`, { details: { resource: 'prompt', lang, name: base } });
  }

  private async locate(lang: string, entry: PromptManifestEntry): Promise<Located> {
    const sitePath = join(this.dataDir, 'prompts', lang, entry.file);
    try {
      const s = await stat(sitePath);
      if (s.isFile()) return { entry, path: sitePath, source: 'site', mtimeMs: s.mtimeMs, size: s.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return this.defaultLocation(lang, entry);
  }

  private async defaultLocation(lang: string, entry: PromptManifestEntry): Promise<Located> {
    const path = join(this.defaultsDir, lang, entry.file);
    try {
      const s = await stat(path);
      return { entry, path, source: 'default', mtimeMs: s.mtimeMs, size: s.size };
    } catch (err) {
      throw evxError('EVX_ERR_NOT_FOUND', `the built prompt ${lang}/${entry.file} is missing (run make prompts)`, {
        cause: err,
        details: { resource: 'prompt', lang, name: entry.name },
      });
    }
  }

  private async info(lang: string, at: Located): Promise<PromptInfo> {
    const e = at.entry;
    const base = { lang, name: e.name, prompt: e.prompt, n: e.n, kind: e.kind, text: e.text };
    if (at.source === 'default') {
      const m = await this.manifest(lang);
      return { ...base, source: 'default', sampleRateHz: m.sampleRateHz, durationMs: e.durationMs, sha256: e.sha256, updatedAt: null };
    }
    const key = versionKey(at);
    let f = this.facts.get(key);
    if (f === undefined) {
      const bytes = await readFile(at.path);
      const wav = parseWav(bytes, `${lang}/${e.file}`);
      f = {
        sampleRateHz: wav.sampleRateHz,
        durationMs: Math.round(wav.durationMs),
        sha256: createHash('sha256').update(bytes).digest('hex'),
      };
      if (this.facts.size > 1000) this.facts.clear();
      this.facts.set(key, f);
    }
    return { ...base, source: 'site', ...f, updatedAt: Math.round(at.mtimeMs) };
  }

  private async decoded(at: Located, rateHz: PromptRateHz): Promise<Int16Array> {
    const key = `${versionKey(at)}|${rateHz}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    let pending = this.decoding.get(key);
    if (pending === undefined) {
      pending = (async () => {
        const wav = parseWav(await readFile(at.path), at.entry.file);
        const pcm = await resampleYielding(wav.samples, wav.sampleRateHz, rateHz);
        this.remember(key, pcm);
        return pcm;
      })().finally(() => this.decoding.delete(key));
      this.decoding.set(key, pending);
    }
    return pending;
  }

  private remember(key: string, pcm: Int16Array): void {
    if (pcm.byteLength > this.cacheLimit) return;
    this.cache.set(key, pcm);
    this.cachedBytes += pcm.byteLength;
    for (const [k, v] of this.cache) {
      if (this.cachedBytes <= this.cacheLimit) break;
      this.cache.delete(k);
      this.cachedBytes -= v.byteLength;
    }
  }

  /** Drop cached audio and facts of every version of one file. */
  private forget(path: string): void {
    for (const [k, v] of this.cache) {
      if (k.startsWith(`${path}|`)) {
        this.cache.delete(k);
        this.cachedBytes -= v.byteLength;
      }
    }
    for (const k of this.facts.keys()) if (k.startsWith(`${path}|`)) this.facts.delete(k);
  }

  private serialised<T>(lang: string, name: string, work: () => Promise<T>): Promise<T> {
    const key = `${lang}/${name}`;
    const prev = this.writes.get(key) ?? Promise.resolve();
    const next = prev.then(work, work);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.writes.set(key, settled);
    void settled.then(() => {
      if (this.writes.get(key) === settled) this.writes.delete(key);
    });
    return next;
  }
}

function versionKey(at: Located): string {
  return `${at.path}|${at.mtimeMs}|${at.size}`;
}

function checkLang(lang: string): void {
  if (!PROMPT_LANG_RE.test(lang)) {
    throw evxError('EVX_ERR_NOT_FOUND', `no prompts for language ${JSON.stringify(lang).slice(0, 40)}`, {
      details: { resource: 'prompt-language' },
    });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function loadManifest(defaultsDir: string, lang: string): Promise<PromptManifest> {
  const path = join(defaultsDir, lang, 'manifest.json');
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (err) {
    throw evxError('EVX_ERR_NOT_FOUND', `no prompts built for language ${lang} (${path} is missing: run make prompts)`, {
      cause: err,
      details: { resource: 'prompt-language', lang },
    });
  }
  const bad = (why: string) =>
    evxError('EVX_ERR_INTERNAL', `the prompt manifest of ${lang} is malformed: ${why} (rebuild with make prompts)`, {
      details: { lang },
    });
  let m: PromptManifest;
  try {
    m = JSON.parse(raw) as PromptManifest;
  } catch {
    throw bad('not JSON');
  }
  if (m.format !== 'edgevox-prompts' || m.version !== 1 || m.lang !== lang || !Array.isArray(m.prompts)) throw bad('wrong header');
  const entries: readonly Partial<PromptManifestEntry>[] = m.prompts;
  for (const p of entries) {
    // The file name comes from the manifest: it must be the id + .wav, nothing that leaves the directory.
    const ok =
      typeof p.name === 'string' &&
      PROMPT_NAME_RE.test(p.name) &&
      p.file === `${p.name}.wav` &&
      typeof p.prompt === 'string' &&
      (p.n === null || Number.isInteger(p.n)) &&
      (p.kind === 'speech' || p.kind === 'music') &&
      typeof p.sha256 === 'string' &&
      typeof p.durationMs === 'number';
    if (!ok) throw bad(`entry ${JSON.stringify(p.name ?? null)}`);
  }
  return m;
}

/** Bring mono PCM to `toHz` with the appliance's resampler, in 1 s blocks with a yield between. */
export async function resampleYielding(samples: Int16Array, fromHz: number, toHz: number): Promise<Int16Array> {
  if (fromHz === toHz) return samples;
  const rs = new StreamingResampler(fromHz, toHz);
  const block = fromHz;
  const out = new Float32Array(rs.maxOutput(samples.length) + rs.maxOutput(0) + 16);
  const f = new Float32Array(block);
  let n = 0;
  for (let off = 0; off < samples.length; off += block) {
    const len = Math.min(block, samples.length - off);
    for (let i = 0; i < len; i++) f[i] = samples[off + i]! / 32768;
    n += rs.process(f.subarray(0, len), out.subarray(n));
    if (off + block < samples.length) await yieldToLoop();
  }
  n += rs.flush(out.subarray(n));
  const pcm = new Int16Array(n);
  for (let i = 0; i < n; i++) pcm[i] = Math.max(-32768, Math.min(32767, Math.round(out[i]! * 32768)));
  return pcm;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/**
 * Validate an uploaded WAV and return the file to store: mono 16-bit PCM at its own rate, or at
 * 16 kHz when it was higher. Every refusal is an EdgeVoxError whose message says what to change.
 */
export async function normaliseUpload(buf: Uint8Array, label: string): Promise<Uint8Array> {
  const { rate, channels, data } = readPcmWav(buf, label);
  const frames = data.byteLength / (2 * channels);
  const durationMs = (frames * 1000) / rate;
  if (durationMs < MIN_PROMPT_MS || durationMs > MAX_PROMPT_MS) {
    throw evxError(
      'EVX_ERR_BAD_REQUEST',
      `${label}: the recording is ${(durationMs / 1000).toFixed(2)} s long; a prompt must last ${MIN_PROMPT_MS / 1000}–${MAX_PROMPT_MS / 1000} s`,
      { details: { reason: 'duration', durationMs: Math.round(durationMs), minMs: MIN_PROMPT_MS, maxMs: MAX_PROMPT_MS } },
    );
  }
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const mono = new Int16Array(frames);
  let sumSq = 0;
  for (let i = 0; i < frames; i++) {
    let v: number;
    if (channels === 1) v = dv.getInt16(2 * i, true);
    else v = Math.round((dv.getInt16(4 * i, true) + dv.getInt16(4 * i + 2, true)) / 2);
    mono[i] = v;
    sumSq += v * v;
  }
  const rms = Math.sqrt(sumSq / Math.max(1, frames));
  const levelDb = rms === 0 ? -Infinity : 20 * Math.log10(rms / 32768);
  if (!(levelDb > SILENCE_FLOOR_DBFS)) {
    throw evxError(
      'EVX_ERR_BAD_REQUEST',
      `${label}: the recording is silent (RMS level ${Number.isFinite(levelDb) ? `${levelDb.toFixed(1)} dBFS` : '-inf'}, needs above ${SILENCE_FLOOR_DBFS} dBFS)`,
      {
        details: {
          reason: 'silent',
          levelDbfs: Number.isFinite(levelDb) ? Math.round(levelDb * 10) / 10 : null,
          floorDbfs: SILENCE_FLOOR_DBFS,
        },
      },
    );
  }
  if (rate <= STORED_MAX_RATE_HZ) return encodeWav(mono, rate, 'pcm16');
  return encodeWav(await resampleYielding(mono, rate, STORED_MAX_RATE_HZ), STORED_MAX_RATE_HZ, 'pcm16');
}

/** The fmt and data of a 16-bit PCM WAV (mono or stereo, 8–48 kHz); anything else is refused. */
function readPcmWav(buf: Uint8Array, label: string): { rate: number; channels: number; data: Uint8Array } {
  const format = (why: string) =>
    evxError('EVX_ERR_AUDIO_FORMAT', `${label}: not a usable prompt: ${why}; send a 16-bit PCM WAV, mono or stereo, 8–48 kHz`, {
      details: { reason: 'format' },
    });
  const truncated = (why: string) =>
    evxError('EVX_ERR_AUDIO_TRUNCATED', `${label}: truncated WAV: ${why}`, { details: { reason: 'truncated' } });
  const ascii = (o: number) => String.fromCharCode(buf[o]!, buf[o + 1]!, buf[o + 2]!, buf[o + 3]!);
  if (buf.byteLength < 12) throw truncated(`only ${buf.byteLength} bytes`);
  if (ascii(0) !== 'RIFF' || ascii(8) !== 'WAVE') throw format('it is not a RIFF/WAVE file');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let fmt: { tag: number; channels: number; rate: number; bits: number; align: number } | undefined;
  let offset = 12;
  while (offset + 8 <= buf.byteLength) {
    const id = ascii(offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.byteLength) throw truncated('the fmt chunk is shorter than 16 bytes');
      let tag = view.getUint16(body, true);
      if (tag === WAVE_FORMAT_EXTENSIBLE) {
        if (size < 40 || body + 40 > buf.byteLength) throw truncated('the extensible fmt chunk is short');
        tag = view.getUint16(body + 24, true);
      }
      fmt = {
        tag,
        channels: view.getUint16(body + 2, true),
        rate: view.getUint32(body + 4, true),
        align: view.getUint16(body + 12, true),
        bits: view.getUint16(body + 14, true),
      };
      if (fmt.tag !== WAVE_FORMAT_PCM) throw format(`its encoding (format tag ${fmt.tag}) is not linear PCM`);
      if (fmt.bits !== 16) throw format(`it has ${fmt.bits}-bit samples`);
      if (fmt.channels !== 1 && fmt.channels !== 2) throw format(`it has ${fmt.channels} channels`);
      if (fmt.rate < MIN_SAMPLE_RATE_HZ || fmt.rate > MAX_SAMPLE_RATE_HZ) throw format(`its sample rate is ${fmt.rate} Hz`);
      if (fmt.align !== 2 * fmt.channels) throw format(`its block align ${fmt.align} does not fit ${fmt.channels} x 16 bits`);
    } else if (id === 'data') {
      if (fmt === undefined) throw format('the data chunk comes before the fmt chunk');
      if (size > buf.byteLength - body) throw truncated(`the data chunk declares ${size} bytes but ${buf.byteLength - body} follow`);
      const usable = size - (size % fmt.align);
      return { rate: fmt.rate, channels: fmt.channels, data: buf.subarray(body, body + usable) };
    }
    offset = body + size + (size & 1);
  }
  if (fmt === undefined) throw truncated('no fmt chunk');
  throw truncated('no data chunk');
}

async function writeAtomically(dir: string, path: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dir, `.${randomBytes(6).toString('hex')}.${process.pid}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    const fh = await open(tmp, 'wx', 0o640);
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw evxError(
      'EVX_ERR_DATA_DIR',
      `cannot store the prompt ${path.split('/').slice(-2).join('/')}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      {
        cause: err,
        details: { reason: (err as NodeJS.ErrnoException).code ?? 'error' },
      },
    );
  }
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Directory fsync is best effort (the rename is already atomic).
  }
}
