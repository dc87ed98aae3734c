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

export class Transcoder {
  private readonly decoder: PayloadDecoder;
  private readonly encoder: PayloadEncoder;
  private readonly resampler: StreamingResampler | undefined;
  private readonly decoded = new Int16Array(MAX_SAMPLES * 2);
  private readonly floatIn = new Float32Array(MAX_SAMPLES * 2);
  private readonly floatOut: Float32Array;
  private readonly pcmOut = new Int16Array(MAX_SAMPLES * 2);
  private readonly encoded = new Uint8Array(MAX_SAMPLES * 2);

  constructor(
    readonly from: CodecName,
    readonly to: CodecName,
  ) {
    this.decoder = createDecoder(from);
    this.encoder = createEncoder(to);
    const rs = new StreamingResampler(this.decoder.sampleRateHz, this.encoder.sampleRateHz);
    this.resampler = rs.passthrough ? undefined : rs;
    this.floatOut = new Float32Array(rs.maxOutput(MAX_SAMPLES * 2));
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
    for (let i = 0; i < n; i++) this.floatIn[i] = this.decoded[i]! / 32768;
    const want = rs.wholeOutputs(n);
    let got = rs.process(this.floatIn.subarray(0, n), this.floatOut);
    if (got < want) {
      // The first payload: the resampler holds back its look-ahead. Pad the front with silence once,
      // so every payload out spans exactly its source's time (a ~2 ms delay, never a gap).
      this.floatOut.copyWithin(want - got, 0, got);
      this.floatOut.fill(0, 0, want - got);
      got = want;
    }
    for (let i = 0; i < got; i++) this.pcmOut[i] = Math.max(-32768, Math.min(32767, Math.round(this.floatOut[i]! * 32768)));
    return this.encoded.subarray(0, this.encoder.encode(this.pcmOut.subarray(0, got), this.encoded));
  }
}
