/** Version and location facts about this build, read once. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest ancestor of this file with package.json (works from src and dist). */
export const REPO_ROOT: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'appliance'))) return dir;
    dir = resolve(dir, '..');
  }
  return process.cwd();
})();

export const VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
})();

/** The git commit, read from .git without spawning git; 'unknown' outside a checkout. */
export const COMMIT: string = (() => {
  try {
    if (process.env['EDGEVOX_COMMIT']) return process.env['EDGEVOX_COMMIT'].slice(0, 12);
    const head = readFileSync(join(REPO_ROOT, '.git', 'HEAD'), 'utf8').trim();
    if (!head.startsWith('ref: ')) return head.slice(0, 12);
    const refPath = join(REPO_ROOT, '.git', head.slice(5));
    if (existsSync(refPath)) return readFileSync(refPath, 'utf8').trim().slice(0, 12);
    const packed = readFileSync(join(REPO_ROOT, '.git', 'packed-refs'), 'utf8');
    const line = packed.split('\n').find((l) => l.endsWith(' ' + head.slice(5)));
    return line?.slice(0, 12) ?? 'unknown';
  } catch {
    return 'unknown';
  }
})();

export const MANIFEST_PATH = join(REPO_ROOT, 'models', 'manifest.json');
