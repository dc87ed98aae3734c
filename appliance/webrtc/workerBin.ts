/**
 * Finds the mediasoup worker binary and loads mediasoup pointed at it.
 *
 * mediasoup reads `MEDIASOUP_WORKER_BIN` once, when its module is first loaded, so the variable
 * must be set before the first `import('mediasoup')`: every module of the appliance loads mediasoup
 * through `loadMediasoup()` (type-only imports are free).
 *
 * Order: an existing `MEDIASOUP_WORKER_BIN` from the environment (make exports it); else the path
 * `native/mediasoup/build.sh --print-path` names (the offline build's cache); else the worker that
 * mediasoup's own postinstall placed inside node_modules (machines where the prebuilt download works).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { evxError } from '../errors.js';

export type WorkerBinSource = 'env' | 'offline-build' | 'npm-postinstall';

export interface WorkerBinLocation {
  readonly path: string;
  readonly source: WorkerBinSource;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// Compiled code runs from dist/appliance/webrtc: the repo root is one level further up.
const rootCandidates = [repoRoot, path.resolve(repoRoot, '..')];

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function offlineBuildPath(): string | undefined {
  for (const root of rootCandidates) {
    const script = path.join(root, 'native', 'mediasoup', 'build.sh');
    try {
      accessSync(script, constants.R_OK);
    } catch {
      continue;
    }
    const result = spawnSync('bash', [script, '--print-path'], { encoding: 'utf8', cwd: root, timeout: 10_000 });
    const printed = result.status === 0 ? result.stdout.trim().split('\n').pop() : undefined;
    if (printed !== undefined && printed !== '') return printed;
  }
  return undefined;
}

function postinstallPath(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve('mediasoup/package.json');
    return path.join(path.dirname(pkg), 'worker', 'out', 'Release', 'mediasoup-worker');
  } catch {
    return undefined;
  }
}

/** Where the worker binary is, or undefined when none is built. Never throws. */
export function findWorkerBin(env: NodeJS.ProcessEnv = process.env): WorkerBinLocation | undefined {
  const fromEnv = env['MEDIASOUP_WORKER_BIN'];
  if (fromEnv !== undefined && fromEnv !== '' && isExecutable(fromEnv)) return { path: fromEnv, source: 'env' };
  const built = offlineBuildPath();
  if (built !== undefined && isExecutable(built)) return { path: built, source: 'offline-build' };
  const npm = postinstallPath();
  if (npm !== undefined && isExecutable(npm)) return { path: npm, source: 'npm-postinstall' };
  return undefined;
}

/** Like findWorkerBin but throws EVX_ERR_WEBRTC_WORKER_MISSING with what was looked at. */
export function requireWorkerBin(env: NodeJS.ProcessEnv = process.env): WorkerBinLocation {
  const found = findWorkerBin(env);
  if (found !== undefined) return found;
  throw evxError(
    'EVX_ERR_WEBRTC_WORKER_MISSING',
    'The mediasoup worker is not built: run `make setup` (or native/mediasoup/build.sh), or set MEDIASOUP_WORKER_BIN',
    { details: { envValue: env['MEDIASOUP_WORKER_BIN'] ?? null, offlineBuildPath: offlineBuildPath() ?? null } },
  );
}

type MediasoupModule = typeof import('mediasoup');
let loaded: { module: MediasoupModule; bin: WorkerBinLocation } | undefined;

/**
 * Imports mediasoup with MEDIASOUP_WORKER_BIN pointing at the resolved worker. Cached: later calls
 * return the same module. Throws EVX_ERR_WEBRTC_WORKER_MISSING if no worker binary exists.
 */
export async function loadMediasoup(): Promise<{ module: MediasoupModule; bin: WorkerBinLocation }> {
  if (loaded !== undefined) return loaded;
  const bin = requireWorkerBin();
  process.env['MEDIASOUP_WORKER_BIN'] = bin.path;
  const imported = (await import('mediasoup')) as MediasoupModule & { default?: MediasoupModule };
  // mediasoup is CommonJS: under NodeNext its exports may sit on `default`.
  const module = imported.default ?? imported;
  if (module.workerBin !== bin.path) {
    throw evxError(
      'EVX_ERR_WEBRTC_WORKER_MISSING',
      'mediasoup was loaded before MEDIASOUP_WORKER_BIN was set; load it only through loadMediasoup()',
      { details: { expected: bin.path, actual: module.workerBin } },
    );
  }
  loaded = { module, bin };
  return loaded;
}
