/** Locations tests share: the repo root, ../shared, scratch dirs. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED_DIR = resolve(REPO_ROOT, process.env['EDGEVOX_SHARED'] ?? '../shared');
export const SHARED_MODELS_DIR = join(SHARED_DIR, 'models');

export function scratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `evx-${prefix}-`));
}
