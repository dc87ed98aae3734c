/**
 * Where the ASR and VAD models live. Kept in one place so the composition root can later point
 * the defaults at the verified model store instead of ../shared.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { evxError } from '../errors.js';

export const DEFAULT_ASR_MODEL_DIR = '../shared/models/asr/zipformer-gigaspeech-3.3m';
export const DEFAULT_VAD_MODEL_PATH = '../shared/models/vad/silero-vad-v5/silero_vad.onnx';

export interface AsrModelFiles {
  readonly dir: string;
  readonly encoder: string;
  readonly decoder: string;
  readonly joiner: string;
  readonly tokens: string;
  /** SentencePiece model used to turn hotword/keyword text into tokens; optional. */
  readonly bpeModel: string | undefined;
}

/** Resolve the model paths the CLI and the appliance use (explicit value, else the default). */
export function resolveModelPaths(opts: { modelDir?: string | undefined; vadModel?: string | undefined } = {}): {
  modelDir: string;
  vadModelPath: string;
} {
  return {
    modelDir: resolve(opts.modelDir ?? DEFAULT_ASR_MODEL_DIR),
    vadModelPath: resolve(opts.vadModel ?? DEFAULT_VAD_MODEL_PATH),
  };
}

/** The batchable encoder and joiner our pipeline makes from a model (models/asr-batch). */
export function batchModelFiles(batchDir: string | undefined): { encoder?: string; joiner?: string } {
  return batchDir === undefined ? {} : { encoder: join(batchDir, 'encoder.batch.onnx'), joiner: join(batchDir, 'joiner.batch.onnx') };
}

/**
 * Find encoder*.onnx, decoder*.onnx, joiner*.onnx and tokens.txt in `dir` by prefix; `override`
 * names an encoder or joiner file elsewhere (the batchable ones our pipeline makes from this model).
 */
export function findAsrModelFiles(
  dir: string,
  override: { encoder?: string | undefined; joiner?: string | undefined } = {},
): AsrModelFiles {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw evxError('EVX_ERR_ASR_MODEL_DIR', `ASR model directory ${dir} does not exist`, { details: { dir } });
  }
  const names = readdirSync(dir).sort();
  const pick = (prefix: string): string => {
    const hits = names.filter((n) => n.startsWith(prefix) && n.endsWith('.onnx'));
    // Prefer an int8 file when both exist (the fast path); otherwise the only one.
    const chosen = hits.find((n) => n.includes('int8')) ?? hits[0];
    if (chosen === undefined) {
      throw evxError('EVX_ERR_ASR_MODEL_DIR', `no ${prefix}*.onnx in ${dir}`, { details: { dir, missing: prefix } });
    }
    return join(dir, chosen);
  };
  const tokens = join(dir, 'tokens.txt');
  if (!existsSync(tokens)) {
    throw evxError('EVX_ERR_ASR_MODEL_DIR', `no tokens.txt in ${dir}`, { details: { dir, missing: 'tokens.txt' } });
  }
  const bpe = join(dir, 'bpe.model');
  return {
    dir,
    encoder: override.encoder !== undefined ? existingFile(override.encoder, dir) : pick('encoder'),
    decoder: pick('decoder'),
    joiner: override.joiner !== undefined ? existingFile(override.joiner, dir) : pick('joiner'),
    tokens,
    bpeModel: existsSync(bpe) ? bpe : undefined,
  };
}

function existingFile(path: string, dir: string): string {
  const full = resolve(path);
  if (!existsSync(full) || !statSync(full).isFile()) {
    throw evxError('EVX_ERR_ASR_MODEL_DIR', `model file ${full} does not exist`, { details: { dir, missing: full } });
  }
  return full;
}
