/**
 * `make bench`: the whole pipeline under load — sipp calls streaming call-like speech with
 * ASR, VAD, intent, emotion, routing, redaction and storage all on — ramped until calls stop being
 * real-time, once per ASR encoder (today's exact batch-1 encoder and the batched one, each on a
 * fresh appliance, same steps); then admission control beyond the batched capacity: new calls must
 * get 503 while the calls in progress keep their latency.
 *
 * Mode: analysis of the caller leg only (sipp callers into the analysis box, one leg per call; no
 * ACD bridging to agents' phones: that is `make bench-acd`).
 *
 * So that figures compare across machines, the same run measures a machine reference before and
 * after the ramps (sherpa-onnx's single-stream cost on the eval clips, see machineReference.ts) and
 * prints each capacity raw and normalised by it. Per step it also records the CPU the load
 * generators took and the appliance's busiest threads (which one saturates first when cores are
 * short). Results as JSON and a markdown table under test/bench-results/.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  asrEncoderYaml,
  histogramDelta,
  makeCallerAudio,
  runSippCallers,
  scrape,
  startAppliance,
  value,
  verifyAsrEncoder,
  type AsrEncoder,
  type EncoderCheck,
} from './harness.js';
import {
  combineReference,
  machineDescription,
  measureSherpaRtf,
  normalisedCapacity,
  REFERENCE_SHERPA_RTF,
  SATURATED_CORES,
  type MachineReference,
  type MachineReferenceSample,
} from './machineReference.js';
import { freeLoopbackPort, histogramQuantile, parseMetrics } from './metricsScrape.js';
import { runSipLoad, workerAside, type SipLoadReport, type StepResult } from './sipLoad.js';

/** What make bench loads: one analysed leg per call (the caller's), no agent leg. */
export const BENCH_MODE = 'analysis of the caller leg only (sipp callers into the analysis box; no ACD bridging to agents)';

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
  /** The encoder of the appliance it ran on (verified as in the ramps). */
  asrEncoder?: AsrEncoder;
  encoderCheck?: EncoderCheck['verifiedBy'];
}

export interface EncoderRun {
  encoder: AsrEncoder;
  ramp: SipLoadReport;
  /** Highest real-time calls, raw and normalised to the reference machine (null without a reference). */
  capacity: number;
  normalisedCapacity: number | null;
  /** normalisedCapacity per CPU of this machine. */
  normalisedPerCpu: number | null;
}

export interface WholeBenchReport {
  mode: string;
  machine: { cpus: number; model: string; node: string };
  /** The ramp with the appliance's default config (the batched encoder when it ran; else the only one). */
  ramp: SipLoadReport;
  /** Every encoder's ramp, in the order run. */
  runs: EncoderRun[];
  /** batched capacity / exact capacity (null unless both ran and exact carried any call). */
  batchedOverExact: number | null;
  reference: MachineReference | null;
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
  /** Encoders to ramp, in this order, each on a fresh appliance (default exact, then batched). */
  encoders?: readonly AsrEncoder[];
  /** Skip the machine reference (no normalised figures). */
  skipReference?: boolean;
  log: (l: string) => void;
}

export async function runWholeBench(o: WholeBenchOptions): Promise<WholeBenchReport> {
  const encoders = o.encoders ?? (['exact', 'batched'] as const);
  if (encoders.length === 0) throw new Error('no ASR encoder to bench');
  const machine = { ...machineDescription(), node: process.versions.node };
  o.log(`mode: ${BENCH_MODE}`);
  o.log(`machine: ${machine.cpus} CPUs (${machine.model}), Node ${machine.node}; encoders: ${encoders.join(', ')}`);
  const referenceSample = (when: string): MachineReferenceSample | null => {
    if (o.skipReference) return null;
    const r = measureSherpaRtf(o.sharedDir);
    o.log(
      `machine reference (${when}): sherpa-onnx single stream ${r.sherpaRtf.toFixed(4)} CPU s per audio s on ${r.clips} eval clips × ${r.rounds} (${r.audioSeconds} s of audio; reference machine ${REFERENCE_SHERPA_RTF}); load average ${r.loadAverage.map((l) => l.toFixed(1)).join(' ')}`,
    );
    return r;
  };
  const start = referenceSample('start');

  const ramps: { encoder: AsrEncoder; ramp: SipLoadReport }[] = [];
  for (const encoder of encoders) {
    o.log(`ramp with asr.encoder ${encoder} (fresh appliance)`);
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
      asrEncoder: encoder,
      log: o.log,
    });
    o.log(`  asr.encoder ${encoder}: ${ramp.highestRealTimeCalls} real-time calls (encoder verified by ${ramp.encoderCheck ?? '-'})`);
    ramps.push({ encoder, ramp });
  }

  // Admission control once, on the default config (batched) when it ran.
  const main = ramps.find((r) => r.encoder === 'batched') ?? ramps[ramps.length - 1]!;
  const capacity = main.ramp.highestRealTimeCalls;
  let overload: OverloadResult | null = null;
  if (capacity > 0) {
    o.log(
      `admission control (asr.encoder ${main.encoder}): capacity set to ${capacity}; ${capacity} calls alone, then again with ${Math.ceil(capacity * 0.25) + 1} extra calls`,
    );
    overload = await runOverload(o, capacity, main.encoder);
    o.log(
      `  ${overload.extraCallsRejected503}/${overload.extraCallsAttempted} extra calls got 503; calls in progress final p95 ${overload.existingFinalP95Ms ?? '-'} ms (alone: ${overload.baselineFinalP95Ms ?? '-'} ms)`,
    );
  }

  const end = start === null ? null : referenceSample('end');
  const reference = start === null ? null : combineReference(start, end);
  const runs: EncoderRun[] = ramps.map(({ encoder, ramp }) => {
    const normalised = normalisedCapacity(ramp.highestRealTimeCalls, reference);
    return {
      encoder,
      ramp,
      capacity: ramp.highestRealTimeCalls,
      normalisedCapacity: normalised,
      normalisedPerCpu: normalised === null ? null : Math.round((normalised / machine.cpus) * 10) / 10,
    };
  });
  const exact = runs.find((r) => r.encoder === 'exact');
  const batched = runs.find((r) => r.encoder === 'batched');
  const report: WholeBenchReport = {
    mode: BENCH_MODE,
    machine,
    ramp: main.ramp,
    runs,
    batchedOverExact: exact && batched && exact.capacity > 0 ? Math.round((batched.capacity / exact.capacity) * 100) / 100 : null,
    reference,
    overload,
    loadAverageAtEnd: loadavg(),
  };
  mkdirSync(o.outDir, { recursive: true });
  writeFileSync(join(o.outDir, 'bench.json'), JSON.stringify({ at: new Date().toISOString(), ...report }, null, 2) + '\n');
  writeFileSync(join(o.outDir, 'bench.md'), markdown(report));
  return report;
}

/** The summary lines `make bench` prints at the end. */
export function summaryLines(r: WholeBenchReport): string[] {
  const lines = [`mode: ${r.mode}`, `machine: ${r.machine.cpus} CPUs (${r.machine.model}), Node ${r.machine.node}`];
  const ref = r.reference;
  if (ref) {
    lines.push(
      `machine reference: sherpa-onnx single stream ${ref.start.sherpaRtf.toFixed(4)} (start) / ${ref.end ? ref.end.sherpaRtf.toFixed(4) : '-'} (end), mean ${ref.sherpaRtf.toFixed(4)} CPU s per audio s; reference machine ${ref.referenceSherpaRtf} (${ref.referenceMachine}) -> this machine's cores are ${ref.slowdown.toFixed(2)}x as slow${ref.drift !== null && ref.drift > 0.1 ? ` (start and end differ by ${Math.round(ref.drift * 100)}%: the machine was not quiet)` : ''}`,
    );
  } else lines.push('machine reference: skipped (no normalised figures)');
  for (const run of r.runs) {
    lines.push(
      `asr.encoder ${run.encoder.padEnd(7)}: highest real-time calls ${run.capacity} raw, ${run.normalisedCapacity ?? '-'} normalised to the reference machine (${run.normalisedPerCpu ?? '-'} per CPU); encoder verified by ${run.ramp.encoderCheck ?? '-'}${loadGenSummary(run.ramp.steps)}`,
    );
  }
  if (r.runs.length > 1) lines.push(`batched / exact: ${r.batchedOverExact === null ? '-' : r.batchedOverExact.toFixed(2)}`);
  return lines;
}

function loadGenSummary(steps: StepResult[]): string {
  const last = steps[steps.length - 1];
  if (!last?.loadGenCores) return '';
  const t = last.threads;
  return `; at ${last.calls} calls: load generators ${last.loadGenCores.total.toFixed(2)} cores${t ? `, appliance main thread ${t.mainCores.toFixed(2)}, busiest other ${t.busiestName} ${t.busiestCores.toFixed(2)} cores${workerAside(t)}, ${t.threadsOver90} thread(s) over ${SATURATED_CORES}` : ''}`;
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

async function runOverload(o: WholeBenchOptions, capacity: number, encoder: AsrEncoder): Promise<OverloadResult> {
  const work = mkdtempSync(join(tmpdir(), 'evx-bench-overload-'));
  const groupDirs = makeCallerAudio(work, o.sharedDir, o.seconds, o.speechRatio, o.groups);
  const sipPort = await freeLoopbackPort();
  const app = await startAppliance(work, sipPort, o.modelsDir, [
    'calls:',
    `  maxConcurrent: ${capacity}`,
    '  maxLagMs: 1500',
    ...asrEncoderYaml(encoder),
  ]);
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
    verifyAsrEncoder(app, encoder);
    // Baseline: the calls alone, on this same (warm) appliance.
    const first = parseMetrics(await scrape(app.url));
    const alone = await measured(app.url, () => runSippCallers(callers(capacity, 40000)));
    const encoderCheck = verifyAsrEncoder(app, encoder, first, parseMetrics(await scrape(app.url))).verifiedBy;
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
      asrEncoder: encoder,
      encoderCheck,
    };
  } finally {
    app.child.kill('SIGTERM');
    await new Promise((r) => app.child.once('exit', r));
    rmSync(work, { recursive: true, force: true });
  }
}

function markdown(r: WholeBenchReport): string {
  const f = (v: number | null): string => (v === null ? '-' : String(v));
  const c2 = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : v.toFixed(2));
  const ref = r.reference;
  const lines = [
    `# EdgeVox whole-pipeline bench (${new Date().toISOString()})`,
    '',
    `Mode: ${r.mode}.`,
    '',
    `Machine: ${r.machine.cpus} CPUs (${r.machine.model}), Node ${r.machine.node}, load average at the start of the first ramp ${(r.runs[0]?.ramp ?? r.ramp).machine.loadAverage.map((l) => l.toFixed(1)).join(' ')}.`,
    `Calls of ${r.ramp.seconds} s, ${Math.round(r.ramp.speechRatio * 100)}% speech, in ${r.ramp.groups} caller groups at different points of the talk/listen cycle; each step's calls are sipp (PCMU) calls plus the web callers (node-webrtc, Opus) shown. Latencies in ms: partial = arrival of the audio completing a partial to the partial; final = end of speech to the final transcript.`,
    '',
    '## Capacity',
    '',
    ref
      ? `Machine reference: sherpa-onnx-node, one stream, one thread, on the ${ref.start.clips} ASR eval clips: ${ref.start.sherpaRtf.toFixed(4)} CPU s per audio s before the ramps, ${ref.end ? ref.end.sherpaRtf.toFixed(4) : '-'} after, mean ${ref.sherpaRtf.toFixed(4)}. The reference machine (${ref.referenceMachine}) takes ${ref.referenceSherpaRtf}: this machine's cores are ${ref.slowdown.toFixed(2)}x as slow. Normalised capacity = raw × ${ref.slowdown.toFixed(2)}: the calls this box would carry with the reference machine's cores (the core count is not normalised; per CPU divides by it).`
      : 'Machine reference: skipped (no normalised figures).',
    '',
    '| asr.encoder | highest real-time calls (raw) | normalised to the reference machine | normalised per CPU | encoder verified by |',
    '|---|---|---|---|---|',
    ...r.runs.map(
      (run) =>
        `| ${run.encoder} | **${run.capacity}** | ${f(run.normalisedCapacity)} | ${f(run.normalisedPerCpu)} | ${run.ramp.encoderCheck ?? '-'} |`,
    ),
    '',
    ...(r.runs.length > 1 ? [`Batched / exact: **${r.batchedOverExact === null ? '-' : r.batchedOverExact.toFixed(2)}**.`, ''] : []),
    `A step is real-time when every call completed, no audio frame was dropped, recognition never lagged more than 1 s behind the audio and the final-transcript p95 stayed within 500 ms.`,
    `Thread columns: cores (CPU s per wall s over the step) of the appliance's main thread, of its busiest other thread (name from /proc, tid; "pid" = a child process such as a mediasoup worker), the number of threads above ${SATURATED_CORES} of a core (saturated), and the appliance with its child processes in all. Load generators: sipp / caller processes (children of the bench) + the bench process itself (web callers run in it).`,
    '',
  ];
  for (const run of r.runs) {
    lines.push(
      `## Ramp, asr.encoder ${run.encoder}`,
      '',
      '| calls (sip + web) | completed | failed | partial p50 / p95 / p99 | final p50 / p95 / p99 | max lag | dropped frames | CPU cores | main thread | busiest other thread | threads > 0.9 | appliance cores (/proc) | load generators cores | legs per encoder run | RSS MiB | RSS/call MiB | store write p95 ms | real-time |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...run.ramp.steps.map((s) => {
        const t = s.threads;
        const g = s.loadGenCores;
        return `| ${s.calls} (${s.sipCalls} + ${s.webCalls}) | ${s.completed + s.webCompleted} | ${s.failed + s.webCalls - s.webCompleted} | ${f(s.partialLatencyP50Ms)} / ${f(s.partialLatencyP95Ms)} / ${f(s.partialLatencyP99Ms)} | ${f(s.finalLatencyP50Ms)} / ${f(s.finalLatencyP95Ms)} / ${f(s.finalLatencyP99Ms)} | ${s.maxLagMs} | ${s.asrDroppedFrames} | ${s.cpuCoresUsed.toFixed(2)} | ${c2(t?.mainCores)} | ${t ? `${t.busiestName} ${t.busiestCores.toFixed(2)}${workerAside(t)}` : '-'} | ${t ? t.threadsOver90 : '-'} | ${c2(t?.totalCores)} | ${g ? `${g.total.toFixed(2)} (${c2(g.child)} + ${g.self.toFixed(2)})` : '-'} | ${s.encoderRuns ? ((s.encoderChunks ?? 0) / s.encoderRuns).toFixed(1) : '-'} | ${s.rssPeakMiB.toFixed(0)} | ${s.rssPerCallMiB.toFixed(2)} | ${s.storeWriteP95Ms ?? '-'} | ${s.realTime ? 'yes' : 'no: ' + s.why} |`;
      }),
      '',
      `Highest sustained real-time concurrent calls with asr.encoder ${run.encoder}: **${run.capacity}**.`,
      '',
    );
  }
  if (r.overload) {
    const o = r.overload;
    lines.push(
      '## Beyond capacity (admission control)',
      '',
      `asr.encoder ${o.asrEncoder ?? '-'}. Capacity set to ${o.capacity} calls. On the same appliance, ${o.capacity} calls ran first alone, then again while ${o.extraCallsAttempted} extra calls tried to get in: ${o.extraCallsRejected503} were answered 503 + Retry-After.`,
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
