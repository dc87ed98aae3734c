/**
 * `make bench` (issue 9): the whole pipeline under load — sipp calls streaming call-like speech with
 * ASR, VAD, intent, emotion, routing, redaction and storage all on — ramped until calls stop being
 * real-time; then admission control beyond that capacity: new calls must get 503 while the calls in
 * progress keep their latency. Results as JSON and a markdown table under test/bench-results/.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../buildInfo.js';
import { histogramDelta, makeSpeechFile, runSipp, scrape, startAppliance, value } from './harness.js';
import { freeLoopbackPort, histogramQuantile, parseMetrics } from './metricsScrape.js';
import { runSipLoad, type SipLoadReport } from './sipLoad.js';

export interface OverloadResult {
  capacity: number;
  extraCallsAttempted: number;
  extraCallsRejected503: number;
  existingCallsCompleted: number;
  existingCallsFailed: number;
  existingFinalP95Ms: number | null;
  baselineFinalP95Ms: number | null;
}

export interface WholeBenchReport {
  ramp: SipLoadReport;
  overload: OverloadResult | null;
  loadAverageAtEnd: number[];
}

export async function runWholeBench(o: {
  steps: number[];
  seconds: number;
  speechRatio: number;
  modelsDir: string;
  sharedDir: string;
  outDir: string;
  log: (l: string) => void;
}): Promise<WholeBenchReport> {
  const ramp = await runSipLoad({
    steps: o.steps,
    seconds: o.seconds,
    speechRatio: o.speechRatio,
    modelsDir: o.modelsDir,
    sharedDir: o.sharedDir,
    stopAtFirstFailure: true,
    maxLagS: 1,
    log: o.log,
  });
  const capacity = ramp.highestRealTimeCalls;
  let overload: OverloadResult | null = null;
  if (capacity > 0) {
    o.log(`admission control: capacity set to ${capacity}, then ${Math.ceil(capacity * 0.25) + 1} extra calls`);
    overload = await runOverload(o, capacity, ramp.steps.find((s) => s.calls === capacity)?.finalLatencyP95Ms ?? null);
  }
  const report: WholeBenchReport = { ramp, overload, loadAverageAtEnd: loadavg() };
  mkdirSync(o.outDir, { recursive: true });
  writeFileSync(join(o.outDir, 'bench.json'), JSON.stringify({ at: new Date().toISOString(), ...report }, null, 2) + '\n');
  writeFileSync(join(o.outDir, 'bench.md'), markdown(report));
  return report;
}

async function runOverload(
  o: { seconds: number; speechRatio: number; modelsDir: string; sharedDir: string },
  capacity: number,
  baselineP95: number | null,
): Promise<OverloadResult> {
  const work = mkdtempSync(join(tmpdir(), 'evx-bench-overload-'));
  makeSpeechFile(work, o.sharedDir, o.seconds, o.speechRatio);
  const sipPort = await freeLoopbackPort();
  const app = await startAppliance(work, sipPort, o.modelsDir, ['calls:', `  maxConcurrent: ${capacity}`, '  maxLagMs: 1500']);
  try {
    const before = parseMetrics(await scrape(app.url));
    const scenario = join(REPO_ROOT, 'test', 'scenarios', 'uac-pcmu-speech.xml');
    const common = (n: number, port: number, mediaPort: number) => [
      `127.0.0.1:${sipPort}`,
      '-sf',
      scenario,
      '-m',
      String(n),
      '-l',
      String(n),
      '-r',
      String(Math.min(n, 20)),
      '-d',
      String(o.seconds * 1000),
      '-i',
      '127.0.0.1',
      '-p',
      String(port),
      '-mi',
      '127.0.0.1',
      '-mp',
      String(mediaPort),
      '-timeout',
      `${o.seconds + 90}s`,
    ];
    const existing = runSipp(common(capacity, await freeLoopbackPort(), 44000), work);
    await new Promise((r) => setTimeout(r, Math.ceil(capacity / 20) * 1000 + 5000));
    const extra = Math.ceil(capacity * 0.25) + 1;
    const extraRun = await runSipp(common(extra, await freeLoopbackPort(), 52000), work);
    const existingRun = await existing;
    await new Promise((r) => setTimeout(r, 3000));
    const after = parseMetrics(await scrape(app.url));
    const p95 = histogramQuantile(histogramDelta(before, after, 'edgevox_asr_final_latency_seconds'), 0.95);
    return {
      capacity,
      extraCallsAttempted: extraRun.attempted,
      extraCallsRejected503:
        value(after, 'edgevox_sip_rejected_total', { reason: 'capacity' }) -
        value(before, 'edgevox_sip_rejected_total', { reason: 'capacity' }),
      existingCallsCompleted: existingRun.completed,
      existingCallsFailed: existingRun.failed,
      existingFinalP95Ms: p95 === null ? null : Math.round(p95 * 1000),
      baselineFinalP95Ms: baselineP95,
    };
  } finally {
    app.child.kill('SIGTERM');
    await new Promise((r) => app.child.once('exit', r));
    rmSync(work, { recursive: true, force: true });
  }
}

function markdown(r: WholeBenchReport): string {
  const lines = [
    `# EdgeVox whole-pipeline bench (${new Date().toISOString()})`,
    '',
    `Machine: ${r.ramp.machine.cpus} CPUs, Node ${r.ramp.machine.node}, load average at start ${r.ramp.machine.loadAverage.map((l) => l.toFixed(1)).join(' ')}. Calls of ${r.ramp.seconds} s, ${Math.round(r.ramp.speechRatio * 100)}% speech.`,
    '',
    '| calls | completed | failed | final p50 ms | final p95 ms | max lag ms | dropped frames | CPU cores | RSS MiB | RSS/call MiB | store write p95 ms | real-time |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...r.ramp.steps.map(
      (s) =>
        `| ${s.calls} | ${s.completed} | ${s.failed} | ${s.finalLatencyP50Ms ?? '-'} | ${s.finalLatencyP95Ms ?? '-'} | ${s.maxLagMs} | ${s.asrDroppedFrames} | ${s.cpuCoresUsed.toFixed(2)} | ${s.rssPeakMiB.toFixed(0)} | ${s.rssPerCallMiB.toFixed(2)} | ${s.storeWriteP95Ms ?? '-'} | ${s.realTime ? 'yes' : 'no: ' + s.why} |`,
    ),
    '',
    `Highest sustained real-time concurrent calls: **${r.ramp.highestRealTimeCalls}**.`,
    '',
  ];
  if (r.overload) {
    const o = r.overload;
    lines.push(
      '## Beyond capacity (admission control)',
      '',
      `Capacity set to ${o.capacity} calls; ${o.extraCallsAttempted} extra calls attempted while they ran: ${o.extraCallsRejected503} answered 503 + Retry-After.`,
      `Calls in progress: ${o.existingCallsCompleted} completed, ${o.existingCallsFailed} failed; final-transcript p95 ${o.existingFinalP95Ms ?? '-'} ms (same load without the extra calls: ${o.baselineFinalP95Ms ?? '-'} ms).`,
      '',
    );
  }
  return lines.join('\n');
}
