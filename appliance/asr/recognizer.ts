/**
 * The speech recognizer: one set of ONNX sessions (encoder, decoder, joiner, optional Silero VAD)
 * shared by every stream; `createStream()` makes the per-call-leg state. This is the API the media
 * layer (SIP/RTP, WebRTC) uses:
 *
 *   const recognizer = await Recognizer.create({ modelDir, vadModelPath, providers: ['cuda', 'cpu'], threads: 1 });
 *   const stream = recognizer.createStream({ sampleRateHz: 8000, hotwords: ['EdgeVox'] });
 *   stream.on('final', (e) => ...); stream.push(int16Frame); ...; await stream.flush(); stream.close();
 *   await recognizer.close();
 */
import { basename } from 'node:path';
import { evxError } from '../errors.js';
import type { ExecutionProviderName } from '../inference/sessions.js';
import { SileroVad } from '../vad/silero.js';
import { ModifiedBeamSearch } from './beam.js';
import { ContextGraph, type ContextPhrase } from './contextGraph.js';
import { DEFAULT_ENDPOINT_CONFIG, type EndpointConfig } from './endpoint.js';
import { EncoderBatcher, type EncoderBatchOptions, type EncoderBatchStats } from './encoderBatch.js';
import { GreedySearch } from './greedy.js';
import { GreedyBatch } from './greedyBatch.js';
import { DecodeLane } from './lane.js';
import type { Search } from './hypothesis.js';
import { DEFAULT_KEYWORD_BOOST, DEFAULT_KEYWORD_THRESHOLD, KeywordSpotter } from './kws.js';
import { batchModelFiles, findAsrModelFiles } from './modelFiles.js';
import { PhraseTokenizer } from './phraseTokenizer.js';
import { RecognizerStream, type StreamConfig } from './stream.js';
import { TransducerModel, type TransducerGeometry } from './transducer.js';
import type { SpeechLanguage } from './language.js';
import { textFormFor, type TextForm } from './textForm.js';
import { MAX_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ } from '../audio/wav.js';

export type DecodingMethod = 'greedy' | 'beam';

export interface RecognizerOptions {
  /** Directory with encoder*.onnx, decoder*.onnx, joiner*.onnx, tokens.txt (and bpe.model for phrases). */
  readonly modelDir: string;
  /** Silero VAD model; when given, streams skip silence by default. */
  readonly vadModelPath?: string | undefined;
  readonly providers?: readonly ExecutionProviderName[];
  /** onnxruntime intra-op threads per session (1 = the whole engine on one core per call). */
  readonly threads?: number;
  readonly decoding?: DecodingMethod;
  readonly beamSize?: number;
  /** Default per-token bonus for hotwords. */
  readonly hotwordBoost?: number;
  /**
   * How long a VAD batch waits for the windows of other streams (0 = end of the event-loop turn).
   * Live streams on a worker share calls this way; files decoded faster than real time must not wait.
   */
  readonly vadBatchWaitMs?: number;
  /**
   * Directory with the batchable encoder and joiner made from this model by models/pipelines/asr
   * (encoder.batch.onnx, joiner.batch.onnx), used instead of the model's own; decoder, tokens and
   * bpe.model still come from `modelDir`.
   */
  readonly batchModelDir?: string | undefined;
  /** Encoder batching across streams (needs a batchable encoder; otherwise every chunk runs alone). */
  readonly batch?: EncoderBatchOptions | undefined;
  /**
   * Pinyin models: the directory of the pinyin-to-character language data (default: Debian
   * sunpinyin-data's), and whether to use its language model (false = each syllable's most
   * frequent character: the baseline `make eval-asr-zh` compares against).
   */
  readonly hanziDataDir?: string | undefined;
  readonly hanziLm?: boolean | undefined;
}

export interface PhraseSpec {
  readonly phrase: string;
  /** Hotwords: per-token bonus. Keywords: per-token bonus inside the keyword search. */
  readonly boost?: number;
  /** Keywords only: minimum mean token probability (0..1). */
  readonly threshold?: number;
}

export interface StreamOptions {
  readonly sampleRateHz: number;
  /** Phrases to favour in this stream's transcript (switches decoding to beam search). */
  readonly hotwords?: readonly (string | PhraseSpec)[];
  /** Phrases that raise `keyword` events. */
  readonly keywords?: readonly (string | PhraseSpec)[];
  /** Endpoint rules; false turns endpointing off (finals only on flush). */
  readonly endpoint?: Partial<EndpointConfig> | false;
  /** Skip silence with the VAD (default: on when the recognizer has a VAD model). */
  readonly vad?: boolean;
  /** Rate the VAD judges this stream at (default: 8 kHz for 8 kHz audio, else 16 kHz). */
  readonly vadRateHz?: 8000 | 16000;
  readonly decoding?: DecodingMethod;
  readonly maxBufferedMs?: number;
  readonly tailPaddingMs?: number;
  readonly vadThreshold?: number;
  readonly preRollMs?: number;
  readonly speechHangoverMs?: number;
}

export interface RecognizerInfo {
  readonly provider: string;
  readonly vadProvider: string | undefined;
  readonly modelDir: string;
  readonly geometry: TransducerGeometry;
  readonly activeStreams: number;
  readonly phraseTokenizer: string;
  /** The encoder file in use, and the most streams one encoder run takes (1 = every chunk alone). */
  readonly encoderFile: string;
  readonly maxBatch: number;
  /** The language the model transcribes (read from its units: tonal pinyin = Mandarin). */
  readonly language: SpeechLanguage;
}

export class Recognizer {
  readonly model: TransducerModel;
  readonly vad: SileroVad | undefined;
  readonly text: TextForm;
  private readonly options: RecognizerOptions;
  private readonly streams = new Set<RecognizerStream>();
  private readonly lane = new DecodeLane();
  private readonly batcher: EncoderBatcher | undefined;
  private readonly greedyBatch: GreedyBatch | undefined;
  private tokenizer: PhraseTokenizer | undefined;
  private closed = false;

  private constructor(model: TransducerModel, vad: SileroVad | undefined, text: TextForm, options: RecognizerOptions) {
    this.model = model;
    this.vad = vad;
    this.text = text;
    this.options = options;
    if (options.batch && options.batch.maxBatch > 1) {
      if (!model.geometry.encoderBatchable) {
        throw evxError(
          'EVX_ERR_MODEL_CONTRACT',
          `${model.files.encoder}: encoder batching asked for, but the encoder has a fixed batch of 1`,
          {
            details: { path: model.files.encoder },
          },
        );
      }
      this.batcher = new EncoderBatcher(model, options.batch);
      this.greedyBatch = new GreedyBatch(model, this.batcher.maxBatch);
    }
  }

  static async create(options: RecognizerOptions): Promise<Recognizer> {
    const files = findAsrModelFiles(options.modelDir, batchModelFiles(options.batchModelDir));
    const threads = options.threads ?? 1;
    const sessionOptions = { providers: options.providers ?? ['cpu'], intraOpThreads: threads, interOpThreads: 1 };
    const model = await TransducerModel.load(files, sessionOptions);
    let vad: SileroVad | undefined;
    let text: TextForm;
    try {
      text = textFormFor(model.tokens, options);
      if (options.vadModelPath !== undefined) {
        vad = await SileroVad.load(options.vadModelPath, sessionOptions, { batchWaitMs: options.vadBatchWaitMs ?? 0 });
      }
    } catch (err) {
      await model.close();
      throw err;
    }
    return new Recognizer(model, vad, text, options);
  }

  info(): RecognizerInfo {
    return {
      provider: this.model.provider,
      vadProvider: this.vad?.loaded.provider,
      modelDir: this.model.files.dir,
      geometry: this.model.geometry,
      activeStreams: this.streams.size,
      phraseTokenizer: this.phraseTokenizer().method,
      encoderFile: basename(this.model.files.encoder),
      maxBatch: this.batcher?.maxBatch ?? 1,
      language: this.text.language,
    };
  }

  /** Turn a phrase into model tokens (throws EVX_ERR_ASR_PHRASE when it cannot be spelled). */
  tokenize(phrase: string): number[] {
    return this.phraseTokenizer().encode(phrase);
  }

  createStream(options: StreamOptions): RecognizerStream {
    if (this.closed) throw evxError('EVX_ERR_STREAM_CLOSED', 'recognizer is closed');
    const rate = options.sampleRateHz;
    if (!Number.isInteger(rate) || rate < MIN_SAMPLE_RATE_HZ || rate > MAX_SAMPLE_RATE_HZ) {
      throw evxError('EVX_ERR_AUDIO_FORMAT', `sample rate ${rate} Hz is outside ${MIN_SAMPLE_RATE_HZ}..${MAX_SAMPLE_RATE_HZ} Hz`);
    }
    const hotwords = this.phrases(options.hotwords ?? [], this.options.hotwordBoost ?? 1.5, undefined);
    const keywords = this.phrases(options.keywords ?? [], DEFAULT_KEYWORD_BOOST, DEFAULT_KEYWORD_THRESHOLD);
    // pinyin models default to beam search: their n-best feeds the pinyin-to-character language model
    const method: DecodingMethod =
      hotwords.length > 0 ? 'beam' : (options.decoding ?? this.options.decoding ?? (this.text.language === 'zh' ? 'beam' : 'greedy'));
    const beamSize = this.options.beamSize ?? 4;
    const search: Search =
      method === 'greedy'
        ? new GreedySearch(this.model, this.greedyBatch)
        : new ModifiedBeamSearch(this.model, { beamSize, context: hotwords.length > 0 ? new ContextGraph(hotwords) : undefined });
    const kws = keywords.length > 0 ? new KeywordSpotter(this.model, keywords, beamSize) : undefined;
    const useVad = (options.vad ?? true) && this.vad !== undefined;
    const endpoint: EndpointConfig =
      options.endpoint === false ? { ...DEFAULT_ENDPOINT_CONFIG, enabled: false } : { ...DEFAULT_ENDPOINT_CONFIG, ...options.endpoint };
    const config: StreamConfig = {
      sampleRateHz: rate,
      endpoint,
      maxBufferedMs: options.maxBufferedMs ?? 5000,
      tailPaddingMs: options.tailPaddingMs ?? 660,
      vadThreshold: options.vadThreshold ?? 0.5,
      preRollMs: options.preRollMs ?? 480,
      speechHangoverMs: options.speechHangoverMs ?? 800,
    };
    const stream = new RecognizerStream(config, {
      model: this.model,
      search,
      // a telephone leg (born at 8 kHz) is judged by the VAD at 8 kHz: half the cost, its own band
      vad: useVad ? this.vad.createState(options.vadRateHz ?? (rate === 8000 ? 8000 : 16000)) : undefined,
      kws,
      onClose: (s) => this.streams.delete(s),
      lane: this.lane,
      batcher: this.batcher,
      text: this.text,
    });
    this.streams.add(stream);
    return stream;
  }

  /** Encoder calls by batch size (undefined when this recognizer does not batch). */
  batchStats(): (EncoderBatchStats & { readonly joinerCalls: number; readonly joinerRows: number }) | undefined {
    if (!this.batcher) return undefined;
    return { ...this.batcher.stats(), joinerCalls: this.greedyBatch!.joinerCalls, joinerRows: this.greedyBatch!.joinerRows };
  }

  /** Close every stream, then release the sessions. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.streams]) s.close();
    this.batcher?.close();
    await this.vad?.close();
    await this.model.close();
  }

  private phraseTokenizer(): PhraseTokenizer {
    this.tokenizer ??= new PhraseTokenizer(this.model.tokens, this.model.files.bpeModel, { outputSize: this.model.geometry.vocabSize });
    return this.tokenizer;
  }

  private phrases(list: readonly (string | PhraseSpec)[], boost: number, threshold: number | undefined): ContextPhrase[] {
    return list.map((item) => {
      const spec: PhraseSpec = typeof item === 'string' ? { phrase: item } : item;
      return {
        text: spec.phrase,
        tokens: this.tokenize(spec.phrase),
        boost: spec.boost ?? boost,
        threshold: spec.threshold ?? threshold,
      };
    });
  }
}
