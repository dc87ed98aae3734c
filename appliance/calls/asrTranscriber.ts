/**
 * LegTranscriber on the streaming recognizer: one Recognizer (shared ONNX sessions) for the whole
 * appliance, one RecognizerStream per call leg. Built from the verified, active models of the model
 * store, never from paths outside it.
 */
import { join } from 'node:path';
import type { SpeechStream } from '../asr/api.js';
import { AutoLanguageStream, DEFAULT_AUTO_LANGUAGE } from '../asr/autoLanguage.js';
import type { EncoderBatchOptions } from '../asr/encoderBatch.js';
import { phraseLanguage, type LanguageChoice, type SpeechLanguage } from '../asr/language.js';
import { RecognizerPool, type PoolOptions } from '../asr/pool/pool.js';
import type { EdgeVoxConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { ModelStore } from '../modelstore/modelStore.js';
import type { LegTranscriber, TranscriberFactory, TranscriberOptions } from './transcriber.js';

export interface SpeechEngine {
  readonly factory: TranscriberFactory;
  /** Worker-thread recognizers (config asr.workers; 0 = in-process): inference stays off the media thread. */
  readonly recognizer: RecognizerPool;
  /** The Mandarin recognizer, once started (its model installed and a call, trunk, number or group asking for it). */
  readonly mandarin: RecognizerPool | undefined;
  /** Start the Mandarin recognizer if it is not running (idempotent; a failure is logged, not thrown). */
  ensureMandarin(): Promise<void>;
  close(): Promise<void>;
}

const GPU_PROVIDERS = new Set(['webgpu', 'cuda', 'tensorrt']);

/**
 * The batchable encoder and its batching, when configured (asr.encoder 'batched') and installed;
 * otherwise nothing, and the pool runs the model's own exact batch-1 encoder.
 */
function batchedEncoder(
  models: ModelStore,
  config: EdgeVoxConfig,
  logger: Logger,
): { batchModelDir: string; batch: EncoderBatchOptions } | Record<string, never> {
  if (config.asr.encoder !== 'batched') return {};
  let dir: string;
  try {
    dir = models.activeDir('asr-batch');
  } catch (err) {
    logger.warn({ code: (err as { code?: string }).code }, 'batchable ASR encoder not installed; using the exact batch-1 encoder');
    return {};
  }
  const gpu = GPU_PROVIDERS.has(config.inference.providers[0] ?? 'cpu');
  return {
    batchModelDir: dir,
    batch: {
      maxBatch: gpu ? config.inference.gpuMaxBatch : config.asr.maxBatch,
      windowMs: config.asr.batchWindowMs,
      budgetMs: config.asr.batchBudgetMs,
    },
  };
}

/** The worker pool options of one language's recognizer. */
function poolOptions(
  modelDir: string,
  config: EdgeVoxConfig,
  logger: Logger,
  models: ModelStore,
  extra: Partial<PoolOptions>,
): PoolOptions {
  return {
    modelDir,
    vadModelPath: join(models.activeDir('vad'), 'silero_vad.onnx'),
    providers: config.inference.providers,
    threads: config.inference.intraOpThreads,
    decoding: config.asr.decoding,
    workers: config.asr.workers ?? 'auto',
    hangTimeoutMs: config.asr.workerHangTimeoutMs,
    loadTimeoutMs: config.asr.workerLoadTimeoutMs,
    onWorkerFailure: (f) =>
      logger.error(
        { worker: f.worker, exitCode: f.exitCode, streams: f.streams, code: f.error.code, restartInMs: f.restartInMs },
        'recognition worker stopped; restarting it',
      ),
    ...extra,
  };
}

/** The configuration asks for Mandarin (zh or auto) for the site, a trunk or a dialled number. */
function mandarinWanted(config: EdgeVoxConfig): boolean {
  const asks = (l: string | undefined): boolean => l === 'zh' || l === 'auto';
  return asks(config.asr.language) || config.sip.trunks.some((t) => asks(t.language)) || config.sip.dids.some((d) => asks(d.language));
}

async function startMandarin(models: ModelStore, config: EdgeVoxConfig, logger: Logger): Promise<RecognizerPool | undefined> {
  try {
    // Mandarin decodes with beam search: its n-best feeds the pinyin-to-character language model
    return await RecognizerPool.create(poolOptions(models.activeDir('asr-zh'), config, logger, models, { decoding: 'beam' }));
  } catch (err) {
    logger.error(
      { code: (err as { code?: string }).code },
      'Mandarin speech recognition not started; Mandarin calls are transcribed as English',
    );
    return undefined;
  }
}

export async function createSpeechEngine(models: ModelStore, config: EdgeVoxConfig, logger: Logger): Promise<SpeechEngine> {
  const encoder = batchedEncoder(models, config, logger);
  const recognizer = await RecognizerPool.create(poolOptions(models.activeDir('asr'), config, logger, models, encoder));
  const pools: Partial<Record<SpeechLanguage, RecognizerPool>> = { en: recognizer };
  let closed = false;
  let mandarinStarting: Promise<void> | undefined;
  // Mandarin starts once, at boot when the configuration asks for it, otherwise on the first call
  // (or skill group) that does; calls that need it before it is ready are transcribed as English.
  const ensureMandarin = (): Promise<void> => {
    mandarinStarting ??= startMandarin(models, config, logger).then(async (pool) => {
      if (closed) await pool?.close();
      else if (pool !== undefined) pools.zh = pool;
    });
    return mandarinStarting;
  };
  if (mandarinWanted(config)) await ensureMandarin();
  const keywords = config.asr.keywords;
  const siteHotwords = config.asr.hotwords;
  let fellBack = false;
  const streamFor = (language: SpeechLanguage, options: TranscriberOptions): SpeechStream => {
    const hotwords = [...siteHotwords, ...options.hotwords].filter((p) => phraseLanguage(p) === language);
    const spots = keywords.filter((p) => phraseLanguage(p) === language);
    return pools[language]!.createStream({
      sampleRateHz: options.sampleRateHz,
      ...(hotwords.length > 0 ? { hotwords } : {}),
      ...(spots.length > 0 ? { keywords: spots } : {}),
      endpoint: {
        rules: [
          { mustContainSpeech: false, minTrailingSilenceMs: config.asr.endpoint.silenceNoSpeechMs, minUtteranceMs: 0 },
          { mustContainSpeech: true, minTrailingSilenceMs: config.asr.endpoint.silenceAfterSpeechMs, minUtteranceMs: 0 },
          { mustContainSpeech: false, minTrailingSilenceMs: 0, minUtteranceMs: config.asr.endpoint.maxUtteranceMs },
        ],
      },
    });
  };
  const factory: TranscriberFactory = (options, callbacks): LegTranscriber => {
    let choice: LanguageChoice = options.language ?? config.asr.language;
    if (choice !== 'en' && pools.zh === undefined) {
      void ensureMandarin();
      if (!fellBack) logger.warn({ language: choice }, 'Mandarin recognition is not ready; transcribing this call as English');
      fellBack = true;
      choice = 'en';
    }
    const stream: SpeechStream =
      choice === 'auto'
        ? new AutoLanguageStream(
            { en: streamFor('en', options), zh: streamFor('zh', options) },
            { ...DEFAULT_AUTO_LANGUAGE, preferred: 'en' },
          )
        : streamFor(choice, options);
    stream.on('language', (e) => callbacks.language?.({ language: e.language, confidence: e.confidence, decidedAtMs: e.decidedAtMs }));
    stream.on('partial', (e) => {
      if (e.changed && e.text !== '') callbacks.partial(e.text, e.chunkLatencyMs);
    });
    stream.on('final', (e) => {
      if (e.text === '') return;
      callbacks.final({
        text: e.text,
        words: e.words.map((w) => ({ word: w.word, startMs: w.startMs, endMs: w.endMs })),
        startMs: e.startMs,
        endMs: e.endMs,
        confidence: e.confidence,
        latencyMs: e.latencyMs,
        language: e.language,
        ...(e.pinyin !== undefined ? { pinyin: e.pinyin } : {}),
      });
    });
    stream.on('keyword', (e) => callbacks.keyword({ phrase: e.keyword, startMs: e.startMs, score: e.score }));
    let failed = false;
    stream.on('error', (e) => {
      if (failed) return;
      // A crashed or hung recognition worker is replaced and the stream re-created on the new one:
      // the leg loses the audio of that moment (counted) but keeps being transcribed. Anything else
      // is final.
      const recoverable = e.error.code === 'EVX_ERR_ASR_WORKER_EXITED' || e.error.code === 'EVX_ERR_ASR_WORKER_HUNG';
      if (!recoverable) failed = true;
      logger.error({ legId: options.legId, code: e.error.code, recoverable }, 'recognition stream failed');
      callbacks.failed(e.error.code, recoverable);
    });
    let closing: Promise<void> | undefined;
    let last: ReturnType<typeof stream.stats> | undefined;
    return {
      write(samples) {
        if (closing === undefined && !failed && !stream.isClosed) stream.push(samples);
      },
      lagMs: () => (stream.isClosed ? 0 : stream.stats().lagMs),
      stats: () => {
        const st = last ?? stream.stats();
        return {
          droppedFrames: st.droppedFrames,
          decodedMs: st.audioDecodedMs,
          skippedMs: st.audioSkippedMs,
          chunkLatencyP95Ms: st.chunkLatencyP95Ms,
        };
      },
      close() {
        closing ??= (async () => {
          try {
            if (!stream.isClosed && !failed) await stream.flush();
          } finally {
            if (!stream.isClosed) last = stream.stats();
            stream.close();
          }
        })();
        return closing;
      },
    };
  };
  return {
    factory,
    recognizer,
    get mandarin() {
      return pools.zh;
    },
    ensureMandarin,
    close: async () => {
      closed = true;
      await mandarinStarting;
      await Promise.all([recognizer.close(), pools.zh?.close()]);
    },
  };
}
