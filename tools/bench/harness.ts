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
  /**
   * The first line the appliance logged containing `text` (stdout and stderr: its log records, at
   * the bench's level warn), if any. Only warnings/errors and the last lines are kept, so look for
   * warn-level messages.
   */
  findLog(text: string): string | undefined;
  /** The appliance's last log lines (bounded). */
  logTail(): string[];
}

/** Which ASR encoder the appliance runs (config asr.encoder). */
export type AsrEncoder = 'exact' | 'batched';

/** The appliance's warning when asr.encoder is batched but models/asr-batch is not installed. */
export const EXACT_FALLBACK_LOG = 'batchable ASR encoder not installed; using the exact batch-1 encoder';

/** Encoder runs of the recognition workers (0 with the exact encoder; appliance/metrics/metrics.ts). */
const ENCODER_RUNS = 'edgevox_asr_encoder_runs_total';
const ENCODER_CHUNKS = 'edgevox_asr_encoder_chunks_total';

/** Config lines selecting the encoder (an `asr:` section of their own). */
export function asrEncoderYaml(encoder: AsrEncoder): string[] {
  return ['asr:', `  encoder: ${encoder}`];
}

export interface EncoderCheck {
  /** How it was verified: the log alone, or the log and the encoder-run counters too. */
  verifiedBy: 'log' | 'log + metrics';
  /** Encoder runs and chunks in the window (null where the appliance does not export them). */
  runs: number | null;
  chunks: number | null;
}

/**
 * Make sure the appliance runs the encoder asked for, from its log (the fallback warning) and,
 * where it exports them, the encoder-run counters between `before` and `after` (a window in which
 * audio was recognised): batched must show encoder runs, exact none. Throws otherwise: a batched
 * figure must never come from an exact run.
 */
export function verifyAsrEncoder(app: RunningAppliance, asked: AsrEncoder, before?: MetricSample[], after?: MetricSample[]): EncoderCheck {
  const fallback = asked === 'batched' ? app.findLog(EXACT_FALLBACK_LOG) : undefined;
  if (fallback !== undefined) {
    // the model store says why (hash mismatch, missing file) in its 'model not installed' error
    const why = app.findLog('"model":"asr-batch"');
    throw new Error(
      `asked for asr.encoder batched, but the appliance runs the exact encoder; no batched figure from this run. Its log: ${fallback}${why !== undefined && why !== fallback ? `\n${why}` : ''}`,
    );
  }
  if (before === undefined || after === undefined || !after.some((s) => s.name === ENCODER_RUNS)) {
    return { verifiedBy: 'log', runs: null, chunks: null };
  }
  const runs = value(after, ENCODER_RUNS) - value(before, ENCODER_RUNS);
  const chunks = value(after, ENCODER_CHUNKS) - value(before, ENCODER_CHUNKS);
  const recognised =
    value(after, 'edgevox_asr_partial_latency_seconds_count') -
    value(before, 'edgevox_asr_partial_latency_seconds_count') +
    value(after, 'edgevox_asr_final_latency_seconds_count') -
    value(before, 'edgevox_asr_final_latency_seconds_count');
  if (asked === 'batched' && recognised > 0 && runs === 0) {
    throw new Error(
      `asked for asr.encoder batched, but the appliance recognised speech (${recognised} partials + finals) with no batched encoder run (${ENCODER_RUNS} did not move): no batched figure from this run`,
    );
  }
  if (asked === 'exact' && runs > 0) {
    throw new Error(`asked for asr.encoder exact, but the appliance made ${runs} batched encoder runs (${ENCODER_RUNS})`);
  }
  return { verifiedBy: 'log + metrics', runs, chunks };
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
      // its log records go to stdout: read them (and keep reading: a full pipe would stall it)
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const log = new LogKeeper();
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`appliance did not start: ${log.tail().join('\n')}`)), 60_000);
    child.stdout.on('data', (d: Buffer) => log.add(d, 'out'));
    child.stderr.on('data', (d: Buffer) => {
      const lines = log.add(d, 'err');
      for (const l of lines) {
        const m = /serving on (http:\/\/\S+)/.exec(l);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`appliance exited with ${code}: ${log.tail().join('\n')}`)));
  });
  return { child, url, findLog: (text) => log.find(text), logTail: () => log.tail() };
}

/** Pino levels: 40 warn, 50 error, 60 fatal. */
const WARN_LEVEL = 40;

/** The appliance's output as lines: every warning and error kept (up to a bound), and the last lines. */
class LogKeeper {
  private readonly partial = { out: '', err: '' };
  private readonly warnings: string[] = [];
  private readonly last: string[] = [];

  add(d: Buffer, stream: 'out' | 'err'): string[] {
    const text = this.partial[stream] + d.toString();
    const lines = text.split('\n');
    this.partial[stream] = lines.pop() ?? '';
    for (const l of lines) {
      if (l.trim() === '') continue;
      const line = l.length > 2000 ? l.slice(0, 2000) + '…' : l;
      this.last.push(line);
      if (this.last.length > 200) this.last.shift();
      if (this.warnings.length < 5000 && (stream === 'err' || LogKeeper.level(line) >= WARN_LEVEL)) this.warnings.push(line);
    }
    return lines;
  }

  find(text: string): string | undefined {
    return this.warnings.find((l) => l.includes(text)) ?? this.last.find((l) => l.includes(text));
  }

  tail(): string[] {
    return [...this.last];
  }

  private static level(line: string): number {
    const m = /"level":(\d+)/.exec(line);
    return m?.[1] ? Number(m[1]) : 0;
  }
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
