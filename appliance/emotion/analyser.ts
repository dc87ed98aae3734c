/**
 * Emotion analyser runtime: utterance PCM -> acoustic features (TS) -> ONNX model -> category
 * distribution plus arousal and valence in [-1, 1]. Categories and the feature list come from the
 * sidecar JSON next to the model; the ONNX input/output dimensions must agree with them.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { evxError } from '../errors.js';
import { DEFAULT_SESSION_OPTIONS, loadSession, releaseSession, type LoadedSession, type SessionOptions } from '../inference/sessions.js';
import { EMOTION_FEATURE_SCHEME, EmotionFeaturizer, emotionFeatureNames, toFeatureRate } from './features.js';

export const EMOTION_SIDECAR_FORMAT = 'edgevox-emotion-sidecar-v1';

export interface EmotionSidecar {
  readonly format: typeof EMOTION_SIDECAR_FORMAT;
  readonly model: string;
  readonly modelSha256: string;
  readonly featureScheme: string;
  readonly featureNames: readonly string[];
  readonly categories: readonly string[];
  readonly inputs: { readonly features: string };
  readonly outputs: { readonly probabilities: string; readonly arousalValence: string };
}

export interface EmotionResult {
  /** Most probable category. */
  readonly category: string;
  readonly confidence: number;
  /** Probability per category (sums to 1). */
  readonly scores: Readonly<Record<string, number>>;
  /** -1 (calm, low energy) .. 1 (agitated). */
  readonly arousal: number;
  /** -1 (negative) .. 1 (positive). */
  readonly valence: number;
  /** Duration of the analysed audio. */
  readonly durationMs: number;
}

export async function readEmotionSidecar(path: string): Promise<EmotionSidecar> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw evxError('EVX_ERR_MODEL_CONTRACT', `cannot read emotion sidecar ${path}`, { cause: err, details: { path } });
  }
  const s = raw as Partial<EmotionSidecar> | null;
  const bad = (what: string): never => {
    throw evxError('EVX_ERR_MODEL_CONTRACT', `emotion sidecar ${path}: ${what}`, { details: { path } });
  };
  if (s === null || typeof s !== 'object' || s.format !== EMOTION_SIDECAR_FORMAT) return bad(`format is not ${EMOTION_SIDECAR_FORMAT}`);
  if (typeof s.model !== 'string' || typeof s.modelSha256 !== 'string') return bad('model / modelSha256 missing');
  if (!Array.isArray(s.categories) || s.categories.length < 2 || !s.categories.every((c) => typeof c === 'string'))
    return bad('categories missing');
  if (!Array.isArray(s.featureNames) || !s.featureNames.every((c) => typeof c === 'string')) return bad('featureNames missing');
  if (
    typeof s.inputs?.features !== 'string' ||
    typeof s.outputs?.probabilities !== 'string' ||
    typeof s.outputs.arousalValence !== 'string'
  ) {
    return bad('inputs / outputs names missing');
  }
  // The features are computed by this build's code: the model must have been trained on the same list.
  if (s.featureScheme !== EMOTION_FEATURE_SCHEME) return bad(`feature scheme ${String(s.featureScheme)} is not ${EMOTION_FEATURE_SCHEME}`);
  const names = emotionFeatureNames();
  if (s.featureNames.length !== names.length || s.featureNames.some((n, i) => n !== names[i]))
    return bad('feature names differ from this build');
  return s as EmotionSidecar;
}

export class EmotionAnalyser {
  readonly categories: readonly string[];
  readonly sidecar: EmotionSidecar;
  private readonly featurizer = new EmotionFeaturizer();
  private loaded: LoadedSession | null;

  private constructor(loaded: LoadedSession, sidecar: EmotionSidecar) {
    this.loaded = loaded;
    this.sidecar = sidecar;
    this.categories = sidecar.categories;
  }

  /** Load `emotion.json` (sidecar) and the ONNX model it names. */
  static async load(sidecarPath: string, session: SessionOptions = DEFAULT_SESSION_OPTIONS): Promise<EmotionAnalyser> {
    const sidecar = await readEmotionSidecar(sidecarPath);
    const modelPath = resolve(dirname(sidecarPath), sidecar.model);
    let bytes: Buffer;
    try {
      bytes = await readFile(modelPath);
    } catch (err) {
      throw evxError('EVX_ERR_MODEL_SOURCE_MISSING', `emotion model ${modelPath} cannot be read`, {
        cause: err,
        details: { path: modelPath },
      });
    }
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== sidecar.modelSha256) {
      throw evxError('EVX_ERR_MODEL_CONTRACT', `emotion model ${modelPath} does not match its sidecar (sha256 ${sha})`, {
        details: { path: modelPath, expected: sidecar.modelSha256, actual: sha },
      });
    }
    const loaded = await loadSession(modelPath, session);
    try {
      checkContract(loaded, sidecar);
    } catch (err) {
      await releaseSession(loaded);
      throw err;
    }
    return new EmotionAnalyser(loaded, sidecar);
  }

  /** Analyse one utterance of mono PCM (float in [-1, 1) or 16-bit) at any rate from 8 kHz up. */
  async analyse(pcm: Float32Array | Int16Array, sampleRateHz: number): Promise<EmotionResult> {
    const loaded = this.loaded;
    if (loaded === null) throw evxError('EVX_ERR_STREAM_CLOSED', 'emotion analyser is closed');
    const features = this.featurizer.extract(toFeatureRate(pcm, sampleRateHz));
    return this.run(loaded, features, (pcm.length * 1000) / sampleRateHz);
  }

  /** Run the model on a precomputed feature vector (evaluation tools). */
  async analyseFeatures(features: Float32Array, durationMs = 0): Promise<EmotionResult> {
    const loaded = this.loaded;
    if (loaded === null) throw evxError('EVX_ERR_STREAM_CLOSED', 'emotion analyser is closed');
    return this.run(loaded, features, durationMs);
  }

  private async run(loaded: LoadedSession, features: Float32Array, durationMs: number): Promise<EmotionResult> {
    const { inputs, outputs } = this.sidecar;
    let probs: Float32Array;
    let av: Float32Array;
    try {
      const out = await loaded.session.run({ [inputs.features]: new ort.Tensor('float32', features, [1, features.length]) });
      probs = out[outputs.probabilities]!.data as Float32Array;
      av = out[outputs.arousalValence]!.data as Float32Array;
    } catch (err) {
      throw evxError('EVX_ERR_INFERENCE_FAILED', 'emotion model inference failed', { cause: err });
    }
    let best = 0;
    for (let i = 1; i < probs.length; i++) if (probs[i]! > probs[best]!) best = i;
    const scores: Record<string, number> = {};
    this.categories.forEach((c, i) => {
      scores[c] = probs[i]!;
    });
    return { category: this.categories[best]!, confidence: probs[best]!, scores, arousal: av[0]!, valence: av[1]!, durationMs };
  }

  /** Release the ONNX session; idempotent. */
  async close(): Promise<void> {
    const loaded = this.loaded;
    if (loaded === null) return;
    this.loaded = null;
    await releaseSession(loaded);
  }
}

function lastDim(meta: ort.InferenceSession.ValueMetadata | undefined): number | undefined {
  if (meta === undefined || !meta.isTensor) return undefined;
  const d = meta.shape[meta.shape.length - 1];
  return typeof d === 'number' ? d : undefined;
}

function checkContract(loaded: LoadedSession, s: EmotionSidecar): void {
  const { session } = loaded;
  const inIdx = session.inputNames.indexOf(s.inputs.features);
  const pIdx = session.outputNames.indexOf(s.outputs.probabilities);
  const avIdx = session.outputNames.indexOf(s.outputs.arousalValence);
  if (inIdx < 0 || pIdx < 0 || avIdx < 0) {
    throw evxError('EVX_ERR_MODEL_CONTRACT', 'emotion model inputs/outputs do not match its sidecar', {
      details: { inputs: [...session.inputNames], outputs: [...session.outputNames] },
    });
  }
  const d = lastDim(session.inputMetadata[inIdx]);
  const c = lastDim(session.outputMetadata[pIdx]);
  const a = lastDim(session.outputMetadata[avIdx]);
  if (d !== s.featureNames.length || c !== s.categories.length || a !== 2) {
    throw evxError('EVX_ERR_MODEL_CONTRACT', `emotion model dims (features ${d}, classes ${c}, av ${a}) disagree with its sidecar`, {
      details: {
        features: d,
        classes: c,
        arousalValence: a,
        sidecarFeatures: s.featureNames.length,
        sidecarCategories: s.categories.length,
      },
    });
  }
}
