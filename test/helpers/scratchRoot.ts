/**
 * One scratch root per test run: a folder under the system temp folder, named after the process
 * that owns it, that the run points TMPDIR at and removes at its end (see test/globalSetup.ts).
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const ROOT_NAME = /^evx-run-(\d+)-/;

/** A new root for the process `pid`; traversable (not listable) by other users, such as `postgres`. */
export function makeScratchRoot(parent: string, pid = process.pid): string {
  const root = mkdtempSync(join(parent, `evx-run-${pid}-`));
  chmodSync(root, 0o711);
  return root;
}

/** Removes the roots in `parent` whose process is gone (a run killed before its teardown); returns their names. */
export function removeAbandonedRoots(parent: string): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(parent)) {
    const pid = ROOT_NAME.exec(name)?.[1];
    if (pid === undefined || isAlive(Number(pid))) continue;
    rmSync(join(parent, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
