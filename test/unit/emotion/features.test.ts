import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseWav } from '../../../appliance/audio/wav.js';
import { EmotionFeaturizer, emotionFeatureNames, toFeatureRate } from '../../../appliance/emotion/features.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { telephoneChannel } from '../../../models/pipelines/emotion/data.js';

const RAVDESS = resolve(process.env.EDGEVOX_SHARED ?? '../shared', 'datasets/emotion/ravdess-16k');
const CLIP = join(RAVDESS, 'Actor_01/03-01-05-02-01-01-01.wav'); // angry, strong
const hasData = existsSync(CLIP);

function loadClip(path: string): { pcm: Int16Array; rate: number } {
  const wav = parseWav(readFileSync(path), path);
  return { pcm: wav.samples, rate: wav.sampleRateHz };
}

describe('EmotionFeaturizer', () => {
  it('names every feature once', () => {
    const names = emotionFeatureNames();
    expect(new Set(names).size).toBe(names.length);
    expect(new EmotionFeaturizer().names).toEqual(names);
  });

  it('rejects audio shorter than 300 ms and silence with a clear error', () => {
    const f = new EmotionFeaturizer();
    const short = (() => {
      try {
        f.extract(new Float32Array(1000));
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(isEdgeVoxError(short, 'EVX_ERR_EMOTION_AUDIO_TOO_SHORT')).toBe(true);
    expect(() => f.extract(new Float32Array(8000))).toThrow(/silent/);
    expect(() => toFeatureRate(new Float32Array(100), 4000)).toThrow(/sample rate/);
  });

  it('finds the pitch of a synthetic vowel-like tone', () => {
    // 150 Hz pulse train through a crude formant: f0 semitones re 100 Hz = 12*log2(1.5) = 7.02.
    const rate = 8000;
    const x = new Float32Array(rate);
    for (let i = 0; i < x.length; i++) {
      let s = 0;
      for (let h = 1; h <= 12; h++) s += Math.sin((2 * Math.PI * 150 * h * i) / rate) / h;
      x[i] = 0.2 * s;
    }
    const names = emotionFeatureNames();
    const v = new EmotionFeaturizer().extract(x);
    expect(v[names.indexOf('f0_voiced_ratio')]!).toBeGreaterThan(0.9);
    expect(v[names.indexOf('f0_p50_st')]!).toBeCloseTo(7.02, 1);
  });

  it.skipIf(!hasData)('is deterministic, finite and gain-invariant on a RAVDESS clip', () => {
    const { pcm, rate } = loadClip(CLIP);
    const f = new EmotionFeaturizer();
    const a = f.extract(toFeatureRate(pcm, rate));
    const b = new EmotionFeaturizer().extract(toFeatureRate(pcm, rate));
    expect([...a]).toEqual([...b]);
    expect(a.every((x) => Number.isFinite(x))).toBe(true);
    const quiet = Float32Array.from(pcm, (s) => (0.25 * s) / 32768);
    const c = f.extract(toFeatureRate(quiet, rate));
    for (let i = 0; i < a.length; i++) expect(c[i]!, emotionFeatureNames()[i]).toBeCloseTo(a[i]!, 1);
  });

  it.skipIf(!hasData)('sees a 16 kHz clip and its G.711 telephone copy alike', () => {
    const { pcm, rate } = loadClip(CLIP);
    const clean = Float32Array.from(pcm, (s) => s / 32768);
    const f = new EmotionFeaturizer();
    const a = f.extract(toFeatureRate(clean, rate));
    const b = f.extract(toFeatureRate(telephoneChannel(clean, rate), rate));
    const names = emotionFeatureNames();
    expect(b[names.indexOf('f0_p50_st')]!).toBeCloseTo(a[names.indexOf('f0_p50_st')]!, 0);
    expect(Math.abs(b[names.indexOf('tilt_mean_db')]! - a[names.indexOf('tilt_mean_db')]!)).toBeLessThan(1.5);
  });
});
