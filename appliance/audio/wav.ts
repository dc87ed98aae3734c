/**
 * WAV (RIFF/WAVE) reader for the formats a contact centre produces: 16-bit PCM, G.711 μ-law and
 * A-law, mono, at any sample rate the resampler accepts (8, 16 and 48 kHz in practice).
 * Every rejection is an EdgeVoxError: EVX_ERR_AUDIO_TRUNCATED for a header or data chunk that
 * ends early, EVX_ERR_AUDIO_FORMAT for a well-formed file in a format we do not decode.
 */
import { decodeAlaw, decodeMulaw } from '../codecs/g711.js';
import { evxError } from '../errors.js';

export type WavEncoding = 'pcm16' | 'mulaw' | 'alaw';

export interface WavAudio {
  readonly sampleRateHz: number;
  readonly encoding: WavEncoding;
  /** Mono samples, 16-bit linear (G.711 files are decoded). */
  readonly samples: Int16Array;
  readonly durationMs: number;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_ALAW = 6;
const WAVE_FORMAT_MULAW = 7;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** A data chunk size written by streaming writers that never patched the header. */
const STREAMING_SIZE = 0xffffffff;

export const MIN_SAMPLE_RATE_HZ = 8000;
export const MAX_SAMPLE_RATE_HZ = 48000;

/** Parse a complete WAV file held in memory. `name` only labels errors (a file name, never content). */
export function parseWav(buf: Uint8Array, name = 'input'): WavAudio {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.byteLength < 12) throw truncated(name, `only ${buf.byteLength} bytes, a RIFF header needs 12`);
  const riff = ascii(buf, 0);
  if (riff !== 'RIFF' && riff !== 'RIFX') throw format(name, 'not a RIFF/WAVE file (no RIFF magic)');
  if (riff === 'RIFX') throw format(name, 'big-endian RIFX WAV files are not supported');
  if (ascii(buf, 8) !== 'WAVE') throw format(name, 'RIFF file is not WAVE');

  let fmt: { tag: number; channels: number; rate: number; bits: number } | undefined;
  let offset = 12;
  while (offset + 8 <= buf.byteLength) {
    const id = ascii(buf, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.byteLength) throw truncated(name, 'fmt chunk is shorter than 16 bytes');
      let tag = view.getUint16(body, true);
      if (tag === WAVE_FORMAT_EXTENSIBLE) {
        if (size < 40 || body + 40 > buf.byteLength) throw truncated(name, 'WAVE_FORMAT_EXTENSIBLE fmt chunk is short');
        tag = view.getUint16(body + 24, true); // first two bytes of the sub-format GUID
      }
      fmt = {
        tag,
        channels: view.getUint16(body + 2, true),
        rate: view.getUint32(body + 4, true),
        bits: view.getUint16(body + 14, true),
      };
    } else if (id === 'data') {
      if (fmt === undefined) throw format(name, 'data chunk before fmt chunk');
      const available = buf.byteLength - body;
      let length = size;
      if (size === STREAMING_SIZE) length = available;
      else if (size > available) {
        throw truncated(name, `data chunk declares ${size} bytes but only ${available} follow`);
      }
      return decode(buf.subarray(body, body + length), fmt, name);
    }
    offset = body + size + (size & 1);
  }
  if (fmt === undefined) throw truncated(name, 'no fmt chunk found');
  throw truncated(name, 'no data chunk found');
}

function decode(data: Uint8Array, fmt: { tag: number; channels: number; rate: number; bits: number }, name: string): WavAudio {
  if (fmt.channels !== 1) {
    throw format(name, `${fmt.channels} channels; only mono is supported (split call legs into separate files)`);
  }
  if (fmt.rate < MIN_SAMPLE_RATE_HZ || fmt.rate > MAX_SAMPLE_RATE_HZ) {
    throw format(name, `sample rate ${fmt.rate} Hz is outside ${MIN_SAMPLE_RATE_HZ}..${MAX_SAMPLE_RATE_HZ} Hz`);
  }
  let samples: Int16Array;
  let encoding: WavEncoding;
  if (fmt.tag === WAVE_FORMAT_PCM) {
    if (fmt.bits !== 16) throw format(name, `${fmt.bits}-bit PCM; only 16-bit PCM is supported`);
    if (data.byteLength % 2 !== 0) throw truncated(name, 'odd number of bytes in 16-bit PCM data');
    const n = data.byteLength / 2;
    samples = new Int16Array(n);
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let i = 0; i < n; i++) samples[i] = dv.getInt16(2 * i, true);
    encoding = 'pcm16';
  } else if (fmt.tag === WAVE_FORMAT_MULAW || fmt.tag === WAVE_FORMAT_ALAW) {
    if (fmt.bits !== 8) throw format(name, `${fmt.bits}-bit G.711; G.711 WAV files carry 8 bits per sample`);
    samples = new Int16Array(data.byteLength);
    if (fmt.tag === WAVE_FORMAT_MULAW) decodeMulaw(data, samples);
    else decodeAlaw(data, samples);
    encoding = fmt.tag === WAVE_FORMAT_MULAW ? 'mulaw' : 'alaw';
  } else {
    throw format(name, `WAV format tag ${fmt.tag} is not supported (use 16-bit PCM, μ-law or A-law)`);
  }
  return { sampleRateHz: fmt.rate, encoding, samples, durationMs: (samples.length * 1000) / fmt.rate };
}

/** Build a mono WAV file (used by tests and the G.711 round trip of eval-asr). */
export function encodeWav(samples: Int16Array | Uint8Array, sampleRateHz: number, encoding: WavEncoding): Uint8Array {
  const bytesPerSample = encoding === 'pcm16' ? 2 : 1;
  const dataBytes = samples.length * bytesPerSample;
  const out = new Uint8Array(44 + dataBytes + (dataBytes & 1));
  const dv = new DataView(out.buffer);
  const put = (o: number, s: string): void => {
    for (let i = 0; i < 4; i++) out[o + i] = s.charCodeAt(i);
  };
  put(0, 'RIFF');
  dv.setUint32(4, out.length - 8, true);
  put(8, 'WAVE');
  put(12, 'fmt ');
  dv.setUint32(16, 16, true);
  dv.setUint16(20, encoding === 'pcm16' ? WAVE_FORMAT_PCM : encoding === 'mulaw' ? WAVE_FORMAT_MULAW : WAVE_FORMAT_ALAW, true);
  dv.setUint16(22, 1, true);
  dv.setUint32(24, sampleRateHz, true);
  dv.setUint32(28, sampleRateHz * bytesPerSample, true);
  dv.setUint16(32, bytesPerSample, true);
  dv.setUint16(34, bytesPerSample * 8, true);
  put(36, 'data');
  dv.setUint32(40, dataBytes, true);
  if (encoding === 'pcm16') {
    for (let i = 0; i < samples.length; i++) dv.setInt16(44 + 2 * i, samples[i]!, true);
  } else {
    out.set(samples, 44);
  }
  return out;
}

function ascii(buf: Uint8Array, offset: number): string {
  return String.fromCharCode(buf[offset]!, buf[offset + 1]!, buf[offset + 2]!, buf[offset + 3]!);
}

function truncated(name: string, why: string) {
  return evxError('EVX_ERR_AUDIO_TRUNCATED', `${name}: truncated WAV: ${why}`, { details: { file: name } });
}

function format(name: string, why: string) {
  return evxError('EVX_ERR_AUDIO_FORMAT', `${name}: unsupported WAV: ${why}`, { details: { file: name } });
}
