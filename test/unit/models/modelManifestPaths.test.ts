/**
 * A model manifest names files inside the model's folder only: a path that climbs out (`..`), is
 * absolute, uses backslashes or carries a NUL is refused when the manifest is loaded, so installing
 * never reads outside the source folder nor writes outside the store.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifest } from '../../../appliance/modelstore/modelStore.js';
import { scratchDir } from '../../helpers/paths.js';

function manifestWith(path: string): string {
  const file = join(scratchDir('manifest'), 'manifest.json');
  writeFileSync(
    file,
    JSON.stringify({
      version: 1,
      models: [
        {
          name: 'toy',
          family: 'toy',
          description: 'test model',
          origin: 'models-dir',
          source: 'toy',
          licence: 'MIT',
          required: true,
          files: [{ path, sha256: 'a'.repeat(64) }],
        },
      ],
    }),
  );
  return file;
}

describe('model manifest file paths', () => {
  it('are refused when they leave the model folder', () => {
    for (const path of [
      '../escape.bin',
      'sub/../../escape.bin',
      'sub/..',
      '..',
      'C:\\x.bin',
      'sub\\..\\x',
      'a\u0000b',
      '/abs.bin',
      './x/.',
    ]) {
      expect(() => loadManifest(manifestWith(path)), JSON.stringify(path)).toThrow(
        expect.objectContaining({ code: 'EVX_ERR_MODEL_MANIFEST' }),
      );
    }
  });

  it('are accepted inside it', () => {
    for (const path of ['weights.bin', 'sub/dir/tokens.txt', 'a..b.onnx', '.hidden/x'])
      expect(() => loadManifest(manifestWith(path))).not.toThrow();
  });
});
