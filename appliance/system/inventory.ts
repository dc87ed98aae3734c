/**
 * System inventory for /api/v1/system and the console's diagnostics: CPU, memory, the disk that
 * holds the data dir, OS, runtime and package versions, GPUs (systeminformation, plus nvidia-smi
 * when it is installed), and the onnxruntime execution providers in use.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import si from 'systeminformation';
import { activeExecutionProviders, supportedBackends } from '../inference/sessions.js';

export interface GpuInfo {
  vendor: string;
  model: string;
  memoryMiB: number | null;
  driverVersion: string | null;
  source: 'systeminformation' | 'nvidia-smi';
}

export interface SystemInventory {
  cpu: { model: string; cores: number; physicalCores: number; speedGHz: number };
  memory: { totalBytes: number; availableBytes: number };
  dataDisk: { path: string; mount: string; sizeBytes: number; usedBytes: number; availableBytes: number } | null;
  os: { platform: string; distro: string; release: string; kernel: string; arch: string; hostname: string };
  runtime: { node: string; packages: Record<string, string> };
  gpus: GpuInfo[];
  inference: { configuredProviders: string[]; activeProviders: string[]; backends: { name: string; bundled: boolean }[] };
  uptimeSeconds: number;
}

const REPORTED_PACKAGES = [
  'onnxruntime-node',
  'fastify',
  'better-sqlite3',
  'prom-client',
  'systeminformation',
  'mediasoup',
  '@roamhq/wrtc',
];

export async function collectInventory(opts: {
  dataDir: string;
  configuredProviders: readonly string[];
  repoRoot: string;
}): Promise<SystemInventory> {
  const [cpu, mem, disks, os, graphics, nvidia] = await Promise.all([
    si.cpu(),
    si.mem(),
    si.fsSize().catch(() => []),
    si.osInfo(),
    si.graphics().catch(() => ({ controllers: [] as si.Systeminformation.GraphicsControllerData[] })),
    nvidiaSmi(),
  ]);
  const dataPath = resolve(opts.dataDir);
  const disk = disks
    .filter((d) => dataPath === d.mount || dataPath.startsWith(d.mount.endsWith('/') ? d.mount : d.mount + '/'))
    .sort((a, b) => b.mount.length - a.mount.length)[0];
  const gpus: GpuInfo[] = [
    ...graphics.controllers
      .filter((c) => c.model !== '')
      .map((c) => ({
        vendor: c.vendor,
        model: c.model,
        memoryMiB: c.vram ?? null,
        driverVersion: c.driverVersion ?? null,
        source: 'systeminformation' as const,
      })),
    ...nvidia,
  ];
  return {
    cpu: { model: `${cpu.manufacturer} ${cpu.brand}`.trim(), cores: cpu.cores, physicalCores: cpu.physicalCores, speedGHz: cpu.speed },
    memory: { totalBytes: mem.total, availableBytes: mem.available },
    dataDisk:
      disk === undefined
        ? null
        : { path: dataPath, mount: disk.mount, sizeBytes: disk.size, usedBytes: disk.used, availableBytes: disk.available },
    os: { platform: os.platform, distro: os.distro, release: os.release, kernel: os.kernel, arch: os.arch, hostname: os.hostname },
    runtime: { node: process.versions.node, packages: packageVersions(opts.repoRoot) },
    gpus,
    inference: {
      configuredProviders: [...opts.configuredProviders],
      activeProviders: activeExecutionProviders(),
      backends: supportedBackends(),
    },
    uptimeSeconds: Math.round(process.uptime()),
  };
}

/** GPUs as nvidia-smi reports them; empty when the tool is absent (the CPU-only case). */
export function nvidiaSmi(timeoutMs = 3000): Promise<GpuInfo[]> {
  return new Promise((resolvePromise) => {
    execFile(
      'nvidia-smi',
      ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader,nounits'],
      { timeout: timeoutMs },
      (err, stdout) => {
        if (err) return resolvePromise([]);
        const gpus = stdout
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)
          .map((line) => {
            const [model = '', memory = '', driver = ''] = line.split(',').map((s) => s.trim());
            const memoryMiB = Number(memory);
            return {
              vendor: 'NVIDIA',
              model,
              memoryMiB: Number.isFinite(memoryMiB) ? memoryMiB : null,
              driverVersion: driver || null,
              source: 'nvidia-smi' as const,
            };
          });
        resolvePromise(gpus);
      },
    );
  });
}

function packageVersions(repoRoot: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of REPORTED_PACKAGES) {
    try {
      const pkg = JSON.parse(readFileSync(resolve(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version?: string };
      if (pkg.version) out[name] = pkg.version;
    } catch {
      // not installed: omitted
    }
  }
  return out;
}

/** A path in free text: absolute, or starting ./ or ../ (after a space, quote, bracket or the start). */
const PATH_IN_TEXT = /(^|[\s'"`(=,:])\.{0,2}\/[^\s'"`(),;]+/g;

/** A message with the filesystem paths in it replaced, for readers who are not to learn the box's layout. */
export function withoutPaths(text: string): string {
  return text.replace(PATH_IN_TEXT, '$1(path)');
}
