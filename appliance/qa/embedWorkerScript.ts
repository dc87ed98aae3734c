/**
 * Where the embedding worker's code is: `embedWorker.js` next to this module in the compiled tree;
 * from TypeScript sources (vitest, tsx) it is bundled with esbuild into node_modules/.cache/edgevox/
 * (named by content hash), as the recognition worker is (see asr/pool/workerScript.ts), because a
 * worker thread cannot load .ts on Node 20.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

let bundled: Promise<URL> | undefined;

export function embedWorkerScript(): Promise<URL> {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return Promise.resolve(new URL('./embedWorker.js', here));
  bundled ??= bundle(fileURLToPath(new URL('./embedWorker.ts', here)));
  return bundled;
}

async function bundle(entry: string): Promise<URL> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'silent',
  });
  const text = result.outputFiles[0]!.text;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  let root = dirname(entry);
  while (!existsSync(join(root, 'package.json'))) {
    const up = resolve(root, '..');
    if (up === root) throw new Error(`no package.json above ${entry}`);
    root = up;
  }
  const dir = join(root, 'node_modules', '.cache', 'edgevox');
  const file = join(dir, `qa-embed-worker-${hash}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  }
  return pathToFileURL(file);
}
