/**
 * The layout rules of `make lint` (.dependency-cruiser.cjs) catch what they are for: a small tree
 * with one violation of each kind is cruised with the project's own rules, and each is reported.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, scratchDir } from '../../helpers/paths.js';

function tree(files: Record<string, string>): string {
  const dir = scratchDir('layout');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }),
  );
  copyFileSync(join(REPO_ROOT, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
  return dir;
}

function cruise(dir: string): string {
  try {
    execFileSync(
      process.execPath,
      [
        join(REPO_ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs'),
        '--config',
        '.dependency-cruiser.cjs',
        '--output-type',
        'err',
        'appliance',
        'tools',
        'cli',
      ],
      {
        cwd: dir,
        encoding: 'utf8',
        stdio: 'pipe',
      },
    );
    return 'clean';
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? err);
  }
}

describe('layout rules', () => {
  it('pass a tree that keeps them', () => {
    const dir = tree({
      'appliance/a/one.ts': 'export const one = 1;\n',
      'appliance/b/two.ts': "import { one } from '../a/one.js';\nexport const two = one + 1;\n",
      'tools/bench.ts': "import { two } from '../appliance/b/two.js';\nexport const bench = two;\n",
      'cli/main.ts': "import { bench } from '../tools/bench.js';\nexport const main = bench;\n",
    });
    expect(cruise(dir)).toBe('clean');
  });

  it('fail on a cycle between folders, the runtime importing tools or the CLI, and a test helper in shipped code', () => {
    const dir = tree({
      'appliance/a/one.ts': "import { three } from '../b/three.js';\nexport const one = 1 + three;\n",
      'appliance/b/two.ts': "import { one } from '../a/one.js';\nexport const two = one + 1;\n",
      'appliance/b/three.ts': 'export const three = 3;\n',
      'appliance/c/usesTool.ts': "import { bench } from '../../tools/bench.js';\nexport const x = bench;\n",
      'appliance/c/usesCli.ts': "import { main } from '../../cli/main.js';\nexport const y = main;\n",
      'tools/bench.ts': "import { helper } from '../test/helpers/h.js';\nexport const bench = helper;\n",
      'cli/main.ts': 'export const main = 1;\n',
      'test/helpers/h.ts': 'export const helper = 1;\n',
    });
    const out = cruise(dir);
    expect(out).toContain('no-folder-cycles');
    expect(out).toMatch(/runtime-stands-alone: appliance\/c\/usesTool\.ts/);
    expect(out).toMatch(/runtime-stands-alone: appliance\/c\/usesCli\.ts/);
    expect(out).toMatch(/no-test-helpers-in-shipped-code: tools\/bench\.ts/);
  });
});
