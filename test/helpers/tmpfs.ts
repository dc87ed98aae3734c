/** A small tmpfs mount for disk-full tests (needs root; tests say so plainly when it cannot mount). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Tmpfs {
  dir: string;
  /** Fill the filesystem completely with a filler file; returns its path. */
  fill(): string;
  /** Remove the filler so space returns. */
  free(): void;
  unmount(): void;
}

export function mountTmpfs(sizeMiB: number): Tmpfs {
  const dir = mkdtempSync(join(tmpdir(), 'evx-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}M`, 'tmpfs', dir]);
  const filler = join(dir, 'filler.bin');
  return {
    dir,
    fill() {
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k'], { stdio: 'ignore' });
      } catch {
        // dd exits non-zero with "No space left on device": that is the point.
      }
      return filler;
    },
    free() {
      rmSync(filler, { force: true });
    },
    unmount() {
      try {
        execFileSync('umount', ['-l', dir]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export function canMountTmpfs(): boolean {
  try {
    mountTmpfs(1).unmount();
    return true;
  } catch {
    return false;
  }
}
