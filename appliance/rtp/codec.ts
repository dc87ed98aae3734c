/**
 * Payload codecs of a leg: PCMU / PCMA (8 kHz) and G.722 (16 kHz audio, 8 kHz RTP clock).
 * Stateful (G.722) codecs get one instance per direction per leg.
 */
import { decodeAlaw, decodeMulaw, encodeAlaw, encodeMulaw } from '../codecs/g711.js';
import { G722Decoder, G722Encoder } from '../codecs/g722.js';
import type { CodecName } from '../sdp/offer-answer.js';

export interface PayloadDecoder {
  readonly sampleRateHz: number;
  /** Decode into `out`; returns samples written. */
  decode(payload: Uint8Array, out: Int16Array): number;
}

export interface PayloadEncoder {
  readonly sampleRateHz: number;
  /** RTP timestamp units per PCM sample (0.5 for G.722). */
  readonly rtpUnitsPerSample: number;
  encode(pcm: Int16Array, out: Uint8Array): number;
  /** Encoded bytes for `samples` PCM samples. */
  bytesFor(samples: number): number;
}

export function createDecoder(codec: CodecName): PayloadDecoder {
  switch (codec) {
    case 'PCMU':
      return { sampleRateHz: 8000, decode: decodeMulaw };
    case 'PCMA':
      return { sampleRateHz: 8000, decode: decodeAlaw };
    case 'G722': {
      const d = new G722Decoder();
      return { sampleRateHz: 16000, decode: (p, o) => d.decode(p, o) };
    }
  }
}

export function createEncoder(codec: CodecName): PayloadEncoder {
  switch (codec) {
    case 'PCMU':
      return { sampleRateHz: 8000, rtpUnitsPerSample: 1, encode: encodeMulaw, bytesFor: (n) => n };
    case 'PCMA':
      return { sampleRateHz: 8000, rtpUnitsPerSample: 1, encode: encodeAlaw, bytesFor: (n) => n };
    case 'G722': {
      const e = new G722Encoder();
      return { sampleRateHz: 16000, rtpUnitsPerSample: 0.5, encode: (p, o) => e.encode(p, o), bytesFor: (n) => n >> 1 };
    }
  }
}
