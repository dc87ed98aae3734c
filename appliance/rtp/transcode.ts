/**
 * One direction of payload transcoding for the media bridge: decode -> resample -> encode, one
 * RTP payload at a time, with no buffering beyond the resampler's look-ahead (about 2 ms for
 * 8 <-> 16 kHz). Every payload in gives one payload out covering the same time span, so the
 * source's RTP timestamps stay valid (all our codecs run an 8 kHz RTP clock). Buffers are
 * allocated once; stateful codecs (G.722) and the resampler carry their state between packets.
 */
import { StreamingResampler } from '../audio/resample.js';
import type { CodecName } from '../sdp/offer-answer.js';
import { createDecoder, createEncoder, type PayloadDecoder, type PayloadEncoder } from './codec.js';

/** Largest payload accepted: 120 ms of G.722 (16 kHz) audio. */
const MAX_SAMPLES = 1920;

/**
 * PCM resampling in fixed chunks for the media path (transcoder, conference mixer): every chunk in
 * gives exactly `wholeOutputs(n)` samples out, from the first chunk on (the resampler's look-ahead,
 * about 2 ms, is padded with silence once at the front: a constant delay, never a gap). Buffers are
 * allocated once for chunks of at most `maxInput` samples.
 */
export class PcmResampler {
  private readonly resampler: StreamingResampler;
  private readonly floatIn: Float32Array;
  private readonly floatOut: Float32Array;

  constructor(
    readonly fromHz: number,
    readonly toHz: number,
    readonly maxInput: number,
  ) {
    this.resampler = new StreamingResampler(fromHz, toHz);
    this.floatIn = new Float32Array(maxInput);
    this.floatOut = new Float32Array(this.resampler.maxOutput(maxInput));
  }

  /** True when the rates match: no resampler is needed. */
  get passthrough(): boolean {
    return this.resampler.passthrough;
  }

  /** Most samples `process` writes for `maxInput` samples in (size output buffers with it). */
  get maxOutput(): number {
    return this.floatOut.length;
  }

  /** Resample `pcm` (at most `maxInput` samples) into `out`; returns the samples written. */
  process(pcm: Int16Array, out: Int16Array): number {
    const n = pcm.length;
    for (let i = 0; i < n; i++) this.floatIn[i] = pcm[i]! / 32768;
    const want = this.resampler.wholeOutputs(n);
    let got = this.resampler.process(this.floatIn.subarray(0, n), this.floatOut);
    if (got < want) {
      // The first chunk: the resampler holds back its look-ahead. Pad the front with silence once,
      // so every chunk out spans exactly its source's time (a ~2 ms delay, never a gap).
      this.floatOut.copyWithin(want - got, 0, got);
      this.floatOut.fill(0, 0, want - got);
      got = want;
    }
    for (let i = 0; i < got; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round(this.floatOut[i]! * 32768)));
    return got;
  }
}

export class Transcoder {
  private readonly decoder: PayloadDecoder;
  private readonly encoder: PayloadEncoder;
  private readonly resampler: PcmResampler | undefined;
  private readonly decoded = new Int16Array(MAX_SAMPLES * 2);
  private readonly pcmOut: Int16Array;
  private readonly encoded = new Uint8Array(MAX_SAMPLES * 2);

  constructor(
    readonly from: CodecName,
    readonly to: CodecName,
  ) {
    this.decoder = createDecoder(from);
    this.encoder = createEncoder(to);
    const rs = new PcmResampler(this.decoder.sampleRateHz, this.encoder.sampleRateHz, MAX_SAMPLES * 2);
    this.resampler = rs.passthrough ? undefined : rs;
    this.pcmOut = new Int16Array(rs.maxOutput);
  }

  /**
   * Transcode one payload; the result is a view into a reused buffer, valid until the next call
   * (the RTP session copies it into the packet). Empty when the payload is larger than 120 ms.
   */
  transcode(payload: Uint8Array): Uint8Array {
    const maxIn = this.decoder.sampleRateHz === 16000 ? MAX_SAMPLES : MAX_SAMPLES / 2;
    const samplesIn = this.decoder.sampleRateHz === 16000 ? payload.length * 2 : payload.length;
    if (samplesIn > maxIn) return this.encoded.subarray(0, 0);
    const n = this.decoder.decode(payload, this.decoded);
    const rs = this.resampler;
    if (rs === undefined) return this.encoded.subarray(0, this.encoder.encode(this.decoded.subarray(0, n), this.encoded));
    const got = rs.process(this.decoded.subarray(0, n), this.pcmOut);
    return this.encoded.subarray(0, this.encoder.encode(this.pcmOut.subarray(0, got), this.encoded));
  }
}
