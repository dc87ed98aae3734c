/**
 * Intent classifier runtime: featurize text in TS, run the ONNX classifier, apply the
 * out-of-scope threshold. Labels, featurizer parameters and the threshold come from the sidecar
 * JSON next to the model; the class count is read from the ONNX output shape and must match.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { evxError } from '../errors.js';
import { DEFAULT_SESSION_OPTIONS, loadSession, releaseSession, type LoadedSession, type SessionOptions } from '../inference/sessions.js';
import { IntentFeaturizer, validateFeaturizerConfig, type IntentFeaturizerConfig } from './featurizer.js';

export const INTENT_SIDECAR_FORMAT = 'edgevox-intent-sidecar-v1';

export interface IntentSidecar {
  readonly format: typeof INTENT_SIDECAR_FORMAT;
  /** ONNX file name, relative to the sidecar. */
  readonly model: string;
  readonly modelSha256: string;
  readonly featurizer: IntentFeaturizerConfig;
  readonly labels: readonly string[];
  /** Top-1 probability below which the utterance is out of scope. */
  readonly oosThreshold: number;
  readonly inputs: { readonly ids: string; readonly counts: string };
  readonly outputs: { readonly probabilities: string };
}

export interface IntentScore {
  readonly intent: string;
  readonly confidence: number;
}

export interface IntentResult {
  /** Best intent, or null when the text has no words. Set even when `outOfScope` is true. */
  readonly intent: string | null;
  /** Probability of the best intent. */
  readonly confidence: number;
  /** True when the best probability is below the calibrated threshold (or there is no text). */
  readonly outOfScope: boolean;
  /** The `topK` best intents, best first. */
  readonly top: readonly IntentScore[];
}

export interface IntentClassifierOptions {
  readonly session?: SessionOptions;
  readonly topK?: number;
  /** Override the sidecar's out-of-scope threshold (e.g. a site-specific calibration). */
  readonly oosThreshold?: number;
}

/** Reads and validates a sidecar; exported for tools that only need the labels. */
export async function readIntentSidecar(path: string): Promise<IntentSidecar> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw evxError('EVX_ERR_INTENT_SIDECAR', `cannot read intent sidecar ${path}`, { cause: err, details: { path } });
  }
  const s = raw as Partial<IntentSidecar> | null;
  const bad = (what: string): never => {
    throw evxError('EVX_ERR_INTENT_SIDECAR', `intent sidecar ${path}: ${what}`, { details: { path } });
  };
  if (s === null || typeof s !== 'object' || s.format !== INTENT_SIDECAR_FORMAT) return bad(`format is not ${INTENT_SIDECAR_FORMAT}`);
  if (typeof s.model !== 'string' || typeof s.modelSha256 !== 'string') return bad('model / modelSha256 missing');
  if (!Array.isArray(s.labels) || s.labels.length < 2 || !s.labels.every((l) => typeof l === 'string')) return bad('labels missing');
  if (new Set(s.labels).size !== s.labels.length) return bad('labels are not unique');
  if (typeof s.oosThreshold !== 'number' || !(s.oosThreshold >= 0 && s.oosThreshold < 1)) return bad('oosThreshold must be in [0, 1)');
  if (typeof s.inputs?.ids !== 'string' || typeof s.inputs.counts !== 'string' || typeof s.outputs?.probabilities !== 'string') {
    return bad('inputs / outputs names missing');
  }
  return { ...(s as IntentSidecar), featurizer: validateFeaturizerConfig(s.featurizer) };
}

export class IntentClassifier {
  readonly labels: readonly string[];
  readonly oosThreshold: number;
  readonly sidecar: IntentSidecar;
  private readonly featurizer: IntentFeaturizer;
  private readonly topK: number;
  private loaded: LoadedSession | null;

  private constructor(loaded: LoadedSession, sidecar: IntentSidecar, options: IntentClassifierOptions) {
    this.loaded = loaded;
    this.sidecar = sidecar;
    this.labels = sidecar.labels;
    this.oosThreshold = options.oosThreshold ?? sidecar.oosThreshold;
    this.featurizer = new IntentFeaturizer(sidecar.featurizer);
    this.topK = Math.max(1, Math.min(options.topK ?? 3, sidecar.labels.length));
  }

  /** Load `intent.json` (sidecar) and the ONNX model it names. */
  static async load(sidecarPath: string, options: IntentClassifierOptions = {}): Promise<IntentClassifier> {
    const sidecar = await readIntentSidecar(sidecarPath);
    const modelPath = resolve(dirname(sidecarPath), sidecar.model);
    let bytes: Buffer;
    try {
      bytes = await readFile(modelPath);
    } catch (err) {
      throw evxError('EVX_ERR_MODEL_SOURCE_MISSING', `intent model ${modelPath} cannot be read`, {
        cause: err,
        details: { path: modelPath },
      });
    }
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== sidecar.modelSha256) {
      throw evxError('EVX_ERR_INTENT_SIDECAR', `intent model ${modelPath} does not match its sidecar (sha256 ${sha})`, {
        details: { path: modelPath, expected: sidecar.modelSha256, actual: sha },
      });
    }
    const loaded = await loadSession(modelPath, options.session ?? DEFAULT_SESSION_OPTIONS);
    try {
      checkContract(loaded, sidecar);
    } catch (err) {
      await releaseSession(loaded);
      throw err;
    }
    return new IntentClassifier(loaded, sidecar, options);
  }

  /** Classify one utterance (typed text or an ASR transcript). */
  async classify(text: string): Promise<IntentResult> {
    const loaded = this.loaded;
    if (loaded === null) throw evxError('EVX_ERR_STREAM_CLOSED', 'intent classifier is closed');
    const f = this.featurizer.featurize(text);
    if (f.length === 0) return { intent: null, confidence: 0, outOfScope: true, top: [] };
    const feeds: Record<string, ort.Tensor> = {
      [this.sidecar.inputs.ids]: new ort.Tensor('int64', f.ids.slice(0, f.length), [f.length]),
      [this.sidecar.inputs.counts]: new ort.Tensor('float32', f.counts.slice(0, f.length), [f.length]),
    };
    let probs: Float32Array;
    try {
      const out = await loaded.session.run(feeds, [this.sidecar.outputs.probabilities]);
      probs = out[this.sidecar.outputs.probabilities]!.data as Float32Array;
    } catch (err) {
      throw evxError('EVX_ERR_INFERENCE_FAILED', 'intent model inference failed', { cause: err });
    }
    return this.decide(probs);
  }

  /** Turn a probability vector into a result (exposed for evaluation tools). */
  decide(probs: Float32Array): IntentResult {
    const order = [...probs.keys()].sort((a, b) => probs[b]! - probs[a]! || a - b);
    const top = order.slice(0, this.topK).map((i) => ({ intent: this.labels[i]!, confidence: probs[i]! }));
    const best = top[0]!;
    return { intent: best.intent, confidence: best.confidence, outOfScope: best.confidence < this.oosThreshold, top };
  }

  /** Release the ONNX session; idempotent. */
  async close(): Promise<void> {
    const loaded = this.loaded;
    if (loaded === null) return;
    this.loaded = null;
    await releaseSession(loaded);
  }
}

function checkContract(loaded: LoadedSession, sidecar: IntentSidecar): void {
  const { session } = loaded;
  for (const name of [sidecar.inputs.ids, sidecar.inputs.counts]) {
    if (!session.inputNames.includes(name)) {
      throw evxError('EVX_ERR_MODEL_CONTRACT', `intent model has no input ${name}`, { details: { inputs: [...session.inputNames] } });
    }
  }
  const outIndex = session.outputNames.indexOf(sidecar.outputs.probabilities);
  const meta = session.outputMetadata[outIndex];
  const shape = meta !== undefined && meta.isTensor ? meta.shape : [];
  const classes = shape[shape.length - 1];
  if (outIndex < 0 || typeof classes !== 'number') {
    throw evxError(
      'EVX_ERR_MODEL_CONTRACT',
      `intent model output ${sidecar.outputs.probabilities} missing or without a static class dimension`,
    );
  }
  if (classes !== sidecar.labels.length) {
    throw evxError('EVX_ERR_MODEL_CONTRACT', `intent model has ${classes} classes but its sidecar lists ${sidecar.labels.length} labels`, {
      details: { classes, labels: sidecar.labels.length },
    });
  }
}
