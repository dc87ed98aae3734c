import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scratchDir } from '../../helpers/paths.js';
import { makeScratchRoot, removeAbandonedRoots } from '../../helpers/scratchRoot.js';

describe('the test run scratch root', () => {
  it('is where this worker and the processes it starts make their temp folders', () => {
    expect(basename(tmpdir())).toMatch(/^evx-run-\d+-/);
    expect(scratchDir('root').startsWith(`${tmpdir()}/`)).toBe(true);
    expect(spawnSync('mktemp', ['-d'], { encoding: 'utf8' }).stdout.startsWith(`${tmpdir()}/`)).toBe(true);
  });

  it("removes roots whose process is gone, keeps live ones' and everything else", () => {
    const parent = scratchDir('roots');
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    const dead = makeScratchRoot(parent, gone);
    mkdirSync(join(dead, 'evx-pg-x'));
    writeFileSync(join(dead, 'evx-pg-x', 'big'), 'x');
    const live = makeScratchRoot(parent, process.pid);
    const other = join(parent, 'evx-run-notapid');
    mkdirSync(other);
    expect(statSync(live).mode & 0o777).toBe(0o711);
    expect(removeAbandonedRoots(parent)).toEqual([basename(dead)]);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(other)).toBe(true);
  });
});
