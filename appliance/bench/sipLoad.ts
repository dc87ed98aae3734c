/**
 * SIP load benchmark: a real appliance process (`edgevox serve`) receives N concurrent sipp calls,
 * each streaming speech as PCMU for `seconds`, ramping N up until calls stop being real-time.
 * Figures come from the appliance's own /metrics (lag, ASR final latency, dropped frames, CPU, RSS)
 * and from sipp (attempted / completed / failed), so the bench measures what ops would see.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../buildInfo.js';
import { fmt, histogramDelta, makeSpeechFile, runSipp, scrape, startAppliance, value } from './harness.js';
import { freeLoopbackPort, histogramQuantile, parseMetrics } from './metricsScrape.js';

export interface SipLoadOptions {
  steps: number[];
  seconds: number;
  modelsDir: string;
  sharedDir: string;
  /** Stop ramping after the first step that is not real-time. */
  stopAtFirstFailure: boolean;
  /** Real-time criteria. */
  maxLagS: number;
  /** Fraction of each call that is speech (1 = continuous speech, the worst case). */
  speechRatio: number;
  /** Extra appliance config (YAML lines), e.g. admission limits. */
  extraYaml?: string[];
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
  machine: { cpus: number; node: string; loadAverage: number[] };
  seconds: number;
  speechRatio: number;
  steps: StepResult[];
  highestRealTimeCalls: number;
}

export async function runSipLoad(options: SipLoadOptions): Promise<SipLoadReport> {
  const work = mkdtempSync(join(tmpdir(), 'evx-bench-sip-'));
  const audio = makeSpeechFile(work, options.sharedDir, options.seconds, options.speechRatio);
  options.log(`speech: ${audio.seconds.toFixed(1)} s of PCMU per call, ${Math.round(options.speechRatio * 100)}% speech`);
  const sipPort = await freeLoopbackPort();
  const app = await startAppliance(work, sipPort, options.modelsDir, options.extraYaml);
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
  const os = await import('node:os');
  return {
    machine: { cpus: os.cpus().length, node: process.versions.node, loadAverage: os.loadavg() },
    seconds: options.seconds,
    speechRatio: options.speechRatio,
    steps: results,
    highestRealTimeCalls: ok.length ? Math.max(...ok) : 0,
  };
}

async function runStep(
  url: string,
  work: string,
  sipPort: number,
  calls: number,
  o: SipLoadOptions,
  baselineRss: number,
): Promise<StepResult> {
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
    [
      `127.0.0.1:${sipPort}`,
      '-sf',
      join(REPO_ROOT, 'test', 'scenarios', 'uac-pcmu-speech.xml'),
      '-m',
      String(calls),
      '-l',
      String(calls),
      '-r',
      String(rate),
      '-d',
      String(o.seconds * 1000),
      '-i',
      '127.0.0.1',
      '-p',
      String(localPort),
      '-mi',
      '127.0.0.1',
      '-mp',
      String(mediaPort),
      '-timeout',
      `${o.seconds + Math.ceil(calls / rate) + 60}s`,
      '-timeout_error',
    ],
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
