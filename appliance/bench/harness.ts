/**
 * Shared pieces of the whole-appliance benchmarks: a real `edgevox serve` process with a bench
 * config, sipp runs, speech files, and reading figures from the appliance's /metrics.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../buildInfo.js';
import type { MetricSample } from './metricsScrape.js';

export function value(samples: MetricSample[], name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}

export function histogramDelta(
  before: MetricSample[],
  after: MetricSample[],
  name: string,
): { buckets: { le: number; count: number }[]; count: number } {
  const bucketsOf = (m: MetricSample[]) => {
    const map = new Map<number, number>();
    for (const s of m) {
      if (s.name !== `${name}_bucket`) continue;
      const le = s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']);
      map.set(le, (map.get(le) ?? 0) + s.value);
    }
    return map;
  };
  const a = bucketsOf(after);
  const b = bucketsOf(before);
  const buckets = [...a.entries()].map(([le, n]) => ({ le, count: n - (b.get(le) ?? 0) })).sort((x, y) => x.le - y.le);
  return { buckets, count: buckets[buckets.length - 1]?.count ?? 0 };
}

export function fmt(v: number | null): string {
  return v === null ? '-' : String(v);
}

export async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  return res.text();
}

/**
 * A speech file of `seconds` as raw μ-law 8 kHz for sipp, from the shared clips. With
 * `speechRatio` < 1 it is call-like: speech alternates with quiet noise while "the other party
 * talks", so a caller leg carries that fraction of speech.
 */
export function makeSpeechFile(dir: string, sharedDir: string, seconds: number, speechRatio = 1): { path: string; seconds: number } {
  const clips = ['1.wav', '0.wav'].map((c) => join(sharedDir, 'datasets', 'speech-en', c));
  const inputs: string[] = [];
  let total = 0;
  let i = 0;
  const quiet = join(dir, 'quiet.wav');
  if (speechRatio < 1) {
    // 16.7 s + 6.6 s clips; each is followed by the gap that gives the wanted ratio.
    const gapS = ((1 - speechRatio) / speechRatio) * 11.7;
    execFileSync('sox', ['-n', '-r', '16000', '-c', '1', '-b', '16', quiet, 'synth', gapS.toFixed(2), 'whitenoise', 'vol', '0.003'], {
      stdio: 'ignore',
    });
  }
  while (total < seconds + 5) {
    const clip = clips[i++ % 2]!;
    inputs.push(clip);
    total += clip.endsWith('1.wav') ? 16.7 : 6.6;
    if (speechRatio < 1) {
      inputs.push(quiet);
      total += ((1 - speechRatio) / speechRatio) * 11.7;
    }
  }
  const path = join(dir, 'speech.ulaw');
  execFileSync('sox', [...inputs, '-r', '8000', '-c', '1', '-t', 'ul', path, 'trim', '0', String(seconds)], { stdio: 'ignore' });
  return { path, seconds };
}

export interface RunningAppliance {
  child: ChildProcess;
  url: string;
}

export async function startAppliance(
  work: string,
  sipPort: number,
  modelsDir: string,
  extraYaml: string[] = [],
): Promise<RunningAppliance> {
  const dataDir = join(work, 'data');
  mkdirSync(dataDir, { recursive: true });
  const config = join(work, 'bench.yaml');
  writeFileSync(
    config,
    [
      'log:',
      '  level: warn',
      'sip:',
      `  port: ${sipPort}`,
      '  rtpPortMin: 20000',
      '  rtpPortMax: 29999',
      '  rateLimitPerSec: 0',
      '  rateLimitBurst: 100000',
      ...(extraYaml.some((l) => l.startsWith('calls:')) ? [] : ['calls:', '  maxConcurrent: 2000', '  maxLagMs: 60000']),
      ...extraYaml,
    ].join('\n') + '\n',
  );
  const child = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'bin', 'edgevox.js'),
      'serve',
      '--config',
      config,
      '--data-dir',
      dataDir,
      '--http-port',
      '0',
      '--models-dir',
      modelsDir,
    ],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`appliance did not start: ${err}`)), 60_000);
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /serving on (http:\/\/\S+)/.exec(err);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`appliance exited with ${code}: ${err}`)));
  });
  return { child, url };
}

export async function runSipp(args: string[], cwd: string): Promise<{ attempted: number; completed: number; failed: number }> {
  const out = await new Promise<string>((resolve) => {
    const child = spawn('sipp', ['-nostdin', ...args, '-trace_stat', '-stf', join(cwd, 'stat.csv')], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.on('close', () => resolve(text));
  });
  const num = (re: RegExp) => {
    const all = [...out.matchAll(re)];
    const last = all[all.length - 1];
    return last?.[1] ? Number(last[1]) : 0;
  };
  const completed = num(/Successful call\s*\|\s*\d+\s*\|\s*(\d+)/g);
  const failed = num(/Failed call\s*\|\s*\d+\s*\|\s*(\d+)/g);
  const attempted = num(/OutGoing call created\s*\|\s*\d+\s*\|\s*(\d+)/g) || completed + failed;
  return { attempted, completed, failed };
}
