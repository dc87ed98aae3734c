/**
 * WebRTC load benchmark: a real appliance process (`edgevox serve`) takes N simultaneous web callers
 * (node-webrtc peers in this process, Opus over DTLS-SRTP through mediasoup) streaming speech,
 * ramping N until the calls stop being real-time. Figures come from the appliance's /metrics (ASR
 * lag, final latency, dropped frames, node CPU/RSS), from /proc for the mediasoup worker processes
 * (CPU, RSS), from the stored calls (every call must have a transcript) and from the callers
 * themselves (setup time, how late their 10 ms send clock ran).
 */
import { readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebRtcPeer } from '../webrtc/client/peer.js';
import { loadWav48k } from '../webrtc/probeClient.js';
import type { CallerSession } from '../../appliance/webrtc/signalling.js';
import { RampPlan } from './rampPlan.js';
import { histogramDelta, scrape, startAppliance, value } from './harness.js';
import { freeLoopbackPort, histogramQuantile, parseMetrics } from './metricsScrape.js';

export interface WebRtcLoadOptions {
  steps: number[];
  /** Seconds of speech each caller streams. */
  seconds: number;
  modelsDir: string;
  sharedDir: string;
  stopAtFirstFailure: boolean;
  /** Real-time criterion: worst ASR lag behind the audio. */
  maxLagMs: number;
  /** mediasoup workers (0 = one per core). */
  workers: number;
  log: (line: string) => void;
}

export interface WebRtcStepResult {
  calls: number;
  connected: number;
  transcribed: number;
  setupP95Ms: number | null;
  finalLatencyP50Ms: number | null;
  finalLatencyP95Ms: number | null;
  finals: number;
  maxLagMs: number;
  asrDroppedFrames: number;
  /** Worst lateness of a caller's send clock (this process): above ~100 ms the bench itself is the limit. */
  senderClockLagMaxMs: number;
  applianceCpuCores: number;
  workersCpuCores: number;
  benchCpuCores: number;
  rssPeakMiB: number;
  workersRssPeakMiB: number;
  realTime: boolean;
  why: string;
}

export interface WebRtcLoadReport {
  machine: { cpus: number; node: string; loadAverage: number[] };
  seconds: number;
  workers: number;
  steps: WebRtcStepResult[];
  highestRealTimeCalls: number;
}

const CLK_TCK = 100;

/** CPU seconds and RSS bytes of the direct children of `pid` (the mediasoup workers). */
function childrenUsage(pid: number): { cpuS: number; rssBytes: number } {
  let cpuS = 0;
  let rssBytes = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== pid) continue;
      cpuS += (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
      rssBytes += Number(fields[21]) * 4096;
    } catch {
      // the process ended while we looked
    }
  }
  return { cpuS, rssBytes };
}

function percentile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function speech(sharedDir: string, seconds: number): Promise<Int16Array> {
  const clips = await Promise.all(['1.wav', '0.wav'].map((c) => loadWav48k(join(sharedDir, 'datasets', 'speech-en', c))));
  const total = Math.round(seconds * 48_000);
  const out = new Int16Array(total);
  for (let off = 0, i = 0; off < total; i++) {
    const clip = clips[i % clips.length]!;
    out.set(clip.subarray(0, Math.min(clip.length, total - off)), off);
    off += clip.length;
  }
  return out;
}

export interface WebCallerResult {
  /** The appliance's call id, null when the call was never set up. */
  callId: string | null;
  setupMs: number;
  /** Worst lateness of this caller's 10 ms send clock. */
  clockLagMs: number;
  error: string | null;
}

/**
 * One web caller (node-webrtc, Opus over DTLS-SRTP through mediasoup): joins the appliance as a
 * caller, streams `samples` (48 kHz mono) in real time, then 2 s of silence so the endpoint closes
 * the last utterance, and hangs up.
 */
export async function runWebCaller(url: string, samples: Int16Array): Promise<WebCallerResult> {
  const t0 = performance.now();
  let peer: WebRtcPeer | undefined;
  let callId: string | null = null;
  let setupMs = 0;
  let clockLagMs = 0;
  try {
    const res = await fetch(`${url}/api/v1/webrtc/caller-sessions`, { method: 'POST' });
    if (res.status !== 201) throw new Error(`caller session HTTP ${res.status}`);
    const session = (await res.json()) as CallerSession;
    peer = await WebRtcPeer.join({
      url: `${url.replace(/^http/, 'ws')}${session.signallingPath}`,
      token: session.token,
      connectTimeoutMs: 20_000,
    });
    await peer.startSending('opus');
    setupMs = performance.now() - t0;
    callId = session.callId;
    const sent = await peer.play(samples);
    clockLagMs = sent.maxClockLagMs;
    await peer.play(new Int16Array(48_000 * 2));
    await peer.hangup();
    return { callId, setupMs, clockLagMs, error: null };
  } catch (err) {
    peer?.close();
    return { callId, setupMs, clockLagMs, error: err instanceof Error ? err.message : String(err) };
  }
}

export async function runWebRtcLoad(options: WebRtcLoadOptions): Promise<WebRtcLoadReport> {
  const work = mkdtempSync(join(tmpdir(), 'evx-bench-webrtc-'));
  const samples = await speech(options.sharedDir, options.seconds);
  const sipPort = await freeLoopbackPort();
  // A bench-only appliance on loopback: no console login, admission limits out of the way.
  const app = await startAppliance(work, sipPort, options.modelsDir, [
    'console:',
    '  enabled: false',
    'webrtc:',
    `  workers: ${options.workers}`,
    '  rtcPortMin: 41000',
    '  rtcPortMax: 44999',
  ]);
  const results: WebRtcStepResult[] = [];
  try {
    const plan = new RampPlan(options.steps, { stopAtFirstFailure: options.stopAtFirstFailure });
    for (let calls = plan.next(); calls !== undefined; calls = plan.next()) {
      options.log(`step: ${calls} simultaneous web callers, ${options.seconds} s of speech each`);
      const step = await runStep(app.url, app.child.pid!, calls, samples, options);
      results.push(step);
      options.log(
        `  connected ${step.connected}/${calls}, transcribed ${step.transcribed}, final p95 ${step.finalLatencyP95Ms ?? '-'} ms, max lag ${step.maxLagMs} ms, cpu appliance ${step.applianceCpuCores.toFixed(2)} + workers ${step.workersCpuCores.toFixed(2)} (bench ${step.benchCpuCores.toFixed(2)}) cores, ${step.realTime ? 'REAL-TIME' : 'NOT real-time: ' + step.why}`,
      );
      plan.record(calls, step.realTime);
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
    workers: options.workers,
    steps: results,
    highestRealTimeCalls: ok.length ? Math.max(...ok) : 0,
  };
}

async function runStep(url: string, pid: number, calls: number, samples: Int16Array, o: WebRtcLoadOptions): Promise<WebRtcStepResult> {
  const before = parseMetrics(await scrape(url));
  const workersBefore = childrenUsage(pid);
  const benchBefore = process.cpuUsage();
  const startedAt = performance.now();
  let maxLag = 0;
  let peakRss = 0;
  let peakWorkersRss = 0;
  const sampler = setInterval(() => {
    peakWorkersRss = Math.max(peakWorkersRss, childrenUsage(pid).rssBytes);
    scrape(url)
      .then((text) => {
        const m = parseMetrics(text);
        maxLag = Math.max(maxLag, value(m, 'edgevox_asr_lag_max_seconds') * 1000);
        peakRss = Math.max(peakRss, value(m, 'process_resident_memory_bytes'));
      })
      .catch(() => undefined);
  }, 1000);
  const setups: number[] = [];
  const callIds: string[] = [];
  const failures: string[] = [];
  let clockLag = 0;
  await Promise.all(
    Array.from({ length: calls }, async (_, i) => {
      // Stagger the joins a little, as real callers would arrive.
      await new Promise((r) => setTimeout(r, i * 50));
      const r = await runWebCaller(url, samples);
      if (r.callId === null) failures.push(r.error ?? 'failed');
      else {
        setups.push(r.setupMs);
        callIds.push(r.callId);
        clockLag = Math.max(clockLag, r.clockLagMs);
        if (r.error !== null) failures.push(r.error);
      }
    }),
  );
  // Let the last finals flush (the leg's final flush after hangup) and the calls be stored.
  await new Promise((r) => setTimeout(r, 2000));
  clearInterval(sampler);
  const wallS = (performance.now() - startedAt) / 1000;
  const after = parseMetrics(await scrape(url));
  const workersAfter = childrenUsage(pid);
  const bench = process.cpuUsage(benchBefore);
  let transcribed = 0;
  for (const id of callIds) {
    const res = await fetch(`${url}/api/v1/calls/${id}`);
    if (res.status !== 200) continue;
    const call = (await res.json()) as { utterances: { text: string }[] };
    if (call.utterances.some((u) => u.text.trim() !== '')) transcribed++;
  }
  const d = (name: string) => value(after, name) - value(before, name);
  const latency = histogramDelta(before, after, 'edgevox_asr_final_latency_seconds');
  const p50 = histogramQuantile(latency, 0.5);
  const p95 = histogramQuantile(latency, 0.95);
  const dropped = d('edgevox_asr_dropped_frames_total');
  const reasons: string[] = [];
  if (failures.length > 0) reasons.push(`${failures.length} calls failed (${[...new Set(failures)].slice(0, 2).join('; ')})`);
  if (transcribed < callIds.length) reasons.push(`${callIds.length - transcribed} calls without a transcript`);
  if (dropped > 0) reasons.push(`${dropped} audio frames dropped`);
  if (maxLag > o.maxLagMs) reasons.push(`ASR lag ${Math.round(maxLag)} ms > ${o.maxLagMs} ms`);
  // The verdict is about the appliance. A late send clock in this process (a starved machine) sends
  // audio in bursts; it is reported with the failure so a bench-limited run is recognisable.
  if (reasons.length > 0 && clockLag > 200) reasons.push(`the bench's own send clock also ran ${Math.round(clockLag)} ms late`);
  const setupP95 = percentile(setups, 0.95);
  return {
    calls,
    connected: callIds.length,
    transcribed,
    setupP95Ms: setupP95 === null ? null : Math.round(setupP95),
    finalLatencyP50Ms: p50 === null ? null : Math.round(p50 * 1000),
    finalLatencyP95Ms: p95 === null ? null : Math.round(p95 * 1000),
    finals: latency.count,
    maxLagMs: Math.round(maxLag),
    asrDroppedFrames: dropped,
    senderClockLagMaxMs: Math.round(clockLag),
    applianceCpuCores: d('process_cpu_seconds_total') / wallS,
    workersCpuCores: (workersAfter.cpuS - workersBefore.cpuS) / wallS,
    benchCpuCores: (bench.user + bench.system) / 1e6 / wallS,
    rssPeakMiB: peakRss / 2 ** 20,
    workersRssPeakMiB: peakWorkersRss / 2 ** 20,
    realTime: reasons.length === 0,
    why: reasons.join('; '),
  };
}
