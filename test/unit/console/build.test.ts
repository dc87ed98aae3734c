/**
 * The console build (web/console/build.mjs, run by `make console-build`) ships no source maps: the
 * server never serves *.map, so app.js must not point at one and none is written beside it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('console build', () => {
  let out: string;

  beforeAll(() => {
    out = join(mkdtempSync(join(tmpdir(), 'evx-console-build-')), 'console');
    execFileSync(process.execPath, [join('web', 'console', 'build.mjs'), out], { stdio: 'ignore' });
  }, 120_000);

  afterAll(() => {
    rmSync(join(out, '..'), { recursive: true, force: true });
  });

  it('writes the pages and the script, and no source map nor a reference to one', () => {
    const files = readdirSync(out, { recursive: true }).map(String).sort();
    expect(files).toEqual(expect.arrayContaining(['app.js', 'index.html', 'styles.css']));
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(readFileSync(join(out, 'app.js'), 'utf8')).not.toContain('sourceMappingURL');
  });
});
