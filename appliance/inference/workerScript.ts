/**
 * Where a worker thread's code is. From the compiled tree (dist/, production and the CLI) it is the
 * `.js` file next to the module that starts the worker. When that module runs from TypeScript
 * sources (vitest transforms .ts in its own module runner, but a worker thread is a plain Node
 * isolate that cannot load .ts on Node 20), the worker's `.ts` entry and its imports are bundled
 * with esbuild (a devDependency, only loaded on this path) into one ESM file under
 * node_modules/.cache/edgevox/, named by the hash of its content. So tests always run the current
 * sources, never a stale dist/, and nothing else has to be built first. Bare imports
 * (onnxruntime-node) stay external and resolve from the repo's node_modules because the bundle
 * lives inside it. Used by the recognition pool and the QA embedding worker.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const bundled = new Map<string, Promise<URL>>();

/**
 * The URL of worker `name` (without extension) that sits beside the module at `moduleUrl`;
 * `bundleName` names its bundle in the cache when running from sources.
 */
export function workerScript(moduleUrl: string, name: string, bundleName: string): Promise<URL> {
  if (!moduleUrl.endsWith('.ts')) return Promise.resolve(new URL(`./${name}.js`, moduleUrl));
  const entry = fileURLToPath(new URL(`./${name}.ts`, moduleUrl));
  let url = bundled.get(entry);
  if (url === undefined) {
    url = bundleFromSources(entry, bundleName);
    bundled.set(entry, url);
  }
  return url;
}

async function bundleFromSources(entry: string, bundleName: string): Promise<URL> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    logLevel: 'silent',
  });
  const text = result.outputFiles[0]!.text;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const dir = join(repoRootOf(entry), 'node_modules', '.cache', 'edgevox');
  const file = join(dir, `${bundleName}-${hash}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    // write then rename: test files running in parallel may build the same bundle at once
    const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  }
  return pathToFileURL(file);
}

function repoRootOf(file: string): string {
  let dir = dirname(file);
  while (!existsSync(join(dir, 'package.json'))) {
    const up = resolve(dir, '..');
    if (up === dir) throw new Error(`no package.json above ${file}`);
    dir = up;
  }
  return dir;
}
