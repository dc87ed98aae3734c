/** Default locations of the shipped intent and emotion models (models/ at the repository root). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

/** The repository root: the nearest ancestor of this module with EdgeVox's package.json (works from src and dist). */
export function repositoryRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'edgevox') break;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot locate the EdgeVox repository root');
    dir = parent;
  }
  cachedRoot = dir;
  return dir;
}

export function defaultIntentSidecar(): string {
  return join(repositoryRoot(), 'models', 'intent', 'intent.json');
}

export function defaultEmotionSidecar(): string {
  return join(repositoryRoot(), 'models', 'emotion', 'emotion.json');
}

export function defaultIntentZhSidecar(): string {
  return join(repositoryRoot(), 'models', 'intent-zh', 'intent.json');
}
