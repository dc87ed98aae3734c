/**
 * onnxruntime session factory: one InferenceSession per model file, shared by every stream.
 *
 * Execution providers are tried in the configured order (e.g. ['webgpu', 'cpu']); a provider that
 * cannot start fails at session creation and we fall back to the next one:
 *  - cpu always works;
 *  - webgpu is bundled in onnxruntime-node (Dawn, linked into libonnxruntime.so.1). On Linux it runs
 *    over Vulkan: Dawn dlopen()s libvulkan.so.1 (Debian package libvulkan1) and needs a GPU driver's
 *    Vulkan ICD. Without them session creation throws "Failed to get a WebGPU adapter: No supported
 *    adapters" within milliseconds (no hang, no abort), and we add what is missing to the reason;
 *  - cuda and tensorrt need onnxruntime's provider libraries (libonnxruntime_providers_*.so), which
 *    the npm tarball does not contain: they load only where a site has installed them.
 * The provider that actually loaded is recorded so /api/v1/system and the metrics can report it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { evxError } from '../errors.js';
import { countRuns } from './runGauge.js';

export type ExecutionProviderName = 'cuda' | 'tensorrt' | 'webgpu' | 'cpu';

/** Every provider name the configuration accepts, in no particular order. */
export const EXECUTION_PROVIDER_NAMES: readonly ExecutionProviderName[] = ['cuda', 'tensorrt', 'webgpu', 'cpu'];

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
      countRuns(session);
      return { session, provider, fallbacks, path };
    } catch (err) {
      let reason = firstLine(err);
      if (provider === 'webgpu') {
        const missing = vulkanSetupProblem();
        if (missing !== null) reason = `${reason} (${missing})`;
      }
      fallbacks.push({ provider, reason });
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
  const line = text.split('\n')[0] ?? '';
  // onnxruntime's ORT_ENFORCE messages start with "<source>.cc:<line> <function> <condition> was false. ".
  const cleaned = line.replace(/^\/\S+\.(?:cc|cpp|h):\d+ .*? was false\. /, '');
  return cleaned.slice(0, 300) || 'unknown error';
}

/** Where the host looks for things, for tests: environment and filesystem root. */
export interface VulkanProbeHost {
  readonly env: NodeJS.ProcessEnv;
  /** Prefix for absolute system paths ('' = the real root). */
  readonly root: string;
  readonly platform: NodeJS.Platform;
  readonly arch: string;
}

/**
 * What the WebGPU provider lacks on this host to run over Vulkan, in words, or null when nothing
 * obvious is missing (or the host is not Linux). Only explains a failure: it never skips the attempt,
 * so an unusual library layout that this check does not know still gets its chance.
 */
export function vulkanSetupProblem(
  host: VulkanProbeHost = { env: process.env, root: '', platform: process.platform, arch: process.arch },
): string | null {
  if (host.platform !== 'linux') return null;
  if (!vulkanLoaderPresent(host)) {
    return 'Vulkan loader libvulkan.so.1 not found: install the Debian package libvulkan1 and a GPU driver with Vulkan support';
  }
  const manifests = vulkanDriverManifests(host);
  if (manifests.length === 0) {
    return 'Vulkan loader present but no Vulkan driver (ICD manifest in vulkan/icd.d) found: install the GPU driver';
  }
  // Debian 12's Mesa lavapipe (mesa-vulkan-drivers) is refused by the provider's Dawn
  // ("shaderUniform*ArrayDynamicIndexing required"), as is any CPU Vulkan: measured, not assumed.
  if (manifests.every(isSoftwareDriver)) {
    return 'only a software Vulkan driver (lavapipe / SwiftShader) is installed, which the WebGPU provider refuses: install the GPU driver';
  }
  return null;
}

/** Whether an ICD manifest names a CPU implementation of Vulkan (Mesa lavapipe, SwiftShader). */
function isSoftwareDriver(manifest: string): boolean {
  try {
    const library = (JSON.parse(readFileSync(manifest, 'utf8')) as { ICD?: { library_path?: unknown } }).ICD?.library_path;
    return typeof library === 'string' && /vulkan_lvp|swiftshader/i.test(library);
  } catch {
    return false;
  }
}

const LOADER = 'libvulkan.so.1';

function vulkanLoaderPresent(host: VulkanProbeHost): boolean {
  const multiarch = host.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  const dirs = [
    ...(host.env['LD_LIBRARY_PATH'] ?? '').split(delimiter).filter((d) => d !== ''),
    ortBinaryDir(),
    ...[`/usr/lib/${multiarch}`, `/lib/${multiarch}`, '/usr/lib64', '/lib64', '/usr/lib', '/lib', '/usr/local/lib'].map(
      (d) => host.root + d,
    ),
  ].filter((d): d is string => d !== null);
  if (dirs.some((d) => existsSync(join(d, LOADER)))) return true;
  // The dynamic linker's cache names every library in the directories listed in /etc/ld.so.conf.
  try {
    return readFileSync(`${host.root}/etc/ld.so.cache`).includes(LOADER);
  } catch {
    return false;
  }
}

/** Vulkan ICD manifests (one per installed driver), where the Vulkan loader looks for them. */
function vulkanDriverManifests(host: VulkanProbeHost): string[] {
  const env = host.env;
  const listed = [env['VK_DRIVER_FILES'], env['VK_ICD_FILENAMES'], env['VK_ADD_DRIVER_FILES']]
    .flatMap((v) => (v ?? '').split(delimiter))
    .filter((f) => f !== '' && existsSync(f));
  const configDirs = (env['XDG_CONFIG_DIRS'] || '/etc/xdg').split(delimiter).map((d) => host.root + d);
  const dataDirs = (env['XDG_DATA_DIRS'] || '/usr/local/share:/usr/share').split(delimiter).map((d) => host.root + d);
  const home = env['HOME'];
  const dirs = [
    ...configDirs,
    `${host.root}/etc`,
    ...dataDirs,
    ...(home !== undefined && home !== '' ? [join(home, '.local', 'share')] : []),
  ].map((d) => join(d, 'vulkan', 'icd.d'));
  const found = dirs.flatMap((d) => {
    try {
      return readdirSync(d)
        .filter((f) => f.endsWith('.json'))
        .map((f) => join(d, f));
    } catch {
      return [];
    }
  });
  return [...listed, ...found];
}

/** The folder holding onnxruntime-node's native libraries (its RUNPATH, also searched by dlopen). */
function ortBinaryDir(): string | null {
  try {
    const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
    return join(dirname(pkg), 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return null;
  }
}
