/**
 * `make bench`: the whole pipeline under load — sipp calls streaming call-like speech with
 * ASR, VAD, intent, emotion, routing, redaction and storage all on — ramped until calls stop being
 * real-time; then admission control beyond that capacity: new calls must get 503 while the calls in
 * progress keep their latency. Results as JSON and a markdown table under test/bench-results/.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { histogramDelta, makeCallerAudio, runSippCallers, scrape, startAppliance, value } from './harness.js';
import { freeLoopbackPort, histogramQuantile, parseMetrics } from './metricsScrape.js';
import { runSipLoad, type SipLoadReport } from './sipLoad.js';

export interface OverloadResult {
  capacity: number;
  extraCallsAttempted: number;
  extraCallsRejected503: number;
  existingCallsCompleted: number;
  existingCallsFailed: number;
  /** The calls in progress while the extra calls were refused. */
  existingFinalP95Ms: number | null;
  existingPartialP95Ms: number | null;
  existingMaxLagMs: number;
  /** The same calls on the same appliance just before, without extra calls. */
  baselineFinalP95Ms: number | null;
  baselinePartialP95Ms: number | null;
  baselineMaxLagMs: number;
}

export interface WholeBenchReport {
  ramp: SipLoadReport;
  overload: OverloadResult | null;
  loadAverageAtEnd: number[];
}

export interface WholeBenchOptions {
  steps: number[];
  seconds: number;
  speechRatio: number;
  groups: number;
  webCallers: number;
  modelsDir: string;
  sharedDir: string;
  outDir: string;
  log: (l: string) => void;
}

export async function runWholeBench(o: WholeBenchOptions): Promise<WholeBenchReport> {
  const ramp = await runSipLoad({
    steps: o.steps,
    seconds: o.seconds,
    speechRatio: o.speechRatio,
    groups: o.groups,
    webCallers: o.webCallers,
    modelsDir: o.modelsDir,
    sharedDir: o.sharedDir,
    stopAtFirstFailure: true,
    maxLagS: 1,
    // the latency target (final transcript p95 within 500 ms): a step whose finals come later than this is not real-time for a caller
    maxFinalP95Ms: 500,
    log: o.log,
  });
  const capacity = ramp.highestRealTimeCalls;
  let overload: OverloadResult | null = null;
  if (capacity > 0) {
    o.log(
      `admission control: capacity set to ${capacity}; ${capacity} calls alone, then again with ${Math.ceil(capacity * 0.25) + 1} extra calls`,
    );
    overload = await runOverload(o, capacity);
    o.log(
      `  ${overload.extraCallsRejected503}/${overload.extraCallsAttempted} extra calls got 503; calls in progress final p95 ${overload.existingFinalP95Ms ?? '-'} ms (alone: ${overload.baselineFinalP95Ms ?? '-'} ms)`,
    );
  }
  const report: WholeBenchReport = { ramp, overload, loadAverageAtEnd: loadavg() };
  mkdirSync(o.outDir, { recursive: true });
  writeFileSync(join(o.outDir, 'bench.json'), JSON.stringify({ at: new Date().toISOString(), ...report }, null, 2) + '\n');
  writeFileSync(join(o.outDir, 'bench.md'), markdown(report));
  return report;
}

interface Window {
  finalP95Ms: number | null;
  partialP95Ms: number | null;
  maxLagMs: number;
}

/** Latency figures of the appliance while `run` runs. */
async function measured<T>(url: string, run: () => Promise<T>): Promise<{ result: T; window: Window }> {
  const before = parseMetrics(await scrape(url));
  let maxLag = 0;
  const sampler = setInterval(() => {
    scrape(url)
      .then((text) => (maxLag = Math.max(maxLag, value(parseMetrics(text), 'edgevox_asr_lag_max_seconds') * 1000)))
      .catch(() => undefined);
  }, 1000);
  const result = await run();
  await new Promise((r) => setTimeout(r, 3000));
  clearInterval(sampler);
  const after = parseMetrics(await scrape(url));
  const p95 = (name: string): number | null => {
    const q = histogramQuantile(histogramDelta(before, after, name), 0.95);
    return q === null ? null : Math.round(q * 1000);
  };
  return {
    result,
    window: {
      finalP95Ms: p95('edgevox_asr_final_latency_seconds'),
      partialP95Ms: p95('edgevox_asr_partial_latency_seconds'),
      maxLagMs: Math.round(maxLag),
    },
  };
}

async function runOverload(o: WholeBenchOptions, capacity: number): Promise<OverloadResult> {
  const work = mkdtempSync(join(tmpdir(), 'evx-bench-overload-'));
  const groupDirs = makeCallerAudio(work, o.sharedDir, o.seconds, o.speechRatio, o.groups);
  const sipPort = await freeLoopbackPort();
  const app = await startAppliance(work, sipPort, o.modelsDir, ['calls:', `  maxConcurrent: ${capacity}`, '  maxLagMs: 1500']);
  const callers = (calls: number, mediaBase: number) => ({
    groupDirs,
    target: `127.0.0.1:${sipPort}`,
    calls,
    seconds: o.seconds,
    rate: Math.min(calls, 20),
    mediaBase,
    timeoutS: o.seconds + 90,
  });
  try {
    // Baseline: the calls alone, on this same (warm) appliance.
    const alone = await measured(app.url, () => runSippCallers(callers(capacity, 40000)));
    const before = parseMetrics(await scrape(app.url));
    const withExtra = await measured(app.url, async () => {
      const existing = runSippCallers(callers(capacity, 40000));
      // Once every call is up, the extra callers try to get in.
      await new Promise((r) => setTimeout(r, Math.ceil(capacity / 20) * 1000 + 5000));
      const extra = await runSippCallers({ ...callers(Math.ceil(capacity * 0.25) + 1, 50000), groupDirs: groupDirs.slice(0, 1) });
      return { existing: await existing, extra };
    });
    const after = parseMetrics(await scrape(app.url));
    return {
      capacity,
      extraCallsAttempted: withExtra.result.extra.attempted,
      extraCallsRejected503:
        value(after, 'edgevox_sip_rejected_total', { reason: 'capacity' }) -
        value(before, 'edgevox_sip_rejected_total', { reason: 'capacity' }),
      existingCallsCompleted: withExtra.result.existing.completed,
      existingCallsFailed: withExtra.result.existing.failed,
      existingFinalP95Ms: withExtra.window.finalP95Ms,
      existingPartialP95Ms: withExtra.window.partialP95Ms,
      existingMaxLagMs: withExtra.window.maxLagMs,
      baselineFinalP95Ms: alone.window.finalP95Ms,
      baselinePartialP95Ms: alone.window.partialP95Ms,
      baselineMaxLagMs: alone.window.maxLagMs,
    };
  } finally {
    app.child.kill('SIGTERM');
    await new Promise((r) => app.child.once('exit', r));
    rmSync(work, { recursive: true, force: true });
  }
}

function markdown(r: WholeBenchReport): string {
  const f = (v: number | null): string => (v === null ? '-' : String(v));
  const lines = [
    `# EdgeVox whole-pipeline bench (${new Date().toISOString()})`,
    '',
    `Machine: ${r.ramp.machine.cpus} CPUs, Node ${r.ramp.machine.node}, load average at start ${r.ramp.machine.loadAverage.map((l) => l.toFixed(1)).join(' ')}.`,
    `Calls of ${r.ramp.seconds} s, ${Math.round(r.ramp.speechRatio * 100)}% speech, in ${r.ramp.groups} caller groups at different points of the talk/listen cycle; each step's calls are sipp (PCMU) calls plus the web callers (node-webrtc, Opus) shown. Latencies in ms: partial = arrival of the audio completing a partial to the partial; final = end of speech to the final transcript.`,
    '',
    '| calls (sip + web) | completed | failed | partial p50 / p95 / p99 | final p50 / p95 / p99 | max lag | dropped frames | CPU cores | RSS MiB | RSS/call MiB | store write p95 ms | real-time |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...r.ramp.steps.map(
      (s) =>
        `| ${s.calls} (${s.sipCalls} + ${s.webCalls}) | ${s.completed + s.webCompleted} | ${s.failed + s.webCalls - s.webCompleted} | ${f(s.partialLatencyP50Ms)} / ${f(s.partialLatencyP95Ms)} / ${f(s.partialLatencyP99Ms)} | ${f(s.finalLatencyP50Ms)} / ${f(s.finalLatencyP95Ms)} / ${f(s.finalLatencyP99Ms)} | ${s.maxLagMs} | ${s.asrDroppedFrames} | ${s.cpuCoresUsed.toFixed(2)} | ${s.rssPeakMiB.toFixed(0)} | ${s.rssPerCallMiB.toFixed(2)} | ${s.storeWriteP95Ms ?? '-'} | ${s.realTime ? 'yes' : 'no: ' + s.why} |`,
    ),
    '',
    `Highest sustained real-time concurrent calls: **${r.ramp.highestRealTimeCalls}** (a step is real-time when every call completed, no audio frame was dropped, recognition never lagged more than 1 s behind the audio and the final-transcript p95 stayed within 500 ms).`,
    '',
  ];
  if (r.overload) {
    const o = r.overload;
    lines.push(
      '## Beyond capacity (admission control)',
      '',
      `Capacity set to ${o.capacity} calls. On the same appliance, ${o.capacity} calls ran first alone, then again while ${o.extraCallsAttempted} extra calls tried to get in: ${o.extraCallsRejected503} were answered 503 + Retry-After.`,
      '',
      '| calls in progress | completed | failed | partial p95 ms | final p95 ms | max lag ms |',
      '|---|---|---|---|---|---|',
      `| alone | ${o.capacity} | - | ${f(o.baselinePartialP95Ms)} | ${f(o.baselineFinalP95Ms)} | ${o.baselineMaxLagMs} |`,
      `| with the extra calls refused | ${o.existingCallsCompleted} | ${o.existingCallsFailed} | ${f(o.existingPartialP95Ms)} | ${f(o.existingFinalP95Ms)} | ${o.existingMaxLagMs} |`,
      '',
    );
  }
  return lines.join('\n');
}
