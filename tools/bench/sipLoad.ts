/**
 * SIP load benchmark: a real appliance process (`edgevox serve`) receives N concurrent sipp calls,
 * each streaming speech as PCMU for `seconds`, ramping N up until calls stop being real-time.
 * Figures come from the appliance's own /metrics (lag, ASR final latency, dropped frames, CPU, RSS)
 * and from sipp (attempted / completed / failed), so the bench measures what ops would see.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  asrEncoderYaml,
  callerAudio48k,
  fmt,
  histogramDelta,
  makeCallerAudio,
  runSippCallers,
  scrape,
  startAppliance,
  value,
  verifyAsrEncoder,
  type AsrEncoder,
  type EncoderCheck,
  type RunningAppliance,
} from './harness.js';
import {
  findRecognitionWorkers,
  loadGeneratorsSince,
  SATURATED_CORES,
  markLoadGenerators,
  snapshotThreads,
  threadLoadBetween,
  type ThreadLoad,
} from './machineReference.js';
import { RampPlan } from './rampPlan.js';
import { runWebCaller } from './webrtcLoad.js';
import { freeLoopbackPort, histogramQuantile, parseMetrics, type MetricSample } from './metricsScrape.js';
import { makeBenchCertificate, runCallerProcess, type CallerMode } from '../telephony/callerProcess.js';

/** Who places a step's SIP calls: sipp (UDP, RTP), or our own callers over UDP + RTP or TLS + SRTP. */
export type SipCallerKind = 'sipp' | CallerMode;

export interface SipLoadOptions {
  steps: number[];
  seconds: number;
  modelsDir: string;
  sharedDir: string;
  /** Stop ramping after the first step that is not real-time. */
  stopAtFirstFailure: boolean;
  /** Real-time criteria. */
  maxLagS: number;
  /** Also require the final-transcript p95 (end of speech to final) to stay within this. */
  maxFinalP95Ms?: number;
  /** Fraction of each call that is speech (1 = continuous speech, the worst case). */
  speechRatio: number;
  /**
   * Caller groups, each playing the call-like audio from a different point of its cycle (see
   * makeCallerAudio); 1 = every call talks and pauses in step (the all-at-once worst case).
   */
  groups: number;
  /** Of each step's calls, how many are node-webrtc web callers (Opus through mediasoup); the rest are sipp calls. */
  webCallers: number;
  /** Extra appliance config (YAML lines), e.g. admission limits. */
  extraYaml?: string[];
  /**
   * Each step once per kind, in this order, against the same appliance (default: sipp only). With
   * `secure` the appliance also listens for SIP over TLS and offers SRTP (policy optional).
   */
  callers?: readonly SipCallerKind[];
  /**
   * Run the appliance with this ASR encoder (config asr.encoder) and make sure it really does (its
   * log and encoder-run counters; see verifyAsrEncoder): the ramp throws rather than report figures
   * of the other encoder. Unset: the appliance's default, unchecked.
   */
  asrEncoder?: AsrEncoder;
  /** Other load on the same appliance (make bench-chat): told when it is up, around each step, and before it stops. */
  alongside?: LoadAlongside;
  log: (line: string) => void;
}

/** Hooks for load that runs next to the calls in the same appliance; `index` counts the steps run. */
export interface LoadAlongside {
  started(app: RunningAppliance, dataDir: string): Promise<void>;
  beforeStep(index: number, calls: number): Promise<void>;
  afterStep(index: number, calls: number, step: StepResult): Promise<void>;
  stopping(): Promise<void>;
}

export interface StepResult {
  caller: SipCallerKind;
  calls: number;
  sipCalls: number;
  webCalls: number;
  /** Web callers that connected and streamed to the end. */
  webCompleted: number;
  attempted: number;
  completed: number;
  failed: number;
  rejected: number;
  finalLatencyP50Ms: number | null;
  finalLatencyP95Ms: number | null;
  finalLatencyP99Ms: number | null;
  finals: number;
  partialLatencyP50Ms: number | null;
  partialLatencyP95Ms: number | null;
  partialLatencyP99Ms: number | null;
  partials: number;
  maxLagMs: number;
  asrDroppedFrames: number;
  rtpConcealedFrames: number;
  cpuCoresUsed: number;
  rssPeakMiB: number;
  rssPerCallMiB: number;
  storeWriteP95Ms: number | null;
  realTime: boolean;
  why: string;
  /**
   * CPU of the load generators over the step, in cores: `child` = sipp / caller processes (reaped
   * children of the bench: their cutime + cstime), `self` = the bench process (web callers run in it).
   */
  loadGenCores?: { child: number | null; self: number; total: number };
  /** Where the appliance's CPU went over the step: main thread, busiest other thread, saturated threads. */
  threads?: ThreadLoad | null;
  /** Encoder runs and call-leg chunks encoded in the step (null where the appliance does not export them). */
  encoderRuns?: number | null;
  encoderChunks?: number | null;
}

export interface SipLoadReport {
  machine: { cpus: number; node: string; loadAverage: number[] };
  seconds: number;
  speechRatio: number;
  groups: number;
  steps: StepResult[];
  highestRealTimeCalls: number;
  /** Per caller kind (one entry when only sipp ran). */
  highestRealTimeByCaller: Partial<Record<SipCallerKind, number>>;
  /** The encoder asked for (asrEncoder) and how the bench made sure the appliance ran it. */
  asrEncoder?: AsrEncoder;
  encoderCheck?: EncoderCheck['verifiedBy'];
}

export async function runSipLoad(options: SipLoadOptions): Promise<SipLoadReport> {
  const work = mkdtempSync(join(tmpdir(), 'evx-bench-sip-'));
  const groupDirs = makeCallerAudio(work, options.sharedDir, options.seconds, options.speechRatio, options.groups);
  options.log(
    `speech: ${options.seconds} s of PCMU per call, ${Math.round(options.speechRatio * 100)}% speech, ${options.groups} caller group(s) at different points of the talk/listen cycle`,
  );
  const webAudio = options.webCallers > 0 ? groupDirs.map(callerAudio48k) : [];
  const sipPort = await freeLoopbackPort();
  const webYaml =
    options.webCallers > 0
      ? ['console:', '  enabled: false', '  httpsPort: -1', 'webrtc:', '  rtcPortMin: 30000', '  rtcPortMax: 34999']
      : [];
  const kinds = options.callers ?? ['sipp'];
  const tlsPort = kinds.includes('secure') ? await freeLoopbackPort() : 0;
  const tlsYaml: string[] = [];
  if (tlsPort > 0) {
    const { certFile, keyFile } = makeBenchCertificate(work);
    tlsYaml.push(
      '  transports: [udp, tls]',
      `  tlsPort: ${tlsPort}`,
      `  tlsCertFile: ${certFile}`,
      `  tlsKeyFile: ${keyFile}`,
      '  srtp: optional',
      // our callers open one TLS connection per call, all from 127.0.0.1: like many phones behind one NAT
      '  tcpMaxConnectionsPerSource: 100000',
    );
  }
  const extraYaml = options.extraYaml ?? [];
  if (options.asrEncoder !== undefined && extraYaml.some((l) => l.startsWith('asr:'))) {
    throw new Error('runSipLoad: asrEncoder and an asr: section in extraYaml cannot be combined');
  }
  const encoderYaml = options.asrEncoder === undefined ? [] : asrEncoderYaml(options.asrEncoder);
  const app = await startAppliance(work, sipPort, options.modelsDir, [...webYaml, ...encoderYaml, ...extraYaml], tlsYaml);
  const results: StepResult[] = [];
  const plans = new Map(kinds.map((k) => [k, new RampPlan(options.steps, { stopAtFirstFailure: options.stopAtFirstFailure })]));
  let encoderCheck: EncoderCheck['verifiedBy'] | undefined;
  try {
    const idle = parseMetrics(await scrape(app.url));
    if (options.asrEncoder !== undefined) encoderCheck = verifyAsrEncoder(app, options.asrEncoder).verifiedBy;
    const baselineRss = value(idle, 'process_resident_memory_bytes');
    // which of its threads are the recognition workers: told apart while it is idle
    const asrWorkers = new Set(idle.filter((s) => s.name === 'edgevox_asr_worker_streams').map((s) => s.labels['worker'])).size;
    const workerTids = app.child.pid === undefined ? new Set<number>() : await findRecognitionWorkers(app.child.pid, asrWorkers);
    await options.alongside?.started(app, join(work, 'data'));
    let index = 0;
    for (let ran = true; ran;) {
      ran = false;
      for (const caller of kinds) {
        const plan = plans.get(caller)!;
        const calls = plan.next();
        if (calls === undefined) continue;
        ran = true;
        options.log(`step: ${calls} concurrent calls for ${options.seconds} s${caller === 'sipp' ? '' : ` (${caller} callers)`}`);
        await options.alongside?.beforeStep(index, calls);
        const step = await runStep(
          app.url,
          app.child.pid,
          workerTids,
          groupDirs,
          webAudio,
          { sipPort, tlsPort },
          calls,
          caller,
          options,
          baselineRss,
        );
        results.push(step);
        await options.alongside?.afterStep(index++, calls, step);
        if (options.asrEncoder !== undefined) {
          const check = verifyAsrEncoder(app, options.asrEncoder, step.metricsBefore, step.metricsAfter);
          // the counters prove it once a step has recognised speech; until then the log alone does
          if (encoderCheck !== 'log + metrics') encoderCheck = check.verifiedBy;
        }
        delete step.metricsBefore;
        delete step.metricsAfter;
        options.log(`  ${stepLine(step)}`);
        plan.record(calls, step.realTime);
      }
    }
  } finally {
    await options.alongside?.stopping();
    app.child.kill('SIGTERM');
    await new Promise((r) => app.child.once('exit', r));
    rmSync(work, { recursive: true, force: true });
  }
  const ok = results.filter((r) => r.realTime).map((r) => r.calls);
  const highestRealTimeByCaller: Partial<Record<SipCallerKind, number>> = {};
  for (const k of kinds)
    highestRealTimeByCaller[k] = Math.max(0, ...results.filter((r) => r.realTime && r.caller === k).map((r) => r.calls));
  const os = await import('node:os');
  return {
    machine: { cpus: os.cpus().length, node: process.versions.node, loadAverage: os.loadavg() },
    seconds: options.seconds,
    speechRatio: options.speechRatio,
    groups: options.groups,
    steps: results,
    highestRealTimeCalls: ok.length ? Math.max(...ok) : 0,
    highestRealTimeByCaller,
    ...(options.asrEncoder !== undefined ? { asrEncoder: options.asrEncoder, encoderCheck } : {}),
  };
}

/** The busiest recognition worker, where the busiest other thread is something else. */
export function workerAside(t: ThreadLoad): string {
  const w = t.recognitionWorkerMaxCores;
  return w === null || w === undefined || t.busiestName.startsWith('recognition worker')
    ? ''
    : ` (busiest recognition worker ${w.toFixed(2)})`;
}

/** One step's figures on one line (the bench logs). */
export function stepLine(step: StepResult): string {
  const parts = [
    `completed ${step.completed}/${step.attempted}, failed ${step.failed}, final p95 ${fmt(step.finalLatencyP95Ms)} ms, partial p95 ${fmt(step.partialLatencyP95Ms)} ms, max lag ${step.maxLagMs} ms, dropped ${step.asrDroppedFrames}, cpu ${step.cpuCoresUsed.toFixed(2)} cores`,
  ];
  const t = step.threads;
  if (t)
    parts.push(
      `threads: main ${t.mainCores.toFixed(2)}, busiest other ${t.busiestName} ${t.busiestCores.toFixed(2)}${workerAside(t)}, ${t.threadsOver90} over ${SATURATED_CORES}, total ${t.totalCores.toFixed(2)} cores`,
    );
  const g = step.loadGenCores;
  if (g)
    parts.push(
      `load generators ${g.total.toFixed(2)} cores (callers ${g.child === null ? '-' : g.child.toFixed(2)} + bench process ${g.self.toFixed(2)})`,
    );
  if (step.encoderRuns)
    parts.push(`encoder ${step.encoderRuns} runs, ${((step.encoderChunks ?? 0) / step.encoderRuns).toFixed(1)} legs per run`);
  parts.push(step.realTime ? 'REAL-TIME' : 'NOT real-time: ' + step.why);
  return parts.join(', ');
}

/** A step's result with the metric scrapes around it (for the encoder check; removed before the report). */
type StepWithMetrics = StepResult & { metricsBefore?: MetricSample[]; metricsAfter?: MetricSample[] };

async function runStep(
  url: string,
  pid: number | undefined,
  workerTids: ReadonlySet<number>,
  groupDirs: string[],
  webAudio: Int16Array[],
  ports: { sipPort: number; tlsPort: number },
  calls: number,
  caller: SipCallerKind,
  o: SipLoadOptions,
  baselineRss: number,
): Promise<StepWithMetrics> {
  const before = parseMetrics(await scrape(url));
  const startedAt = performance.now();
  const threadsAtStart = pid === undefined ? undefined : snapshotThreads(pid);
  const loadGen = markLoadGenerators();
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
  const webCalls = Math.min(calls, o.webCallers);
  const sipCalls = calls - webCalls;
  const rate = Math.min(calls, 20);
  const web = Promise.all(
    Array.from({ length: webCalls }, async (_, i) => {
      await new Promise((r) => setTimeout(r, (i * 1000) / rate));
      return runWebCaller(url, webAudio[i % webAudio.length]!);
    }),
  );
  const reasons: string[] = [];
  const sipp = await placeSipCalls(caller, groupDirs, ports, sipCalls, rate, o.seconds, reasons);
  const webResults = await web;
  const webCompleted = webResults.filter((r) => r.callId !== null && r.error === null).length;
  // Let the last finals flush (endpointing + the leg's final flush after BYE).
  await new Promise((r) => setTimeout(r, 3000));
  clearInterval(sampler);
  const wallS = (performance.now() - startedAt) / 1000;
  const threads =
    pid === undefined || threadsAtStart === undefined ? null : threadLoadBetween(threadsAtStart, snapshotThreads(pid), workerTids);
  const loadGenCpu = loadGeneratorsSince(loadGen);
  const after = parseMetrics(await scrape(url));
  const d = (name: string, labels?: Record<string, string>) => value(after, name, labels) - value(before, name, labels);
  const latency = histogramDelta(before, after, 'edgevox_asr_final_latency_seconds');
  const writes = histogramDelta(before, after, 'edgevox_store_write_duration_seconds');
  const partial = histogramDelta(before, after, 'edgevox_asr_partial_latency_seconds');
  const ms = (h: typeof latency, q: number): number | null => {
    const v = histogramQuantile(h, q);
    return v === null ? null : Math.round(v * 1000);
  };
  const dropped = d('edgevox_asr_dropped_frames_total');
  const rejected = d('edgevox_sip_rejected_total', { reason: 'capacity' }) + d('edgevox_calls_rejected_total', { reason: 'overload' });
  if (sipp.failed > 0) reasons.push(`${sipp.failed} calls failed`);
  if (webCompleted < webCalls) reasons.push(`${webCalls - webCompleted} web calls failed`);
  if (dropped > 0) reasons.push(`${dropped} audio frames dropped`);
  if (maxLag > o.maxLagS * 1000) reasons.push(`lag ${Math.round(maxLag)} ms > ${o.maxLagS * 1000} ms`);
  const finalP95Ms = ms(latency, 0.95);
  if (o.maxFinalP95Ms !== undefined && finalP95Ms !== null && finalP95Ms > o.maxFinalP95Ms)
    reasons.push(`final p95 ${finalP95Ms} ms > ${o.maxFinalP95Ms} ms`);
  return {
    caller,
    calls,
    sipCalls,
    webCalls,
    webCompleted,
    attempted: sipp.attempted,
    completed: sipp.completed,
    failed: sipp.failed,
    rejected,
    finalLatencyP50Ms: ms(latency, 0.5),
    finalLatencyP95Ms: finalP95Ms,
    finalLatencyP99Ms: ms(latency, 0.99),
    finals: latency.count,
    partialLatencyP50Ms: ms(partial, 0.5),
    partialLatencyP95Ms: ms(partial, 0.95),
    partialLatencyP99Ms: ms(partial, 0.99),
    partials: partial.count,
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
    loadGenCores: {
      child: loadGenCpu.childCores === null ? null : round2(loadGenCpu.childCores),
      self: round2(loadGenCpu.selfCores),
      total: round2(loadGenCpu.totalCores),
    },
    threads,
    ...encoderFigures(before, after),
    metricsBefore: before,
    metricsAfter: after,
  };
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

/** Encoder runs and chunks between two scrapes (null where the appliance does not export them). */
function encoderFigures(before: MetricSample[], after: MetricSample[]): { encoderRuns: number | null; encoderChunks: number | null } {
  if (!after.some((s) => s.name === 'edgevox_asr_encoder_runs_total')) return { encoderRuns: null, encoderChunks: null };
  const d = (name: string) => value(after, name) - value(before, name);
  return { encoderRuns: d('edgevox_asr_encoder_runs_total'), encoderChunks: d('edgevox_asr_encoder_chunks_total') };
}

/** One step's SIP calls by the chosen caller kind; our callers' SRTP failures are added to `reasons`. */
async function placeSipCalls(
  caller: SipCallerKind,
  groupDirs: string[],
  ports: { sipPort: number; tlsPort: number },
  calls: number,
  rate: number,
  seconds: number,
  reasons: string[],
): Promise<{ attempted: number; completed: number; failed: number }> {
  if (caller === 'sipp') {
    return runSippCallers({
      groupDirs,
      target: `127.0.0.1:${ports.sipPort}`,
      calls,
      seconds,
      rate,
      mediaBase: 40000,
      timeoutS: seconds + Math.ceil(calls / rate) + 60,
      timeoutIsError: true,
    });
  }
  // The same speech as sipp's first group; each caller starts it at its own point.
  const run = await runCallerProcess({
    mode: caller,
    ...ports,
    calls,
    seconds,
    clip: join(groupDirs[0]!, 'speech.ulaw'),
    spreadClip: true,
  });
  if (run.report === undefined) {
    reasons.push(`callers exited ${run.code}: ${run.stderr.split('\n').pop() ?? ''}`);
    return { attempted: calls, completed: 0, failed: calls };
  }
  const r = run.report;
  if (r.unprotectFailures > 0) reasons.push(`${r.unprotectFailures} packets from the box failed SRTP checks`);
  const failures = Object.entries(r.failures).map(([why, n]) => `${n}x ${why}`);
  if (failures.length > 0) reasons.push(`call failures: ${failures.join(', ')}`);
  if (r.lateFrames > 0) reasons.push(`the callers fell behind (${r.lateFrames} late frames): load generator limit`);
  return { attempted: r.attempted, completed: r.completedBye, failed: r.failed };
}
