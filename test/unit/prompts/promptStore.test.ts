/**
 * The prompt store on a small built-defaults tree made here (no flite needed): lookups, site
 * overrides and reset, rate conversion, the bounded cache, and every refusal of an upload leaving
 * the previous file byte for byte; then the HTTP routes behind the real access guard.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerPromptRoutes } from '../../../appliance/api/routes/prompts.js';
import { installErrorHandling } from '../../../appliance/api/errors.js';
import { encodeWav, parseWav } from '../../../appliance/audio/wav.js';
import { installAccessGuard } from '../../../appliance/auth/guard.js';
import type { Principal } from '../../../appliance/auth/authService.js';
import { isEdgeVoxError, type ErrorCode } from '../../../appliance/errors.js';
import type { Logger } from '../../../appliance/log/logger.js';
import { MAX_PROMPT_UPLOAD_BYTES, PromptStore, resampleYielding, type PromptManifest } from '../../../appliance/prompts/promptStore.js';
import { toRate } from '../../../appliance/rtp/player.js';
import { scratchDir } from '../../helpers/paths.js';

/** Lets one test make the rename of an upload fail (disk full) without touching the rest. */
const fsFault = vi.hoisted(() => ({ failRename: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const rename: typeof real.rename = async (from, to) => {
    if (fsFault.failRename) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    return real.rename(from, to);
  };
  return { ...real, rename, default: { ...real, rename } };
});

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A tone with a little vibrato: speech-like level, not silent. */
function tone(seconds: number, rateHz: number, hz = 440, amplitude = 8000): Int16Array {
  const out = new Int16Array(Math.round(seconds * rateHz));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / rateHz + 0.3 * Math.sin(i / 500)));
  return out;
}

function stereoWav(left: Int16Array, right: Int16Array, rateHz: number): Uint8Array {
  const mono = encodeWav(new Int16Array(left.length * 2), rateHz, 'pcm16');
  const dv = new DataView(mono.buffer);
  dv.setUint16(22, 2, true); // channels
  dv.setUint32(28, rateHz * 4, true); // byte rate
  dv.setUint16(32, 4, true); // block align
  for (let i = 0; i < left.length; i++) {
    dv.setInt16(44 + 4 * i, left[i]!, true);
    dv.setInt16(46 + 4 * i, right[i]!, true);
  }
  return mono;
}

interface Tree {
  root: string;
  dataDir: string;
  defaultsDir: string;
  defaults: Record<string, Uint8Array>;
}

/** dist/prompts/en as build-prompts.mjs lays it out, with tones for voices. */
function makeTree(): Tree {
  const root = scratchDir('prompts');
  const defaultsDir = join(root, 'dist-prompts');
  const dataDir = join(root, 'data');
  mkdirSync(join(defaultsDir, 'en'), { recursive: true });
  mkdirSync(dataDir);
  const specs: { name: string; prompt: string; n: number | null; kind: 'speech' | 'music'; text: string | null; wav: Uint8Array }[] = [
    {
      name: 'greeting',
      prompt: 'greeting',
      n: null,
      kind: 'speech',
      text: 'Thank you for calling.',
      wav: encodeWav(tone(1.2, 16000), 16000, 'pcm16'),
    },
    { name: 'hold-music', prompt: 'hold-music', n: null, kind: 'music', text: null, wav: encodeWav(tone(3, 16000, 262), 16000, 'pcm16') },
    ...[1, 2, 3].map((n) => ({
      name: `position-${n}`,
      prompt: 'position',
      n,
      kind: 'speech' as const,
      text: `You are number ${n} in the queue.`,
      wav: encodeWav(tone(0.8 + n / 10, 16000, 300 + 50 * n), 16000, 'pcm16'),
    })),
  ];
  const defaults: Record<string, Uint8Array> = {};
  for (const s of specs) {
    writeFileSync(join(defaultsDir, 'en', `${s.name}.wav`), s.wav);
    defaults[s.name] = s.wav;
  }
  const manifest: PromptManifest = {
    format: 'edgevox-prompts',
    version: 1,
    lang: 'en',
    sampleRateHz: 16000,
    generator: { engine: 'test' },
    prompts: specs.map((s) => ({
      name: s.name,
      prompt: s.prompt,
      n: s.n,
      kind: s.kind,
      text: s.text,
      file: `${s.name}.wav`,
      sha256: sha(s.wav),
      durationMs: Math.round(parseWav(s.wav).durationMs),
    })),
  };
  writeFileSync(join(defaultsDir, 'en', 'manifest.json'), JSON.stringify(manifest));
  return { root, dataDir, defaultsDir, defaults };
}

async function refusal(p: Promise<unknown>): Promise<{ code: ErrorCode; message: string; details: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    if (isEdgeVoxError(err)) return { code: err.code, message: err.message, details: { ...err.details } };
    throw err;
  }
  throw new Error('expected a refusal');
}

let tree: Tree;
let store: PromptStore;
const sitePath = (name: string): string => join(tree.dataDir, 'prompts', 'en', `${name}.wav`);

beforeEach(() => {
  tree = makeTree();
  store = new PromptStore({ dataDir: tree.dataDir, defaultsDir: tree.defaultsDir });
});
afterEach(() => {
  fsFault.failRename = false;
  rmSync(tree.root, { recursive: true, force: true });
});

describe('prompt store', () => {
  it('lists the built defaults with their manifest facts', async () => {
    expect(await store.languages()).toEqual(['en']);
    const list = await store.list('en');
    expect(list.map((p) => p.name)).toEqual(['greeting', 'hold-music', 'position-1', 'position-2', 'position-3']);
    expect(list.every((p) => p.source === 'default' && p.updatedAt === null)).toBe(true);
    expect(list[0]).toMatchObject({ prompt: 'greeting', n: null, kind: 'speech', sampleRateHz: 16000, durationMs: 1200 });
    expect(list[0]!.sha256).toBe(sha(tree.defaults['greeting']!));
    expect(list[2]).toMatchObject({ prompt: 'position', n: 1, text: 'You are number 1 in the queue.' });
  });

  it('plays 16 kHz as built and 8 kHz through the appliance resampler (same samples as rtp/player toRate)', async () => {
    const built = parseWav(tree.defaults['greeting']!).samples;
    const at16 = await store.get('en', 'greeting', { rateHz: 16000 });
    expect(at16).toEqual(built);
    const at8 = await store.get('en', 'greeting', { rateHz: 8000 });
    expect(at8).toEqual(toRate(built, 16000, 8000));
    expect(Math.abs(at8.length - built.length / 2)).toBeLessThan(40);
    // Default rate is the G.711 one.
    expect(await store.get('en', 'greeting')).toBe(at8);
    // The chunked (yielding) resampler equals the one-shot one on a multi-block signal, both ways.
    const long = tone(3.3, 8000);
    expect(await resampleYielding(long, 8000, 16000)).toEqual(toRate(long, 8000, 16000));
    await expect(store.get('en', 'greeting', { rateHz: 11025 as 8000 })).rejects.toMatchObject({ code: 'EVX_ERR_BAD_REQUEST' });
  });

  it('resolves numbered prompts by n or by file id, and refuses numbers outside the built range', async () => {
    expect(await store.get('en', 'position', { n: 2, rateHz: 16000 })).toBe(await store.get('en', 'position-2', { rateHz: 16000 }));
    const out = await refusal(store.get('en', 'position', { n: 4 }));
    expect(out.code).toBe('EVX_ERR_NOT_FOUND');
    expect(out.details).toMatchObject({ min: 1, max: 3 });
    expect((await refusal(store.get('en', 'position', { n: 1.5 }))).code).toBe('EVX_ERR_NOT_FOUND');
    expect((await refusal(store.get('en', 'position'))).code).toBe('EVX_ERR_BAD_REQUEST');
    expect((await refusal(store.get('en', 'greeting', { n: 1 }))).code).toBe('EVX_ERR_BAD_REQUEST');
    for (const name of ['nope', '../manifest', 'greeting/../../x', 'GREETING', '', 'a'.repeat(300)])
      expect((await refusal(store.get('en', name))).code, name).toBe('EVX_ERR_NOT_FOUND');
    for (const lang of ['zh', '..', 'en/../en', 'EN']) expect((await refusal(store.list(lang))).code, lang).toBe('EVX_ERR_NOT_FOUND');
  });

  it('plays a site recording (stereo 48 kHz mixed down, stored mono 16 kHz) until reset brings the default back', async () => {
    const before8 = await store.get('en', 'greeting', { rateHz: 8000 });
    const left = tone(2, 48000, 500, 12000);
    const right = tone(2, 48000, 500, 4000);
    const info = await store.replace('en', 'greeting', stereoWav(left, right, 48000));
    expect(info).toMatchObject({ name: 'greeting', source: 'site', sampleRateHz: 16000, durationMs: 2000 });
    expect(info.updatedAt).toBeGreaterThan(0);
    const stored = readFileSync(sitePath('greeting'));
    expect(info.sha256).toBe(sha(stored));
    const wav = parseWav(stored);
    expect(wav.sampleRateHz).toBe(16000);
    // The downmix is the mean of the channels: amplitude 8000 here.
    const peak = wav.samples.subarray(1000, 30000).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(peak).toBeGreaterThan(7600);
    expect(peak).toBeLessThan(8400);

    const now8 = await store.get('en', 'greeting', { rateHz: 8000 });
    expect(now8).not.toBe(before8);
    expect(now8.length).toBeGreaterThan(15900);
    expect((await store.list('en')).find((p) => p.name === 'greeting')!.source).toBe('site');
    expect((await store.file('en', 'greeting.wav')).bytes).toEqual(stored);
    // Only the prompt's own files are in the site directory (no temp files left behind).
    expect(readdirSync(join(tree.dataDir, 'prompts', 'en'))).toEqual(['greeting.wav']);

    const back = await store.reset('en', 'greeting');
    expect(back).toMatchObject({ source: 'default', sha256: sha(tree.defaults['greeting']!), updatedAt: null });
    expect(existsSync(sitePath('greeting'))).toBe(false);
    expect(await store.get('en', 'greeting', { rateHz: 8000 })).toEqual(before8);
    // Reset is idempotent.
    expect((await store.reset('en', 'greeting')).source).toBe('default');
  });

  it('keeps a low-rate upload at its own rate and replaces one number of a numbered prompt alone', async () => {
    const info = await store.replace('en', 'position-2', encodeWav(tone(1, 8000), 8000, 'pcm16'));
    expect(info).toMatchObject({ prompt: 'position', n: 2, source: 'site', sampleRateHz: 8000, durationMs: 1000 });
    expect((await store.get('en', 'position', { n: 2, rateHz: 16000 })).length).toBeGreaterThan(15900);
    expect((await store.describe('en', 'position', 3)).source).toBe('default');
  });

  it('refuses every unusable upload with a clear error and keeps the previous file byte for byte', async () => {
    const good = encodeWav(tone(1.5, 16000, 600), 16000, 'pcm16');
    await store.replace('en', 'greeting', good);
    const kept = readFileSync(sitePath('greeting'));
    const playing = await store.get('en', 'greeting', { rateHz: 16000 });

    const header = (mutate: (dv: DataView) => void, base = good): Uint8Array => {
      const copy = base.slice();
      mutate(new DataView(copy.buffer));
      return copy;
    };
    const cases: [string, Uint8Array, ErrorCode, RegExp][] = [
      ['empty', new Uint8Array(0), 'EVX_ERR_AUDIO_TRUNCATED', /truncated/],
      ['not RIFF', new TextEncoder().encode('ID3\u0004 this is an mp3, honestly'), 'EVX_ERR_AUDIO_FORMAT', /not a RIFF\/WAVE/],
      ['mu-law', encodeWav(new Uint8Array(16000).fill(0x10), 8000, 'mulaw'), 'EVX_ERR_AUDIO_FORMAT', /not linear PCM/],
      ['float', header((dv) => dv.setUint16(20, 3, true)), 'EVX_ERR_AUDIO_FORMAT', /format tag 3/],
      ['8-bit', header((dv) => dv.setUint16(34, 8, true)), 'EVX_ERR_AUDIO_FORMAT', /8-bit/],
      ['3 channels', header((dv) => dv.setUint16(22, 3, true)), 'EVX_ERR_AUDIO_FORMAT', /3 channels/],
      ['96 kHz', header((dv) => dv.setUint32(24, 96000, true)), 'EVX_ERR_AUDIO_FORMAT', /96000 Hz/],
      ['6 kHz', header((dv) => dv.setUint32(24, 6000, true)), 'EVX_ERR_AUDIO_FORMAT', /6000 Hz/],
      ['data cut short', good.subarray(0, 2000), 'EVX_ERR_AUDIO_TRUNCATED', /declares/],
      ['no data chunk', good.subarray(0, 36), 'EVX_ERR_AUDIO_TRUNCATED', /no data chunk/],
      ['too short', encodeWav(tone(0.2, 16000), 16000, 'pcm16'), 'EVX_ERR_BAD_REQUEST', /0\.20 s long.*0\.3–300 s/],
      ['too long', encodeWav(tone(301, 8000), 8000, 'pcm16'), 'EVX_ERR_BAD_REQUEST', /301\.00 s long/],
      ['digital silence', encodeWav(new Int16Array(16000), 16000, 'pcm16'), 'EVX_ERR_BAD_REQUEST', /silent \(RMS level -inf/],
      ['hiss at -62 dBFS', encodeWav(tone(1, 16000, 440, 35), 16000, 'pcm16'), 'EVX_ERR_BAD_REQUEST', /silent/],
    ];
    for (const [what, bytes, code, message] of cases) {
      const r = await refusal(store.replace('en', 'greeting', bytes));
      expect(r.code, what).toBe(code);
      expect(r.message, what).toMatch(message);
      expect(r.message, what).toMatch(/en\/greeting\.wav/);
      expect(readFileSync(sitePath('greeting')), what).toEqual(kept);
    }
    expect(await store.get('en', 'greeting', { rateHz: 16000 })).toBe(playing);
    expect(readdirSync(join(tree.dataDir, 'prompts', 'en'))).toEqual(['greeting.wav']);
    // The same rules hold where there was no site file yet: nothing is created.
    expect((await refusal(store.replace('en', 'goodbye', good))).code).toBe('EVX_ERR_NOT_FOUND');
    expect((await refusal(store.replace('en', 'hold-music', new Uint8Array(10)))).code).toBe('EVX_ERR_AUDIO_TRUNCATED');
    expect(existsSync(sitePath('hold-music'))).toBe(false);
  });

  it('keeps the old file when writing the new one fails (disk full at rename)', async () => {
    await store.replace('en', 'greeting', encodeWav(tone(1.5, 16000, 600), 16000, 'pcm16'));
    const kept = readFileSync(sitePath('greeting'));
    fsFault.failRename = true;
    const r = await refusal(store.replace('en', 'greeting', encodeWav(tone(2, 16000, 700), 16000, 'pcm16')));
    expect(r.code).toBe('EVX_ERR_DATA_DIR');
    expect(r.message).toMatch(/ENOSPC/);
    expect(readFileSync(sitePath('greeting'))).toEqual(kept);
    expect(readdirSync(join(tree.dataDir, 'prompts', 'en'))).toEqual(['greeting.wav']);
    fsFault.failRename = false;
    expect((await store.describe('en', 'greeting')).sha256).toBe(sha(kept));
  });

  it('plays the default when a site file was broken behind its back, and says so', async () => {
    const fallbacks: string[] = [];
    const s = new PromptStore({ dataDir: tree.dataDir, defaultsDir: tree.defaultsDir, onFallback: (f) => fallbacks.push(f.name) });
    mkdirSync(join(tree.dataDir, 'prompts', 'en'), { recursive: true });
    writeFileSync(sitePath('greeting'), 'garbage');
    expect(await s.get('en', 'greeting', { rateHz: 16000 })).toEqual(parseWav(tree.defaults['greeting']!).samples);
    expect(fallbacks).toEqual(['greeting']);
  });

  it('bounds the decoded-audio cache, keeps recent entries, and decodes a prompt once for concurrent callers', async () => {
    // greeting @16k = 38,400 bytes, @8k = 19,200; hold-music @16k = 96,000 (over the limit: never cached)
    const small = new PromptStore({ dataDir: tree.dataDir, defaultsDir: tree.defaultsDir, cacheBytes: 80_000 });
    const [a, b] = await Promise.all([small.get('en', 'greeting', { rateHz: 16000 }), small.get('en', 'greeting', { rateHz: 16000 })]);
    expect(a).toBe(b);
    expect(await small.get('en', 'greeting', { rateHz: 16000 })).toBe(a);
    const hold = await small.get('en', 'hold-music', { rateHz: 16000 });
    expect(hold.length).toBe(48000);
    expect(await small.get('en', 'hold-music', { rateHz: 16000 })).not.toBe(hold);
    for (const n of [1, 2, 3]) for (const rateHz of [8000, 16000] as const) await small.get('en', 'position', { n, rateHz });
    const stats = small.cacheStats();
    expect(stats.bytes).toBeLessThanOrEqual(80_000);
    expect(stats.entries).toBeGreaterThan(1);
    // The most recent is still cached; the greeting was evicted and comes back equal, not identical.
    expect(await small.get('en', 'position', { n: 3, rateHz: 16000 })).toBe(await small.get('en', 'position-3', { rateHz: 16000 }));
    const again = await small.get('en', 'greeting', { rateHz: 16000 });
    expect(again).not.toBe(a);
    expect(again).toEqual(a);
    expect(small.cacheStats().bytes).toBeLessThanOrEqual(80_000);
  });
});

describe('prompt routes', () => {
  const TOKENS: Record<string, Principal> = {
    tech: { kind: 'token', username: 'token:tech', role: 'technician' },
    viewer: { kind: 'token', username: 'token:viewer', role: 'viewer' },
  };
  let app: FastifyInstance;
  beforeEach(async () => {
    app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
    installAccessGuard(app, { authenticateToken: (t) => TOKENS[t] ?? null, authenticateSession: () => null });
    installErrorHandling(app, { error: () => {} } as unknown as Logger);
    await registerPromptRoutes(app, { prompts: store });
    await app.ready();
  });
  afterEach(async () => app.close());

  const as = (who: string) => ({ authorization: `Bearer ${who}` });

  it('lists for viewers and serves the WAV in effect', async () => {
    expect((await app.inject({ url: '/api/v1/prompts?lang=en' })).statusCode).toBe(401);
    const list = await app.inject({ url: '/api/v1/prompts', headers: as('viewer') });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toMatchObject({ lang: 'en', languages: ['en'] });
    expect(list.json().prompts).toHaveLength(5);
    const wav = await app.inject({ url: '/api/v1/prompts/en/position-2.wav', headers: as('viewer') });
    expect(wav.statusCode).toBe(200);
    expect(wav.headers['content-type']).toBe('audio/wav');
    expect(wav.headers['x-prompt-source']).toBe('default');
    expect(wav.rawPayload).toEqual(Buffer.from(tree.defaults['position-2']!));
    expect((await app.inject({ url: '/api/v1/prompts/en/nope.wav', headers: as('viewer') })).statusCode).toBe(404);
    expect((await app.inject({ url: '/api/v1/prompts/zh/greeting.wav', headers: as('viewer') })).statusCode).toBe(404);
  });

  it('lets technicians replace (validated) and reset; viewers may not', async () => {
    const good = Buffer.from(encodeWav(tone(1, 16000, 700), 16000, 'pcm16'));
    const put = (who: string, body: Buffer | string, type = 'audio/wav') =>
      app.inject({ method: 'PUT', url: '/api/v1/prompts/en/greeting', headers: { ...as(who), 'content-type': type }, payload: body });
    expect((await put('viewer', good)).statusCode).toBe(403);

    const silent = await put('tech', Buffer.from(encodeWav(new Int16Array(16000), 16000, 'pcm16')));
    expect(silent.statusCode).toBe(400);
    expect(silent.json().error.code).toBe('EVX_ERR_BAD_REQUEST');
    expect(silent.json().error.message).toMatch(/silent/);
    const json = await put('tech', '{"a":1}', 'application/json');
    expect(json.statusCode).toBe(400);
    expect(json.json().error.code).toBe('EVX_ERR_AUDIO_FORMAT');
    expect((await put('tech', good, 'application/octet-stream')).statusCode).toBe(415);
    expect(existsSync(sitePath('greeting'))).toBe(false);

    const ok = await put('tech', good, 'audio/x-wav');
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ name: 'greeting', source: 'site', durationMs: 1000, sha256: sha(good) });
    const served = await app.inject({ url: '/api/v1/prompts/en/greeting.wav', headers: as('viewer') });
    expect(served.rawPayload).toEqual(good);
    expect(served.headers['x-prompt-source']).toBe('site');

    expect((await app.inject({ method: 'DELETE', url: '/api/v1/prompts/en/greeting', headers: as('viewer') })).statusCode).toBe(403);
    const del = await app.inject({ method: 'DELETE', url: '/api/v1/prompts/en/greeting', headers: as('tech') });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toMatchObject({ source: 'default', sha256: sha(tree.defaults['greeting']!) });
  });

  it('accepts uploads up to the largest valid prompt and refuses bigger bodies before reading them', async () => {
    expect(MAX_PROMPT_UPLOAD_BYTES).toBeGreaterThan(300 * 48000 * 4);
    const big = Buffer.alloc(MAX_PROMPT_UPLOAD_BYTES + 1);
    const res = await app.inject({
      method: 'PUT',
      url: '/api/v1/prompts/en/greeting',
      headers: { ...as('tech'), 'content-type': 'audio/wav' },
      payload: big,
    });
    expect(res.statusCode).toBe(413);
    expect(existsSync(sitePath('greeting'))).toBe(false);
  });
});
