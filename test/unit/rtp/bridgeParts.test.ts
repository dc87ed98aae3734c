/**
 * The media bridge's pure parts: delay percentiles over a bounded window, and the transcoder's
 * framing (one payload out per payload in, spanning the same time from the very first one) and
 * signal (a tone keeps its frequency through decode -> resample -> encode).
 */
import { describe, expect, it } from 'vitest';
import { decodeMulaw, encodeMulaw } from '../../../appliance/codecs/g711.js';
import { G722Decoder, G722Encoder } from '../../../appliance/codecs/g722.js';
import { DelayStats } from '../../../appliance/rtp/delayStats.js';
import { Transcoder } from '../../../appliance/rtp/transcode.js';

function tone(freqHz: number, rateHz: number, samples: number): Int16Array {
  return Int16Array.from({ length: samples }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * freqHz * i) / rateHz)));
}

function frequencyHz(pcm: Int16Array, rateHz: number): number {
  let crossings = 0;
  for (let i = 1; i < pcm.length; i++) if (pcm[i - 1]! < 0 !== pcm[i]! < 0) crossings++;
  return (crossings / 2) * (rateHz / pcm.length);
}

describe('DelayStats', () => {
  it('gives nearest-rank p50/p95 of the window and the maximum ever seen', () => {
    const d = new DelayStats(100);
    expect(d.summary()).toEqual({ samples: 0, p50Ms: 0, p95Ms: 0, maxMs: 0 });
    for (let i = 100; i >= 1; i--) d.record(i / 1000); // 0.001 .. 0.1 ms, in reverse
    expect(d.summary()).toEqual({ samples: 100, p50Ms: 0.05, p95Ms: 0.095, maxMs: 0.1 });
    // the window slides: 100 samples of 2 ms push the old ones out, the maximum stays
    d.record(7);
    for (let i = 0; i < 100; i++) d.record(2);
    expect(d.summary()).toEqual({ samples: 201, p50Ms: 2, p95Ms: 2, maxMs: 7 });
  });
});

describe('Transcoder', () => {
  it('PCMU -> G.722: 160 bytes out for every 160 in, from the first packet, carrying the tone', () => {
    const t = new Transcoder('PCMU', 'G722');
    const pcm = tone(1000, 8000, 8000);
    const dec = new G722Decoder();
    const heard = new Int16Array(16000);
    for (let k = 0; k < 50; k++) {
      const ulaw = new Uint8Array(160);
      encodeMulaw(pcm.subarray(k * 160, (k + 1) * 160), ulaw);
      const out = t.transcode(ulaw);
      expect(out.length).toBe(160);
      dec.decode(out, heard.subarray(k * 320));
    }
    expect(frequencyHz(heard.subarray(1600), 16000)).toBeCloseTo(1000, -2);
  });

  it('G.722 -> PCMU and PCMU -> PCMA keep 20 ms per payload and the tone', () => {
    const enc = new G722Encoder();
    const t = new Transcoder('G722', 'PCMU');
    const pcm16 = tone(700, 16000, 16000);
    const heard = new Int16Array(8000);
    for (let k = 0; k < 50; k++) {
      const g = new Uint8Array(160);
      enc.encode(pcm16.subarray(k * 320, (k + 1) * 320), g);
      const out = t.transcode(g);
      expect(out.length).toBe(160);
      decodeMulaw(out, heard.subarray(k * 160));
    }
    expect(Math.abs(frequencyHz(heard.subarray(800), 8000) - 700)).toBeLessThan(20);

    const alaw = new Transcoder('PCMU', 'PCMA').transcode(new Uint8Array(160).fill(0xff));
    expect(alaw.length).toBe(160);
    expect(alaw.every((b) => b === 0xd5)).toBe(true); // mu-law silence is A-law silence
  });

  it('drops a payload longer than 120 ms instead of overrunning its buffers', () => {
    expect(new Transcoder('PCMU', 'G722').transcode(new Uint8Array(961)).length).toBe(0);
    expect(new Transcoder('PCMU', 'G722').transcode(new Uint8Array(960)).length).toBe(960);
  });
});
