/**
 * onnxruntime session factory: one InferenceSession per model file, shared by every stream.
 *
 * Execution providers are tried in the configured order (e.g. ['cuda', 'cpu']); a provider whose
 * libraries are missing (onnxruntime-node ships only the CPU provider in its npm tarball) fails at
 * session creation and we fall back to the next one. The provider that actually loaded is recorded
 * so /api/v1/system and the metrics can report it.
 */
import * as ort from 'onnxruntime-node';
import { evxError } from '../errors.js';

export type ExecutionProviderName = 'cuda' | 'tensorrt' | 'cpu';

export interface SessionOptions {
  /** Providers to try, in order. */
  readonly providers: readonly ExecutionProviderName[];
  /** Threads used inside one operator. Set explicitly: the default (all cores) fights the media path. */
  readonly intraOpThreads: number;
  /** Threads used across operators (1 = sequential execution). */
  readonly interOpThreads: number;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = {
  providers: ['cpu'],
  intraOpThreads: 1,
  interOpThreads: 1,
};

export interface LoadedSession {
  readonly session: ort.InferenceSession;
  /** The provider that loaded the model. */
  readonly provider: ExecutionProviderName;
  /** Providers that were tried first and failed, with the reason (no PII: library errors only). */
  readonly fallbacks: readonly { provider: ExecutionProviderName; reason: string }[];
  readonly path: string;
}

/** Which providers this process has loaded at least one model on, by model path. */
const activeProviders = new Map<string, ExecutionProviderName>();

/** Providers in use right now, across all loaded models (for /api/v1/system and metrics). */
export function activeExecutionProviders(): ExecutionProviderName[] {
  return [...new Set(activeProviders.values())];
}

/**
 * Record a provider in use by a session this thread does not own (e.g. a model loaded in a
 * worker thread), so /api/v1/system and the metrics still report it. `key` identifies the session.
 */
export function reportRemoteProvider(key: string, provider: ExecutionProviderName | null): void {
  if (provider === null) activeProviders.delete(key);
  else activeProviders.set(key, provider);
}

/** Backends the onnxruntime-node build knows about, and whether their libraries are bundled. */
export function supportedBackends(): { name: string; bundled: boolean }[] {
  const list = (ort as unknown as { listSupportedBackends?: () => { name: string; bundled: boolean }[] }).listSupportedBackends;
  return typeof list === 'function' ? list() : [{ name: 'cpu', bundled: true }];
}

/** Create a session for `path`, trying each configured provider in turn. */
export async function loadSession(path: string, options: SessionOptions = DEFAULT_SESSION_OPTIONS): Promise<LoadedSession> {
  const fallbacks: { provider: ExecutionProviderName; reason: string }[] = [];
  for (const provider of options.providers) {
    try {
      const session = await ort.InferenceSession.create(path, {
        executionProviders: [provider],
        intraOpNumThreads: options.intraOpThreads,
        interOpNumThreads: options.interOpThreads,
        executionMode: options.interOpThreads > 1 ? 'parallel' : 'sequential',
        graphOptimizationLevel: 'all',
      });
      activeProviders.set(path, provider);
      return { session, provider, fallbacks, path };
    } catch (err) {
      fallbacks.push({ provider, reason: firstLine(err) });
    }
  }
  const reasons = fallbacks.map((f) => `${f.provider}: ${f.reason}`).join('; ');
  // When every provider failed, the most useful error is usually the CPU one (a corrupt model).
  const onlyCpuTried = options.providers.length === 1 && options.providers[0] === 'cpu';
  throw evxError(
    onlyCpuTried ? 'EVX_ERR_MODEL_LOAD' : 'EVX_ERR_PROVIDER_UNAVAILABLE',
    `cannot load model ${path} with any of [${options.providers.join(', ')}]: ${reasons}`,
    { details: { path, providers: [...options.providers] } },
  );
}

/** Forget a session's provider when the session is released. */
export async function releaseSession(loaded: LoadedSession): Promise<void> {
  activeProviders.delete(loaded.path);
  await loaded.session.release();
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]?.slice(0, 300) ?? 'unknown error';
}
