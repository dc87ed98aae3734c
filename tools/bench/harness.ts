/**
 * Shared pieces of the whole-appliance benchmarks: a real `edgevox serve` process with a bench
 * config, sipp runs, speech files, and reading figures from the appliance's /metrics.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../appliance/buildInfo.js';
import { freeLoopbackPort, type MetricSample } from './metricsScrape.js';

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

/** The two shared clips the callers speak, and their lengths in seconds. */
const CLIPS: readonly { file: string; seconds: number }[] = [
  { file: '1.wav', seconds: 16.7 },
  { file: '0.wav', seconds: 6.6 },
];

/**
 * Call-like audio as raw μ-law 8 kHz files for sipp, one per caller group. Each file is `seconds`
 * long and cut from the same cycle — clip, quiet, clip, quiet — where the quiet gaps (low white
 * noise: the caller listens while the other party talks) give the wanted `speechRatio`. Group g
 * starts g/groups of the way into the cycle, so the groups talk at different moments, as
 * independent callers do: with one group every call would talk and pause in step, which is the
 * worst case (all calls in speech at once), not a call centre. `speechRatio` 1 is continuous
 * speech (no gaps; the groups still start at different words).
 */
export function makeCallerAudio(dir: string, sharedDir: string, seconds: number, speechRatio = 1, groups = 1): string[] {
  mkdirSync(dir, { recursive: true });
  const gapS = speechRatio < 1 ? ((1 - speechRatio) / speechRatio) * ((CLIPS[0]!.seconds + CLIPS[1]!.seconds) / 2) : 0;
  const cycleS = CLIPS.reduce((s, c) => s + c.seconds + gapS, 0);
  const quiet = join(dir, 'quiet.wav');
  if (gapS > 0) {
    execFileSync('sox', ['-n', '-r', '16000', '-c', '1', '-b', '16', quiet, 'synth', gapS.toFixed(2), 'whitenoise', 'vol', '0.003'], {
      stdio: 'ignore',
    });
  }
  const inputs: string[] = [];
  for (let total = 0; total < cycleS + seconds + 1; total += cycleS) {
    for (const clip of CLIPS) {
      inputs.push(join(sharedDir, 'datasets', 'speech-en', clip.file));
      if (gapS > 0) inputs.push(quiet);
    }
  }
  const cycle = join(dir, 'cycle.wav');
  execFileSync('sox', [...inputs, '-r', '8000', '-c', '1', cycle], { stdio: 'ignore' });
  const dirs: string[] = [];
  for (let g = 0; g < groups; g++) {
    const groupDir = join(dir, `group-${g}`);
    mkdirSync(groupDir, { recursive: true });
    const offsetS = (cycleS * g) / groups;
    execFileSync('sox', [cycle, '-t', 'ul', join(groupDir, 'speech.ulaw'), 'trim', offsetS.toFixed(3), String(seconds)], {
      stdio: 'ignore',
    });
    dirs.push(groupDir);
  }
  return dirs;
}

/** A caller group's audio (see makeCallerAudio) as 48 kHz 16-bit samples, for a web caller. */
export function callerAudio48k(groupDir: string): Int16Array {
  const raw = execFileSync(
    'sox',
    ['-t', 'ul', '-r', '8000', '-c', '1', join(groupDir, 'speech.ulaw'), '-r', '48000', '-b', '16', '-e', 'signed', '-t', 'raw', '-'],
    {
      maxBuffer: 1 << 28,
    },
  );
  return new Int16Array(raw.buffer, raw.byteOffset, raw.byteLength >> 1);
}

export interface SippCallers {
  /** Directories made by makeCallerAudio: one sipp process per group, playing its own file. */
  groupDirs: readonly string[];
  /** SIP address of the appliance. */
  target: string;
  /** Calls to place in all (split across the groups), each `seconds` long. */
  calls: number;
  seconds: number;
  /** New calls per second, in all. */
  rate: number;
  /** First local media port; each group gets 1000 ports from here on. */
  mediaBase: number;
  timeoutS: number;
  /** Count a call that times out as failed (sipp -timeout_error). */
  timeoutIsError?: boolean;
}

/** Place the calls with one sipp process per caller group; resolves when all have finished. */
export async function runSippCallers(o: SippCallers): Promise<{ attempted: number; completed: number; failed: number }> {
  const groups = o.groupDirs.length;
  const runs = await Promise.all(
    o.groupDirs.map(async (dir, g) => {
      const n = Math.floor(o.calls / groups) + (g < o.calls % groups ? 1 : 0);
      if (n === 0) return { attempted: 0, completed: 0, failed: 0 };
      return runSipp(
        [
          o.target,
          '-sf',
          join(REPO_ROOT, 'test', 'scenarios', 'uac-pcmu-speech.xml'),
          '-m',
          String(n),
          '-l',
          String(n),
          '-r',
          String(Math.max(1, Math.round(o.rate / groups))),
          '-d',
          String(o.seconds * 1000),
          '-i',
          '127.0.0.1',
          '-p',
          String(await freeLoopbackPort()),
          '-mi',
          '127.0.0.1',
          '-mp',
          String(o.mediaBase + g * 1000),
          '-timeout',
          `${o.timeoutS}s`,
          ...(o.timeoutIsError ? ['-timeout_error'] : []),
        ],
        dir,
      );
    }),
  );
  return runs.reduce((a, r) => ({
    attempted: a.attempted + r.attempted,
    completed: a.completed + r.completed,
    failed: a.failed + r.failed,
  }));
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
  /** More lines of the sip: section (indented two spaces), e.g. a TLS listener. */
  sipYaml: string[] = [],
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
      ...sipYaml,
      ...(extraYaml.some((l) => l.startsWith('calls:')) ? [] : ['calls:', '  maxConcurrent: 2000', '  maxLagMs: 60000']),
      // no HTTPS console on its fixed port: a bench must not collide with an appliance already running
      ...(extraYaml.some((l) => l.startsWith('console:')) ? [] : ['console:', '  httpsPort: -1']),
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
