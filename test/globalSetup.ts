/**
 * Once per test run, in the main process: builds dist/ if it is missing, so process-level tests
 * can run the real CLI, and gives the run its own scratch root.
 *
 * Every worker and every process a test starts inherits TMPDIR pointing at that root, so every
 * temp folder (`scratchDir`, `mkdtemp(tmpdir())`, a browser's profile, a PostgreSQL cluster) lands
 * in it and the whole run's scratch is removed at the end, pass or fail; before, each run left some
 * 5 GB in /tmp. A run killed before its teardown leaves its root; the next run removes it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './helpers/paths.js';
import { makeScratchRoot, removeAbandonedRoots } from './helpers/scratchRoot.js';

export default function setup(): () => void {
  buildDist();
  const parent = tmpdir();
  removeAbandonedRoots(parent);
  const root = makeScratchRoot(parent);
  process.env['TMPDIR'] = root;
  return () => {
    process.env['TMPDIR'] = parent;
    rmSync(root, { recursive: true, force: true });
  };
}

function buildDist(): void {
  if (existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js'))) return;
  execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
}
