import { mkdirSync, existsSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelStore, loadManifest, sha256File, versionOf } from '../../../appliance/modelstore/modelStore.js';
import { scratchDir } from '../../helpers/paths.js';

/** A small self-made model package, so the test does not depend on any real model. */
function fixture() {
  const root = scratchDir('models');
  const modelsDir = join(root, 'src');
  const dir = join(modelsDir, 'toy');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'weights.bin'), Buffer.from('weights-v1'));
  writeFileSync(join(dir, 'vocab.txt'), 'a 0\nb 1\n');
  const manifestPath = join(root, 'manifest.json');
  const writeManifest = () =>
    writeFileSync(
      manifestPath,
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
            files: [
              { path: 'weights.bin', sha256: sha256File(join(dir, 'weights.bin')) },
              { path: 'vocab.txt', sha256: sha256File(join(dir, 'vocab.txt')) },
            ],
          },
        ],
      }),
    );
  writeManifest();
  const open = () => new ModelStore({ manifestPath, modelsDir, repoRoot: root, storeDir: join(root, 'store') });
  return { root, dir, manifestPath, writeManifest, open };
}

describe('model store', () => {
  it('installs, verifies and activates a model', () => {
    const f = fixture();
    const store = f.open();
    const [status] = store.installAll();
    expect(status).toMatchObject({ name: 'toy', error: null, required: true });
    expect(status?.activeVersion).toMatch(/^[0-9a-f]{16}$/);
    const dir = store.activeDir('toy');
    expect(readFileSync(join(dir, 'weights.bin'), 'utf8')).toBe('weights-v1');
    expect(store.requiredReady()).toEqual({ ready: true, missing: [] });
  });

  it('refuses a file whose hash does not match and keeps the previous version active', () => {
    const f = fixture();
    const v1 = f.open().installAll()[0]?.activeVersion;
    // A new release of the model arrives, but one file is corrupt (manifest expects other bytes).
    writeFileSync(join(f.dir, 'weights.bin'), Buffer.from('weights-v2'));
    f.writeManifest();
    appendFileSync(join(f.dir, 'weights.bin'), 'garbage');
    const store = f.open();
    const [status] = store.installAll();
    expect(status?.error?.code).toBe('EVX_ERR_MODEL_HASH_MISMATCH');
    expect(status?.error?.message).toContain('weights.bin');
    expect(status?.activeVersion).toBe(v1);
    expect(readFileSync(join(store.activeDir('toy'), 'weights.bin'), 'utf8')).toBe('weights-v1');
  });

  it('reports a missing source file and is not ready without any verified version', () => {
    const f = fixture();
    writeFileSync(join(f.dir, 'vocab.txt'), 'tampered');
    const store = f.open();
    const [status] = store.installAll();
    expect(status?.error?.code).toBe('EVX_ERR_MODEL_HASH_MISMATCH');
    expect(status?.activeVersion).toBeNull();
    expect(store.requiredReady()).toEqual({ ready: false, missing: ['toy'] });
    expect(() => store.activeDir('toy')).toThrowError(/no verified active version/);
  });

  it('deactivates an installed copy that was corrupted on disk', () => {
    const f = fixture();
    const store = f.open();
    store.installAll();
    appendFileSync(join(store.activeDir('toy'), 'weights.bin'), 'bitrot');
    const [status] = store.verifyActive();
    expect(status?.activeVersion).toBeNull();
    expect(status?.error?.code).toBe('EVX_ERR_MODEL_HASH_MISMATCH');
    // Re-installing from the intact source repairs it.
    expect(store.installAll()[0]?.error).toBeNull();
  });

  it('gives the same bytes the same version and validates the manifest', () => {
    expect(
      versionOf([
        { path: 'a', sha256: '1' },
        { path: 'b', sha256: '2' },
      ]),
    ).toBe(
      versionOf([
        { path: 'b', sha256: '2' },
        { path: 'a', sha256: '1' },
      ]),
    );
    const f = fixture();
    writeFileSync(f.manifestPath, JSON.stringify({ version: 1, models: [{ name: 'x' }] }));
    expect(() => loadManifest(f.manifestPath)).toThrowError(/model manifest/);
    expect(existsSync(f.manifestPath)).toBe(true);
  });

  it('validates the real manifest of this repository', () => {
    const manifest = loadManifest(join(__dirname, '..', '..', '..', 'models', 'manifest.json'));
    expect(manifest.models.map((m) => m.name)).toEqual(expect.arrayContaining(['asr', 'vad']));
  });
});
