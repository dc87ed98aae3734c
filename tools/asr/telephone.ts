/** The telephone path for evaluation: 16 kHz → 8 kHz → G.711 μ-law → back to linear 8 kHz. */
import { StreamingResampler } from '../../appliance/audio/resample.js';
import type { WavAudio } from '../../appliance/audio/wav.js';
import { decodeMulaw, encodeMulaw } from '../../appliance/codecs/g711.js';

export function mulawRoundTrip8k(audio: WavAudio): WavAudio {
  const rs = new StreamingResampler(audio.sampleRateHz, 8000);
  const input = Float32Array.from(audio.samples, (s) => s / 32768);
  const out = new Float32Array(rs.maxOutput(input.length) + rs.maxOutput(0) + 64);
  let n = rs.process(input, out);
  n += rs.flush(out.subarray(n));
  const pcm = new Int16Array(n);
  for (let i = 0; i < n; i++) pcm[i] = Math.max(-32768, Math.min(32767, Math.round(out[i]! * 32768)));
  const ulaw = new Uint8Array(n);
  encodeMulaw(pcm, ulaw);
  const back = new Int16Array(n);
  decodeMulaw(ulaw, back);
  return { sampleRateHz: 8000, encoding: 'mulaw', samples: back, durationMs: (n * 1000) / 8000 };
}
