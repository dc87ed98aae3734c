import { describe, expect, it } from 'vitest';
import { encodeWav, parseWav } from '../../../appliance/audio/wav.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { encodeAlaw, encodeMulaw } from '../../../appliance/codecs/g711.js';

function sine(n: number, rate: number, hz = 440): Int16Array {
  return Int16Array.from({ length: n }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / rate)));
}

function expectEvx(fn: () => unknown, code: string, text: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(isEdgeVoxError(err)).toBe(true);
    expect((err as { code: string }).code).toBe(code);
    expect((err as Error).message).toMatch(text);
    return;
  }
  throw new Error('expected an error');
}

describe('parseWav', () => {
  for (const rate of [8000, 16000, 48000]) {
    it(`reads 16-bit PCM at ${rate} Hz`, () => {
      const s = sine(rate / 10, rate);
      const w = parseWav(encodeWav(s, rate, 'pcm16'));
      expect(w.sampleRateHz).toBe(rate);
      expect(w.encoding).toBe('pcm16');
      expect(Array.from(w.samples)).toEqual(Array.from(s));
      expect(w.durationMs).toBeCloseTo(100, 5);
    });
  }

  it('decodes mu-law and A-law to linear within G.711 quantisation', () => {
    const s = sine(800, 8000);
    for (const enc of ['mulaw', 'alaw'] as const) {
      const bytes = new Uint8Array(s.length);
      if (enc === 'mulaw') encodeMulaw(s, bytes);
      else encodeAlaw(s, bytes);
      const w = parseWav(encodeWav(bytes, 8000, enc));
      expect(w.encoding).toBe(enc);
      expect(w.samples.length).toBe(s.length);
      for (let i = 0; i < s.length; i++) expect(Math.abs(w.samples[i]! - s[i]!)).toBeLessThanOrEqual(Math.abs(s[i]!) / 16 + 16);
    }
  });

  it('skips unknown chunks before data', () => {
    const base = encodeWav(sine(160, 16000), 16000, 'pcm16');
    const list = new Uint8Array([...'LIST'].map((c) => c.charCodeAt(0)).concat([4, 0, 0, 0, 1, 2, 3, 4]));
    const buf = new Uint8Array(base.length + list.length);
    buf.set(base.subarray(0, 36));
    buf.set(list, 36);
    buf.set(base.subarray(36), 36 + list.length);
    expect(parseWav(buf).samples.length).toBe(160);
  });

  it('rejects a truncated header with EVX_ERR_AUDIO_TRUNCATED', () => {
    const wav = encodeWav(sine(160, 16000), 16000, 'pcm16');
    expectEvx(() => parseWav(wav.subarray(0, 8), 'x.wav'), 'EVX_ERR_AUDIO_TRUNCATED', /x\.wav: truncated WAV/);
    expectEvx(() => parseWav(wav.subarray(0, 30)), 'EVX_ERR_AUDIO_TRUNCATED', /fmt chunk/);
    expectEvx(() => parseWav(wav.subarray(0, 36)), 'EVX_ERR_AUDIO_TRUNCATED', /no data chunk/);
  });

  it('rejects a data chunk that ends early', () => {
    const wav = encodeWav(sine(160, 16000), 16000, 'pcm16');
    expectEvx(() => parseWav(wav.subarray(0, wav.length - 10)), 'EVX_ERR_AUDIO_TRUNCATED', /declares 320 bytes but only 310/);
  });

  it('rejects wrong formats with EVX_ERR_AUDIO_FORMAT', () => {
    expectEvx(() => parseWav(new TextEncoder().encode('ID3\u0004 this is an mp3 file')), 'EVX_ERR_AUDIO_FORMAT', /no RIFF magic/);
    const stereo = encodeWav(sine(160, 16000), 16000, 'pcm16');
    new DataView(stereo.buffer).setUint16(22, 2, true);
    expectEvx(() => parseWav(stereo), 'EVX_ERR_AUDIO_FORMAT', /2 channels/);
    const float = encodeWav(sine(160, 16000), 16000, 'pcm16');
    new DataView(float.buffer).setUint16(20, 3, true);
    expectEvx(() => parseWav(float), 'EVX_ERR_AUDIO_FORMAT', /format tag 3/);
    const pcm8 = encodeWav(sine(160, 16000), 16000, 'pcm16');
    new DataView(pcm8.buffer).setUint16(34, 8, true);
    expectEvx(() => parseWav(pcm8), 'EVX_ERR_AUDIO_FORMAT', /8-bit PCM/);
    expectEvx(() => parseWav(encodeWav(sine(160, 4000), 4000, 'pcm16')), 'EVX_ERR_AUDIO_FORMAT', /4000 Hz/);
  });
});
