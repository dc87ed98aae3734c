/** onnxruntime session factory: provider order, fallback with reasons, the WebGPU (Vulkan) provider, config validation. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../appliance/config/load.js';
import { configLeaves } from '../../../appliance/config/schema.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import {
  EXECUTION_PROVIDER_NAMES,
  activeExecutionProviders,
  loadSession,
  releaseSession,
  vulkanSetupProblem,
} from '../../../appliance/inference/sessions.js';
import { REPO_ROOT, scratchDir } from '../../helpers/paths.js';

// A small model that is in the repository (48 KB).
const MODEL = join(REPO_ROOT, 'models', 'emotion', 'emotion.onnx');
const OPTIONS = { intraOpThreads: 1, interOpThreads: 1 };
// Whether this host looks able to run WebGPU (Vulkan loader and a driver); false on the CI machines, which have no GPU.
const vulkanReady = vulkanSetupProblem() === null;

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isEdgeVoxError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected an error');
}

describe('loadSession', () => {
  it('loads on cpu and reports it as active until released', async () => {
    const loaded = await loadSession(MODEL, { providers: ['cpu'], ...OPTIONS });
    expect(loaded.provider).toBe('cpu');
    expect(loaded.fallbacks).toEqual([]);
    expect(activeExecutionProviders()).toContain('cpu');
    await releaseSession(loaded);
    expect(activeExecutionProviders()).not.toContain('cpu');
  });

  it('falls back from webgpu to cpu without a GPU, recording why', async () => {
    const loaded = await loadSession(MODEL, { providers: ['webgpu', 'cpu'], ...OPTIONS });
    try {
      if (vulkanReady && loaded.provider === 'webgpu') {
        expect(loaded.fallbacks).toEqual([]);
        return;
      }
      expect(loaded.provider).toBe('cpu');
      expect(loaded.fallbacks).toHaveLength(1);
      expect(loaded.fallbacks[0]?.provider).toBe('webgpu');
      const reason = loaded.fallbacks[0]?.reason ?? '';
      expect(reason).toContain('WebGPU adapter');
      // onnxruntime's source location is stripped from the reason.
      expect(reason).not.toContain('onnxruntime_src');
      if (!vulkanReady) expect(reason).toContain(vulkanSetupProblem());
      // The session works.
      expect(loaded.session.inputNames.length).toBeGreaterThan(0);
    } finally {
      await releaseSession(loaded);
    }
  });

  it.skipIf(vulkanReady)('refuses to load when webgpu is the only provider and cannot start, and stays usable', async () => {
    const err = await loadSession(MODEL, { providers: ['webgpu'], ...OPTIONS }).catch((e: unknown) => e);
    expect(isEdgeVoxError(err) && err.code).toBe('EVX_ERR_PROVIDER_UNAVAILABLE');
    expect((err as Error).message).toContain('webgpu: ');
    // A second attempt fails the same way (no cached broken state), and cpu still loads afterwards.
    await expect(loadSession(MODEL, { providers: ['webgpu'], ...OPTIONS })).rejects.toThrow(/WebGPU adapter/);
    const loaded = await loadSession(MODEL, { providers: ['webgpu', 'cpu'], ...OPTIONS });
    expect(loaded.provider).toBe('cpu');
    await releaseSession(loaded);
  });

  it('a failing webgpu attempt does not crash or hang the process, at load or at exit', () => {
    const script = `
      const ort = require('onnxruntime-node');
      ort.InferenceSession.create(${JSON.stringify(MODEL)}, { executionProviders: ['webgpu'] })
        .then(() => console.log('webgpu loaded'), () => console.log('webgpu refused'))
        .then(() => ort.InferenceSession.create(${JSON.stringify(MODEL)}, { executionProviders: ['cpu'] }))
        .then(() => console.log('cpu loaded'));`;
    const child = spawnSync(process.execPath, ['-e', script], { cwd: REPO_ROOT, timeout: 30_000, encoding: 'utf8' });
    expect(child.signal).toBeNull();
    expect(child.status).toBe(0);
    expect(child.stdout).toContain(vulkanReady ? 'webgpu' : 'webgpu refused');
    expect(child.stdout).toContain('cpu loaded');
  });
});

describe('vulkanSetupProblem', () => {
  const env = { HOME: '/nonexistent', XDG_DATA_DIRS: '', XDG_CONFIG_DIRS: '' };
  const host = (root: string, extra: NodeJS.ProcessEnv = {}) => ({
    env: { ...env, ...extra },
    root,
    platform: 'linux' as const,
    arch: 'x64',
  });

  it('names the missing Vulkan loader, then the missing driver, then nothing', () => {
    const root = scratchDir('vulkan');
    expect(vulkanSetupProblem(host(root))).toMatch(/libvulkan\.so\.1 not found.*libvulkan1/);
    mkdirSync(join(root, 'usr/lib/x86_64-linux-gnu'), { recursive: true });
    writeFileSync(join(root, 'usr/lib/x86_64-linux-gnu/libvulkan.so.1'), '');
    expect(vulkanSetupProblem(host(root))).toMatch(/no Vulkan driver/);
    mkdirSync(join(root, 'usr/share/vulkan/icd.d'), { recursive: true });
    // Mesa's lavapipe alone (mesa-vulkan-drivers): Dawn refuses it, so it is named as the problem
    writeFileSync(
      join(root, 'usr/share/vulkan/icd.d/lvp_icd.x86_64.json'),
      JSON.stringify({
        ICD: { api_version: '1.3.230', library_path: '/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so' },
        file_format_version: '1.0.0',
      }),
    );
    expect(vulkanSetupProblem(host(root))).toMatch(/only a software Vulkan driver/);
    writeFileSync(join(root, 'usr/share/vulkan/icd.d/nvidia_icd.json'), '{}');
    expect(vulkanSetupProblem(host(root))).toBeNull();
  });

  it('finds the loader through ld.so.cache or LD_LIBRARY_PATH, and drivers through VK_ICD_FILENAMES', () => {
    const root = scratchDir('vulkan');
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc/ld.so.cache'), 'glibc-ld.so.cache1.1\0libvulkan.so.1\0/opt/lib/libvulkan.so.1\0');
    const icd = join(root, 'lvp.json');
    writeFileSync(icd, '{}');
    expect(vulkanSetupProblem(host(root, { VK_ICD_FILENAMES: icd }))).toBeNull();
    const other = scratchDir('vulkan');
    writeFileSync(join(other, 'libvulkan.so.1'), '');
    expect(vulkanSetupProblem(host(scratchDir('vulkan'), { LD_LIBRARY_PATH: other }))).toMatch(/no Vulkan driver/);
  });

  it('says nothing off Linux', () => {
    expect(vulkanSetupProblem({ env, root: scratchDir('vulkan'), platform: 'darwin', arch: 'arm64' })).toBeNull();
  });
});

describe('inference configuration', () => {
  it('accepts webgpu among the providers and keeps the schema and the session factory in step', () => {
    const config = loadConfig({ env: { EDGEVOX_INFERENCE_PROVIDERS: 'webgpu, cpu' } });
    expect(config.inference.providers).toEqual(['webgpu', 'cpu']);
    const leaf = configLeaves().find((l) => l.path.join('.') === 'inference.providers');
    const items = (leaf?.schema as { items?: { anyOf?: { const: string }[] } } | undefined)?.items?.anyOf ?? [];
    expect(items.map((s) => s.const).sort()).toEqual([...EXECUTION_PROVIDER_NAMES].sort());
  });

  it('refuses an unknown provider name', () => {
    for (const bad of ['vulkan', 'webgl', 'gpu', 'WebGPU']) {
      const e = errorOf(() => loadConfig({ env: { EDGEVOX_INFERENCE_PROVIDERS: `${bad}, cpu` } }));
      expect(e.code).toBe('EVX_ERR_CONFIG_INVALID');
      expect(e.message).toContain('inference.providers');
    }
    expect(errorOf(() => loadConfig({ env: {}, flags: { 'inference.providers': 'directml' } })).code).toBe('EVX_ERR_CONFIG_INVALID');
  });

  it('has gpuMaxBatch 1..512, default 64', () => {
    expect(loadConfig({ env: {} }).inference.gpuMaxBatch).toBe(64);
    expect(loadConfig({ env: { EDGEVOX_INFERENCE_GPU_MAX_BATCH: '512' } }).inference.gpuMaxBatch).toBe(512);
    for (const bad of ['0', '513', '1.5']) {
      expect(errorOf(() => loadConfig({ env: { EDGEVOX_INFERENCE_GPU_MAX_BATCH: bad } })).message).toContain('inference.gpuMaxBatch');
    }
  });
});
