/** Builds dist/ once if it is missing, so process-level tests can run the real CLI. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './helpers/paths.js';

export default function setup(): void {
  if (existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js'))) return;
  execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
}
