/**
 * One recognition stream (one call leg): bounded input buffer → resampler → (optional) Silero VAD
 * gate → streaming fbank → encoder chunks with carried state → greedy or biased beam search →
 * partial / final / keyword events.
 *
 * push() is synchronous and never blocks the media path: audio goes into a fixed-size ring (the
 * oldest audio is dropped and counted when decoding falls behind) and a single async pump per
 * stream drains it. With a VAD, silence never reaches the encoder: in "silence" mode only the VAD
 * runs; it switches to "speech" on a speech window (feeding a pre-roll of recent audio first) and
 * back to "silence" once the decoder has produced no token for `speechHangoverMs`.
 */
import { performance } from 'node:perf_hooks';
import { evxError, isEdgeVoxError } from '../errors.js';
import { ASR_SAMPLE_RATE_HZ, StreamingResampler } from '../audio/resample.js';
import { SampleRing } from '../audio/ring.js';
import type { SileroVadState } from '../vad/silero.js';
import { VAD_WINDOW_SAMPLES } from '../vad/silero.js';
import { TypedEmitter } from '../events/typedEmitter.js';
import { EncoderState } from './encoderState.js';
import type { DecodeLane } from './lane.js';
import type { EncoderBatcher } from './encoderBatch.js';
import { endpointRule, type EndpointConfig } from './endpoint.js';
import type { FinalEvent, FinalReason, StreamEvents, StreamStats } from './events.js';
import { OnlineFbank } from './fbank.js';
import type { Hypothesis, Search } from './hypothesis.js';
import type { KeywordSpotter } from './kws.js';
import type { TransducerModel } from './transducer.js';
import type { TextForm, TextTiming } from './textForm.js';
import { hypothesisConfidence } from './words.js';

const BLOCK = VAD_WINDOW_SAMPLES; // 32 ms at 16 kHz: the unit of work of the pump
const MAX_PUSH_PIECE = 4096;
const LATENCY_WINDOW = 256;
const ARRIVAL_LOG = 1024;
/** Hypotheses of a beam handed to the text form at the end of an utterance. */
const NBEST = 4;

export interface StreamConfig {
  readonly sampleRateHz: number;
  readonly endpoint: EndpointConfig;
  /** Input buffer capacity; beyond it the oldest audio is dropped. */
  readonly maxBufferedMs: number;
  /** Zeros appended on flush() so the last partial chunk is decoded (sherpa-onnx reference: 660 ms). */
  readonly tailPaddingMs: number;
  readonly vadThreshold: number;
  /** Audio kept before a VAD speech onset and fed with it. */
  readonly preRollMs: number;
  /** Decoded time without a token after which the VAD takes over again. */
  readonly speechHangoverMs: number;
}

export interface StreamParts {
  readonly model: TransducerModel;
  readonly search: Search;
  readonly vad: SileroVadState | undefined;
  readonly kws: KeywordSpotter | undefined;
  readonly onClose: (s: RecognizerStream) => void;
  /** Shared FIFO for chunk decoding (see lane.ts). */
  readonly lane: DecodeLane;
  /** Batching scheduler for encoder calls (encoderBatch.ts); without one each chunk runs alone. */
  readonly batcher?: EncoderBatcher | undefined;
  /** How tokens become text (words, or pinyin through a language model into characters). */
  readonly text: TextForm;
}

export class RecognizerStream extends TypedEmitter<StreamEvents> {
  readonly config: StreamConfig;
  private readonly model: TransducerModel;
  private readonly search: Search;
  private readonly text: TextForm;
  private readonly timing: TextTiming;
  private readonly vad: SileroVadState | undefined;
  private readonly kws: KeywordSpotter | undefined;
  private readonly onClose: (s: RecognizerStream) => void;
  private readonly lane: DecodeLane;
  /** Encoder calls go through a batching scheduler (chunks of several streams in one call). */
  private readonly batched: boolean;
  private readonly resampler: StreamingResampler;
  private readonly ring: SampleRing;
  private readonly preRoll: SampleRing;
  private readonly fbank: OnlineFbank;
  private readonly encoder: EncoderState;
  // scratch
  private readonly convBuf = new Float32Array(MAX_PUSH_PIECE);
  private readonly resBuf: Float32Array;
  private readonly block = new Float32Array(BLOCK);
  private readonly speechBuf = new Float32Array(1600);
  private readonly preRollBuf: Float32Array;
  private readonly zeros = new Float32Array(1600);
  // positions, in 16 kHz samples since the stream started
  private pushedSamples = 0;
  private processedSamples = 0;
  private decodedSamples = 0;
  private skippedSamples = 0;
  private droppedSamples = 0;
  /** Stream sample of fbank sample 0 of the current segment. */
  private segmentStart = 0;
  /** Next chunk's first fbank frame (segment-relative). */
  private chunkStart = 0;
  private utteranceStart = 0;
  private utteranceId = 0;
  private mode: 'speech' | 'silence';
  private lastPartial = '';
  private utteranceProcessingMs = 0;
  // arrival log: stream sample reached by each push, and when
  private readonly arrivalSample = new Float64Array(ARRIVAL_LOG);
  private readonly arrivalMs = new Float64Array(ARRIVAL_LOG);
  private arrivalHead = 0;
  private arrivalLen = 0;
  private readonly latencies = new Float64Array(LATENCY_WINDOW);
  private latencyCount = 0;
  private chunks = 0;
  private finals = 0;
  private keywords = 0;
  // pump
  private pumping = false;
  private flushWaiters: { resolve: (f: FinalEvent | null) => void; reject: (e: unknown) => void }[] = [];
  private flushRequested = false;
  private flushCalledMs: number | undefined;
  private idleWaiters: (() => void)[] = [];
  private initialised = false;
  private closed = false;

  constructor(config: StreamConfig, parts: StreamParts) {
    super();
    this.config = config;
    this.model = parts.model;
    this.text = parts.text;
    this.timing = { frameMs: (f) => this.frameMs(f), encoderFrameMs: this.model.geometry.subsampling * 10 };
    this.search = parts.search;
    this.vad = parts.vad;
    this.kws = parts.kws;
    this.onClose = parts.onClose;
    this.lane = parts.lane;
    this.batched = (parts.batcher?.maxBatch ?? 1) > 1;
    this.resampler = new StreamingResampler(config.sampleRateHz, ASR_SAMPLE_RATE_HZ);
    this.resBuf = new Float32Array(this.resampler.maxOutput(MAX_PUSH_PIECE));
    this.ring = new SampleRing(Math.max(BLOCK * 4, Math.round((config.maxBufferedMs * ASR_SAMPLE_RATE_HZ) / 1000)));
    const preRollSamples = Math.ceil((config.preRollMs * ASR_SAMPLE_RATE_HZ) / 1000 / BLOCK) * BLOCK;
    this.preRoll = new SampleRing(Math.max(BLOCK, preRollSamples));
    this.preRollBuf = new Float32Array(this.preRoll.capacity);
    this.fbank = new OnlineFbank({ maxFrames: 256, maxBlockSamples: 1600 });
    this.encoder = new EncoderState(this.model, parts.batcher);
    this.mode = this.vad !== undefined ? 'silence' : 'speech';
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Queue audio at the stream's sample rate: Int16 PCM, or Float32 scaled to [-1, 1]. Never blocks.
   * `arrivedAtMs` (performance.now() clock) is when the audio reached the appliance, when that was
   * earlier than this call (a worker thread passes the main thread's arrival time): latencies are
   * measured from it.
   */
  push(samples: Int16Array | Float32Array, arrivedAtMs?: number): void {
    if (this.closed) throw evxError('EVX_ERR_STREAM_CLOSED', 'push() on a closed recognition stream');
    if (this.flushRequested) throw evxError('EVX_ERR_STREAM_CLOSED', 'push() while flush() is pending');
    for (let off = 0; off < samples.length; off += MAX_PUSH_PIECE) {
      const n = Math.min(MAX_PUSH_PIECE, samples.length - off);
      const conv = this.convBuf.subarray(0, n);
      if (samples instanceof Int16Array) {
        for (let i = 0; i < n; i++) conv[i] = samples[off + i]! / 32768;
      } else {
        conv.set(samples.subarray(off, off + n));
      }
      this.enqueue16k(this.resampler.passthrough ? conv : this.resBuf.subarray(0, this.resampler.process(conv, this.resBuf)), arrivedAtMs);
    }
    void this.pump();
  }

  /**
   * End of input: decode everything queued, emit the final result (resolves to it, or null when
   * nothing was said) and make the stream ready for new audio. `calledAtMs` (performance.now()
   * clock): when the end of input was signalled, if earlier than this call (see push()).
   */
  flush(calledAtMs?: number): Promise<FinalEvent | null> {
    if (this.closed) return Promise.reject(evxError('EVX_ERR_STREAM_CLOSED', 'flush() on a closed recognition stream'));
    if (!this.resampler.passthrough) {
      const n = this.resampler.flush(this.resBuf);
      this.enqueue16k(this.resBuf.subarray(0, n), calledAtMs);
    }
    this.flushCalledMs = calledAtMs;
    this.flushRequested = true;
    const p = new Promise<FinalEvent | null>((resolve, reject) => this.flushWaiters.push({ resolve, reject }));
    void this.pump();
    return p;
  }

  /** Resolves once the queued audio has been processed (for feeding files faster than real time). */
  whenIdle(): Promise<void> {
    if (!this.pumping || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stop decoding and release this stream's state. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const e = evxError('EVX_ERR_STREAM_CLOSED', 'recognition stream closed');
    for (const w of this.flushWaiters.splice(0)) w.reject(e);
    this.ring.clear();
    for (const w of this.idleWaiters.splice(0)) w();
    this.removeAllListeners();
    this.onClose(this);
  }

  stats(): StreamStats {
    const ms = (s: number): number => (s * 1000) / ASR_SAMPLE_RATE_HZ;
    const sorted = Array.from(this.latencies.subarray(0, Math.min(this.latencyCount, LATENCY_WINDOW))).sort((a, b) => a - b);
    const pct = (p: number): number => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);
    return {
      audioPushedMs: ms(this.pushedSamples),
      audioProcessedMs: ms(this.processedSamples),
      audioDecodedMs: ms(this.decodedSamples),
      audioSkippedMs: ms(this.skippedSamples),
      lagMs: ms(this.ring.length),
      droppedMs: ms(this.droppedSamples),
      droppedFrames: Math.floor(ms(this.droppedSamples) / 20),
      encoderChunks: this.chunks,
      chunkLatencyP50Ms: pct(0.5),
      chunkLatencyP95Ms: pct(0.95),
      finals: this.finals,
      keywords: this.keywords,
      listenerErrors: this.listenerErrors,
      memoryBytes:
        this.ring.capacity * 4 +
        this.preRoll.capacity * 4 +
        this.resBuf.byteLength +
        this.convBuf.byteLength +
        256 * 80 * 4 +
        this.encoder.stateBytes,
    };
  }

  // ---------------------------------------------------------------- input side

  private enqueue16k(samples: Float32Array, arrivedAtMs: number | undefined): void {
    if (samples.length === 0) return;
    const dropped = this.ring.write(samples);
    if (dropped > 0) {
      // Dropped audio still counts as processed time: the timeline stays aligned with real time.
      this.droppedSamples += dropped;
      this.processedSamples += dropped;
    }
    this.pushedSamples += samples.length;
    const i = (this.arrivalHead + this.arrivalLen) % ARRIVAL_LOG;
    this.arrivalSample[i] = this.pushedSamples;
    this.arrivalMs[i] = arrivedAtMs ?? performance.now();
    if (this.arrivalLen < ARRIVAL_LOG) this.arrivalLen++;
    else this.arrivalHead = (this.arrivalHead + 1) % ARRIVAL_LOG;
  }

  /** When the audio up to stream sample `sample` arrived. */
  private arrivalOf(sample: number): number {
    for (let k = 0; k < this.arrivalLen; k++) {
      const i = (this.arrivalHead + k) % ARRIVAL_LOG;
      if (this.arrivalSample[i]! >= sample) {
        // entries before this one are no longer needed
        this.arrivalHead = i;
        this.arrivalLen -= k;
        return this.arrivalMs[i]!;
      }
    }
    return performance.now();
  }

  // ---------------------------------------------------------------- the pump

  private async pump(): Promise<void> {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    try {
      if (!this.initialised) {
        this.initialised = true;
        await this.search.reset();
        await this.kws?.reset();
      }
      while (!this.closed) {
        if (this.mode === 'speech' && this.ring.length > 0) {
          // decoding: take whatever has arrived, so a chunk runs as soon as its last frame is complete
          const n = Math.min(this.ring.length, this.speechBuf.length);
          const piece = this.speechBuf.subarray(0, n);
          this.ring.read(piece, n);
          await this.handleBlock(piece);
          continue;
        }
        if (this.ring.length >= BLOCK) {
          // VAD windows are 32 ms
          this.ring.read(this.block, BLOCK);
          await this.handleBlock(this.block);
          continue;
        }
        if (this.flushRequested) {
          await this.finishInput();
          continue;
        }
        break;
      }
    } catch (err) {
      const error = isEdgeVoxError(err) ? err : evxError('EVX_ERR_INFERENCE_FAILED', 'speech recognition failed', { cause: err });
      for (const w of this.flushWaiters.splice(0)) w.reject(error);
      this.flushRequested = false;
      this.emit('error', { type: 'error', error });
    } finally {
      this.pumping = false;
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private async handleBlock(block: Float32Array): Promise<void> {
    this.processedSamples += block.length;
    this.preRoll.write(block);
    if (this.vad !== undefined && this.mode === 'silence') {
      const p = await this.vad.process(block);
      if (p < this.config.vadThreshold) {
        this.skippedSamples += block.length;
        await this.checkEndpoint();
        return;
      }
      // speech onset: start a new fbank segment with the pre-roll (which ends with this block)
      const n = this.preRoll.length;
      this.preRoll.peek(this.preRollBuf, n);
      this.mode = 'speech';
      this.fbank.reset();
      this.chunkStart = 0;
      this.segmentStart = this.processedSamples - n;
      this.skippedSamples -= n - block.length;
      await this.feed(this.preRollBuf.subarray(0, n));
    } else {
      await this.feed(block);
    }
    if (this.vad !== undefined && this.mode === 'speech' && this.idleMs() >= this.config.speechHangoverMs) {
      // Hand over to the VAD; undecoded frames are still in the pre-roll if speech resumes.
      this.mode = 'silence';
      this.vad.reset();
      this.fbank.reset();
      this.chunkStart = 0;
      this.segmentStart = this.processedSamples;
    }
    await this.checkEndpoint();
  }

  /** Decoded time since the last token (or since the utterance or segment began). */
  private idleMs(): number {
    const g = this.model.geometry;
    const frames = Math.min(this.search.trailingBlankFrames, this.chunkStart / g.subsampling);
    return frames * g.subsampling * 10;
  }

  private async feed(samples: Float32Array): Promise<void> {
    for (let off = 0; off < samples.length; off += 1600) {
      const piece = samples.subarray(off, Math.min(samples.length, off + 1600));
      this.fbank.acceptWaveform(piece);
      this.decodedSamples += piece.length;
      await this.runChunks();
    }
  }

  private async runChunks(): Promise<void> {
    const g = this.model.geometry;
    while (!this.closed && this.fbank.numFramesReady - this.chunkStart >= g.chunkFrames) {
      // Batched: the encoder call waits in the scheduler with other streams' chunks (not in the
      // FIFO lane, which would let only one chunk in flight); so does the search after it (greedyBatch.ts).
      if (this.batched) await this.decodeOneChunk();
      else await this.lane.run(() => this.decodeOneChunk());
    }
  }

  private async decodeOneChunk(): Promise<void> {
    if (this.closed) return;
    const t0 = performance.now();
    this.fbank.readFrames(this.chunkStart, this.model.geometry.chunkFrames, this.encoder.x);
    // Batched: the streams of one encoder batch search together (greedy shares its joiner and
    // decoder calls, greedyBatch.ts), so they are not queued one by one in the lane; the next batch
    // waits for these searches, so a batch finishes before the next one's encoder run.
    await this.encoder.runThen((encoderOut) => this.searchChunk(encoderOut, t0));
  }

  private async searchChunk(encoderOut: Float32Array, t0: number): Promise<void> {
    const g = this.model.geometry;
    {
      if (this.closed) return;
      const firstFrame = this.streamFrame(this.chunkStart);
      await this.search.decodeChunk(encoderOut, g.encoderFramesPerChunk, firstFrame);
      if (this.kws !== undefined) {
        const hits = await this.kws.decodeChunk(encoderOut, g.encoderFramesPerChunk, firstFrame);
        for (const h of hits) {
          this.keywords++;
          this.emit('keyword', {
            type: 'keyword',
            keyword: h.keyword,
            startMs: Math.round(this.frameMs(h.firstFrame)),
            endMs: Math.round(this.frameMs(h.lastFrame) + this.encoderFrameMs),
            score: h.score,
          });
        }
      }
      this.chunkStart += g.chunkShift;
      this.fbank.discardBefore(this.chunkStart);
      this.chunks++;
      const now = performance.now();
      this.utteranceProcessingMs += now - t0;
      // the chunk's last fbank frame ends at this stream sample
      const lastSample = this.segmentStart + (this.chunkStart - g.chunkShift + g.chunkFrames) * this.fbank.frameShift;
      const latency = now - this.arrivalOf(Math.min(lastSample, this.pushedSamples));
      this.latencies[this.latencyCount++ % LATENCY_WINDOW] = latency;
      const best = this.search.best();
      const text = this.text.partial(best, this.timing);
      if (text !== '') {
        this.emit('partial', {
          type: 'partial',
          utteranceId: this.utteranceId,
          text,
          confidence: hypothesisConfidence(best),
          changed: text !== this.lastPartial,
          audioMs: Math.round(this.decodedUpTo() / 16),
          chunkLatencyMs: latency,
        });
      }
      this.lastPartial = text;
    }
  }

  // ---------------------------------------------------------------- time bookkeeping

  private get encoderFrameMs(): number {
    return this.model.geometry.subsampling * 10;
  }

  /** Stream encoder-frame index (may be fractional across VAD segments) of segment fbank frame f. */
  private streamFrame(fbankFrame: number): number {
    const g = this.model.geometry;
    return (this.segmentStart + fbankFrame * this.fbank.frameShift) / (this.fbank.frameShift * g.subsampling);
  }

  private frameMs(frame: number): number {
    return frame * this.encoderFrameMs;
  }

  /** Stream sample up to which audio has been decoded (or skipped as silence). */
  private decodedUpTo(): number {
    if (this.mode === 'silence') return this.processedSamples;
    return this.segmentStart + this.chunkStart * this.fbank.frameShift;
  }

  private async checkEndpoint(): Promise<void> {
    const h = this.search.best();
    const upTo = this.decodedUpTo();
    const lastToken = h.frames.length > 0 ? (this.frameMs(h.frames[h.frames.length - 1]!) + this.encoderFrameMs) * 16 : this.utteranceStart;
    const rule = endpointRule(this.config.endpoint, {
      utteranceMs: (upTo - this.utteranceStart) / 16,
      trailingSilenceMs: Math.max(0, upTo - Math.max(lastToken, this.utteranceStart)) / 16,
      hasSpeech: h.tokens.length > 0,
    });
    if (rule < 0) return;
    const maxLengthRule = this.config.endpoint.rules[rule]!.minTrailingSilenceMs === 0;
    await this.finishUtterance(maxLengthRule ? 'max-length' : 'endpoint', this.arrivalOf(Math.min(upTo, this.pushedSamples)));
  }

  private async finishUtterance(reason: FinalReason, audioArrivedMs: number): Promise<FinalEvent | null> {
    const h: Hypothesis = this.search.final?.() ?? this.search.best();
    const upTo = this.decodedUpTo();
    let event: FinalEvent | null = null;
    if (h.tokens.length > 0) {
      const { text, words, pinyin } = this.text.final(h, this.search.nbest?.(NBEST) ?? [], this.timing);
      event = {
        type: 'final',
        utteranceId: this.utteranceId,
        language: this.text.language,
        text,
        ...(pinyin !== undefined ? { pinyin } : {}),
        words,
        confidence: hypothesisConfidence(h),
        startMs: words[0]?.startMs ?? Math.round(this.utteranceStart / 16),
        endMs: words[words.length - 1]?.endMs ?? Math.round(upTo / 16),
        reason,
        latencyMs: performance.now() - audioArrivedMs,
        processingMs: this.utteranceProcessingMs,
      };
      this.finals++;
      this.utteranceId++;
      this.emit('final', event);
    }
    this.utteranceStart = upTo;
    this.utteranceProcessingMs = 0;
    if (event === null) {
      // Nothing was said (the no-speech rule): only restart the clock. Resetting the encoder here
      // could cut into a word that is just starting.
      return null;
    }
    // next utterance: fresh decoder and encoder state; the fbank keeps running
    this.lastPartial = '';
    this.encoder.reset();
    await this.search.reset();
    return event;
  }

  /** flush(): drain the partial block, pad, decode the rest, emit the final, reset for reuse. */
  private async finishInput(): Promise<void> {
    const flushCalledMs = this.flushCalledMs ?? performance.now();
    this.flushCalledMs = undefined;
    const rest = this.ring.length;
    if (rest > 0) {
      const tail = this.block.subarray(0, rest);
      this.ring.read(tail, rest);
      this.processedSamples += rest;
      if (this.mode === 'speech') await this.feed(tail);
      else this.skippedSamples += rest;
    }
    if (this.mode === 'speech') {
      // Decode every chunk that starts inside the real audio, padding with zeros only as far as
      // needed (at most tailPaddingMs). A chunk that would start after the last real frame holds
      // nothing but padding and is skipped: that is the saving over sherpa-onnx's fixed 660 ms.
      const realFrames = Math.floor((this.fbank.samplesAccepted + (this.fbank.frameShift >> 1)) / this.fbank.frameShift);
      let pad = Math.round((this.config.tailPaddingMs * ASR_SAMPLE_RATE_HZ) / 1000);
      const g = this.model.geometry;
      while (pad > 0 && this.chunkStart < realFrames) {
        const n = Math.min(pad, this.fbank.frameShift);
        this.fbank.acceptWaveform(this.zeros.subarray(0, n));
        pad -= n;
        if (this.fbank.numFramesReady - this.chunkStart >= g.chunkFrames) await this.runChunks();
      }
    }
    // Everything pushed has been decoded: the utterance ends where the real audio ends.
    const realEnd = this.processedSamples;
    this.mode = 'silence';
    this.segmentStart = realEnd;
    this.chunkStart = 0;
    const final = await this.finishUtterance('flush', flushCalledMs);
    this.fbank.reset();
    this.resampler.reset();
    this.vad?.reset();
    this.mode = this.vad !== undefined ? 'silence' : 'speech';
    this.flushRequested = false;
    for (const w of this.flushWaiters.splice(0)) w.resolve(final);
  }
}
