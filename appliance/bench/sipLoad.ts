/**
 * SIP load benchmark: a real appliance process (`edgevox serve`) receives N concurrent sipp calls,
 * each streaming speech as PCMU for `seconds`, ramping N up until calls stop being real-time.
 * Figures come from the appliance's own /metrics (lag, ASR final latency, dropped frames, CPU, RSS)
 * and from sipp (attempted / completed / failed), so the bench measures what ops would see.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../buildInfo.js';
import { freeLoopbackPort, histogramQuantile, parseMetrics, type MetricSample } from './metricsScrape.js';

export interface SipLoadOptions {
  steps: number[];
  seconds: number;
  modelsDir: string;
  sharedDir: string;
  /** Stop ramping after the first step that is not real-time. */
  stopAtFirstFailure: boolean;
  /** Real-time criteria. */
  maxLagS: number;
  log: (line: string) => void;
}

export interface StepResult {
  calls: number;
  attempted: number;
  completed: number;
  failed: number;
  rejected: number;
  finalLatencyP50Ms: number | null;
  finalLatencyP95Ms: number | null;
  finals: number;
  maxLagMs: number;
  asrDroppedFrames: number;
  rtpConcealedFrames: number;
  cpuCoresUsed: number;
  rssPeakMiB: number;
  rssPerCallMiB: number;
  storeWriteP95Ms: number | null;
  realTime: boolean;
  why: string;
}

export interface SipLoadReport {
  machine: { cpus: number; node: string };
  seconds: number;
  steps: StepResult[];
  highestRealTimeCalls: number;
}

export async function runSipLoad(options: SipLoadOptions): Promise<SipLoadReport> {
  const work = mkdtempSync(join(tmpdir(), 'evx-bench-sip-'));
  const audio = makeSpeechFile(work, options.sharedDir, options.seconds);
  options.log(`speech: ${audio.seconds.toFixed(1)} s of PCMU per call`);
  const sipPort = await freeLoopbackPort();
  const app = await startAppliance(work, sipPort, options.modelsDir);
  const results: StepResult[] = [];
  try {
    const idle = parseMetrics(await scrape(app.url));
    const baselineRss = value(idle, 'process_resident_memory_bytes');
    for (const calls of options.steps) {
      options.log(`step: ${calls} concurrent calls for ${options.seconds} s`);
      const step = await runStep(app.url, work, sipPort, calls, options, baselineRss);
      results.push(step);
      options.log(
        `  completed ${step.completed}/${step.attempted}, failed ${step.failed}, final p95 ${fmt(step.finalLatencyP95Ms)} ms, max lag ${step.maxLagMs} ms, dropped ${step.asrDroppedFrames}, cpu ${step.cpuCoresUsed.toFixed(2)} cores, ${step.realTime ? 'REAL-TIME' : 'NOT real-time: ' + step.why}`,
      );
      if (!step.realTime && options.stopAtFirstFailure) break;
    }
  } finally {
    app.child.kill('SIGTERM');
    await new Promise((r) => app.child.once('exit', r));
    rmSync(work, { recursive: true, force: true });
  }
  const ok = results.filter((r) => r.realTime).map((r) => r.calls);
  return { machine: { cpus: (await import('node:os')).cpus().length, node: process.versions.node }, seconds: options.seconds, steps: results, highestRealTimeCalls: ok.length ? Math.max(...ok) : 0 };
}

async function runStep(url: string, work: string, sipPort: number, calls: number, o: SipLoadOptions, baselineRss: number): Promise<StepResult> {
  const before = parseMetrics(await scrape(url));
  const startedAt = performance.now();
  let maxLag = 0;
  let peakRss = 0;
  const sampler = setInterval(() => {
    scrape(url)
      .then((text) => {
        const m = parseMetrics(text);
        maxLag = Math.max(maxLag, value(m, 'edgevox_asr_lag_max_seconds') * 1000);
        peakRss = Math.max(peakRss, value(m, 'process_resident_memory_bytes'));
      })
      .catch(() => undefined);
  }, 1000);
  const localPort = await freeLoopbackPort();
  const mediaPort = 40000 + 2 * Math.floor(Math.random() * 4000);
  const rate = Math.min(calls, 20);
  const sipp = await runSipp(
    [`127.0.0.1:${sipPort}`, '-sf', join(REPO_ROOT, 'test', 'scenarios', 'uac-pcmu-speech.xml'), '-m', String(calls), '-l', String(calls),
      '-r', String(rate), '-d', String(o.seconds * 1000), '-i', '127.0.0.1', '-p', String(localPort), '-mi', '127.0.0.1', '-mp', String(mediaPort),
      '-timeout', `${o.seconds + Math.ceil(calls / rate) + 60}s`, '-timeout_error'],
    work,
  );
  // Let the last finals flush (endpointing + the leg's final flush after BYE).
  await new Promise((r) => setTimeout(r, 3000));
  clearInterval(sampler);
  const wallS = (performance.now() - startedAt) / 1000;
  const after = parseMetrics(await scrape(url));
  const d = (name: string, labels?: Record<string, string>) => value(after, name, labels) - value(before, name, labels);
  const latency = histogramDelta(before, after, 'edgevox_asr_final_latency_seconds');
  const writes = histogramDelta(before, after, 'edgevox_store_write_duration_seconds');
  const p50 = histogramQuantile(latency, 0.5);
  const p95 = histogramQuantile(latency, 0.95);
  const dropped = d('edgevox_asr_dropped_frames_total');
  const rejected = d('edgevox_sip_rejected_total', { reason: 'capacity' }) + d('edgevox_calls_rejected_total', { reason: 'overload' });
  const reasons: string[] = [];
  if (sipp.failed > 0) reasons.push(`${sipp.failed} calls failed`);
  if (dropped > 0) reasons.push(`${dropped} audio frames dropped`);
  if (maxLag > o.maxLagS * 1000) reasons.push(`lag ${Math.round(maxLag)} ms > ${o.maxLagS * 1000} ms`);
  return {
    calls,
    attempted: sipp.attempted,
    completed: sipp.completed,
    failed: sipp.failed,
    rejected,
    finalLatencyP50Ms: p50 === null ? null : Math.round(p50 * 1000),
    finalLatencyP95Ms: p95 === null ? null : Math.round(p95 * 1000),
    finals: latency.count,
    maxLagMs: Math.round(maxLag),
    asrDroppedFrames: dropped,
    rtpConcealedFrames: d('edgevox_rtp_frames_concealed_total'),
    cpuCoresUsed: d('process_cpu_seconds_total') / wallS,
    rssPeakMiB: peakRss / 2 ** 20,
    rssPerCallMiB: Math.max(0, peakRss - baselineRss) / 2 ** 20 / calls,
    storeWriteP95Ms: (() => {
      const q = histogramQuantile(writes, 0.95);
      return q === null ? null : Math.round(q * 10000) / 10;
    })(),
    realTime: reasons.length === 0,
    why: reasons.join('; '),
  };
}

function value(samples: MetricSample[], name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}

function histogramDelta(before: MetricSample[], after: MetricSample[], name: string): { buckets: { le: number; count: number }[]; count: number } {
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

function fmt(v: number | null): string {
  return v === null ? '-' : String(v);
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  return res.text();
}

/** A speech file of `seconds` as raw μ-law 8 kHz, made by concatenating the shared clips with sox. */
function makeSpeechFile(dir: string, sharedDir: string, seconds: number): { path: string; seconds: number } {
  const clips = ['1.wav', '0.wav'].map((c) => join(sharedDir, 'datasets', 'speech-en', c));
  const repeats = Math.ceil(seconds / 23) + 1;
  const inputs = Array.from({ length: repeats }, () => clips).flat();
  const path = join(dir, 'speech.ulaw');
  execFileSync('sox', [...inputs, '-r', '8000', '-c', '1', '-t', 'ul', path, 'trim', '0', String(seconds)], { stdio: 'ignore' });
  return { path, seconds };
}

interface RunningAppliance {
  child: ChildProcess;
  url: string;
}

async function startAppliance(work: string, sipPort: number, modelsDir: string): Promise<RunningAppliance> {
  const dataDir = join(work, 'data');
  mkdirSync(dataDir, { recursive: true });
  const config = join(work, 'bench.yaml');
  writeFileSync(
    config,
    [
      'log:', '  level: warn',
      'sip:', `  port: ${sipPort}`, '  rtpPortMin: 20000', '  rtpPortMax: 29999', '  rateLimitPerSec: 0', '  rateLimitBurst: 100000',
      'calls:', '  maxConcurrent: 2000', '  maxLagMs: 60000',
    ].join('\n') + '\n',
  );
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'edgevox.js'), 'serve', '--config', config, '--data-dir', dataDir, '--http-port', '0', '--models-dir', modelsDir], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`appliance did not start: ${err}`)), 60_000);
    child.stderr!.on('data', (d: Buffer) => {
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

async function runSipp(args: string[], cwd: string): Promise<{ attempted: number; completed: number; failed: number }> {
  const out = await new Promise<string>((resolve) => {
    const child = spawn('sipp', ['-nostdin', ...args, '-trace_stat', '-stf', join(cwd, 'stat.csv')], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
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
