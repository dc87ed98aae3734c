/**
 * `make bench-sip-secure`: what SIP over TLS + SRTP costs the SIP server compared with SIP over
 * UDP + plain RTP, measured in the same run. For each N, N calls stream speech as PCMU for D
 * seconds into an in-process SipServer (media termination only: SRTP, decode, jitter buffer, sink;
 * no ASR) while the box sends silence back every 20 ms; plain and secure alternate (plain, secure,
 * plain, secure, ...) so machine noise hits both. The callers are a child process
 * (benchCallers.js), so their CPU is not counted against the server.
 *
 * Per N and mode (median of --repeat runs): completed / failed calls, server CPU as % of one core
 * and in µs per call-second, event-loop delay p99, frames delivered vs expected, dropped frames,
 * worst per-leg lag behind real time, and whether it stayed real time (the same rule as
 * `make bench-sip-media`). Then the media CPU ratio at each N, cpuPerCallSecond(plain) /
 * cpuPerCallSecond(secure) (goal >= 0.85), and the highest real-time N of each mode.
 *
 * Before the sweep, one short unreported run of each mode warms the JIT and the TLS and crypto
 * code paths, so the first point does not carry them (--warmup 0 skips it). --modes secure (or
 * plain) runs one mode only, e.g. under `node --cpu-prof` to see where that mode's time goes.
 *
 * Usage: node dist/tools/telephony/benchSecureCalls.js [--calls 50,100,200] [--seconds 20]
 *        [--repeat 2] [--warmup 3] [--modes plain,secure] [--clip ../shared/datasets/speech-en/0.wav]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SRTP_SUITE_PREFERENCE } from '../../appliance/sdp/offer-answer.js';
import { SipServer } from '../../appliance/telephony/sip-server.js';
import { makeBenchCertificate, runCallerProcess, type CallerMode, type CallerReport } from './callerProcess.js';

type Mode = CallerMode;

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
}

interface LegTrack {
  frames: number;
  concealed: number;
  firstAtMs: number;
  maxLagMs: number;
}

interface RunResult {
  mode: Mode;
  calls: number;
  completed: number;
  failed: number;
  framesDelivered: number;
  framesExpected: number;
  droppedFrames: number;
  maxLagMs: number;
  loopP99Ms: number;
  cpuPctOfOneCore: number;
  cpuUsPerCallSecond: number;
  rssMb: number;
  realTime: boolean;
  callers: CallerReport | undefined;
  /** RTP packets the box accepted (SRTP: authenticated) and counted lost, over every leg. */
  boxPacketsReceived: number;
  boxPacketsLost: number;
}

function makeCertificate(dir: string): { cert: string; key: string } {
  const { certFile, keyFile } = makeBenchCertificate(dir);
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

async function runOnce(
  mode: Mode,
  calls: number,
  seconds: number,
  clip: string,
  certificate: { cert: string; key: string },
): Promise<RunResult> {
  const legs: LegTrack[] = [];
  const server = new SipServer({
    port: 0,
    transports: ['udp', 'tls'],
    tlsPort: 0,
    tls: { certificate: () => certificate },
    mediaSecurity: () => ({ policy: 'optional', suites: SRTP_SUITE_PREFERENCE }),
    rtpPortMin: 50000,
    rtpPortMax: 50000 + calls * 4 + 40,
    maxCalls: calls + 10,
    rateLimitPerSec: 0,
    maxTcpConnections: calls + 64,
    maxTcpConnectionsPerSource: calls + 10,
    qualityIntervalMs: 5000,
    sinkFactory: () => {
      const t: LegTrack = { frames: 0, concealed: 0, firstAtMs: 0, maxLagMs: 0 };
      legs.push(t);
      return {
        onFrame: (_pcm, concealed) => {
          const now = performance.now();
          if (t.frames === 0) t.firstAtMs = now;
          t.frames++;
          if (concealed) t.concealed++;
          // lag behind real time: wall time elapsed minus audio time delivered (20 ms frames)
          const lag = now - t.firstAtMs - (t.frames - 1) * 20;
          if (lag > t.maxLagMs) t.maxLagMs = lag;
        },
        close: () => {},
      };
    },
  });
  let completed = 0;
  let boxPacketsReceived = 0;
  let boxPacketsLost = 0;
  server.events.on('call.ended', (e) => {
    if (e.reason === 'remote_bye') completed++;
    for (const l of e.legs) {
      boxPacketsReceived += l.packetsReceived;
      boxPacketsLost += l.packetsLost;
    }
  });
  const sipPort = await server.listen();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let peakRss = 0;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 500);
  const { code, report: callers, stderr } = await runCallerProcess({ mode, sipPort, tlsPort: server.tlsPort, calls, seconds, clip });
  await new Promise((r) => setTimeout(r, 500));
  clearInterval(rssTimer);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  await server.close();
  if (callers === undefined) process.stderr.write(`benchCallers (${mode}, ${calls}) exited ${code}: ${stderr}\n`);
  const framesDelivered = legs.reduce((n, l) => n + l.frames, 0);
  const framesExpected = calls * Math.round((seconds * 1000) / 20);
  const droppedFrames = legs.reduce((n, l) => n + l.concealed, 0);
  const maxLagMs = legs.reduce((m, l) => Math.max(m, l.maxLagMs), 0);
  const loopP99Ms = loop.percentile(99) / 1e6;
  const failed = calls - completed;
  const cpuUs = cpu.user + cpu.system;
  const realTime =
    code === 0 &&
    failed === 0 &&
    callers?.failed === 0 &&
    droppedFrames <= framesDelivered * 0.001 &&
    maxLagMs < 200 &&
    loopP99Ms < 50 &&
    (mode === 'plain' || callers.unprotectFailures === 0);
  return {
    mode,
    calls,
    completed,
    failed,
    framesDelivered,
    framesExpected,
    droppedFrames,
    maxLagMs: Math.round(maxLagMs),
    loopP99Ms: Math.round(loopP99Ms * 10) / 10,
    cpuPctOfOneCore: Math.round((cpuUs / 1000 / wallMs) * 1000) / 10,
    cpuUsPerCallSecond: Math.round(cpuUs / (calls * seconds)),
    rssMb: Math.round(peakRss / 1048576),
    realTime,
    callers,
    boxPacketsReceived,
    boxPacketsLost,
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The median run of one point: each figure's median; real time only when every repeat was. */
interface Point {
  mode: Mode;
  calls: number;
  repeats: number;
  realTimeRuns: number;
  completed: number;
  failed: number;
  framesDelivered: number;
  framesExpected: number;
  droppedFrames: number;
  maxLagMs: number;
  loopP99Ms: number;
  cpuPctOfOneCore: number;
  cpuUsPerCallSecond: number;
  rssMb: number;
  callerToBox: string;
  boxToCaller: number;
  unprotectFailures: number;
  callerCpuPct: number;
  callerLateFrames: number;
}

function summarize(runs: RunResult[]): Point {
  const m = (f: (r: RunResult) => number) => Math.round(median(runs.map(f)) * 10) / 10;
  return {
    mode: runs[0]!.mode,
    calls: runs[0]!.calls,
    repeats: runs.length,
    realTimeRuns: runs.filter((r) => r.realTime).length,
    completed: m((r) => r.completed),
    failed: m((r) => r.failed),
    framesDelivered: m((r) => r.framesDelivered),
    framesExpected: runs[0]!.framesExpected,
    droppedFrames: m((r) => r.droppedFrames),
    maxLagMs: m((r) => r.maxLagMs),
    loopP99Ms: m((r) => r.loopP99Ms),
    cpuPctOfOneCore: m((r) => r.cpuPctOfOneCore),
    cpuUsPerCallSecond: m((r) => r.cpuUsPerCallSecond),
    rssMb: m((r) => r.rssMb),
    callerToBox: `${m((r) => r.callers?.packetsSent ?? 0)}/${m((r) => r.boxPacketsReceived)}/${m((r) => r.boxPacketsLost)}`,
    boxToCaller: m((r) => r.callers?.packetsReceivedFromBox ?? 0),
    unprotectFailures: m((r) => r.callers?.unprotectFailures ?? 0),
    callerCpuPct: m((r) => r.callers?.callerCpuPctOfOneCore ?? 0),
    callerLateFrames: m((r) => r.callers?.lateFrames ?? 0),
  };
}

const COLUMNS = [
  'mode',
  'completed/failed',
  'CPU%1core',
  'CPUus/call-s',
  'loopP99ms',
  'frames(deliv/exp)',
  'dropped',
  'maxLagMs',
  'RSS_MB',
  'caller->box(sent/recv/lost)',
  'box->caller(ok/unprotectFail)',
  'callerCPU%',
  'realtime',
];

function row(p: Point): string[] {
  return [
    p.mode,
    `${p.completed}/${p.failed}`,
    String(p.cpuPctOfOneCore),
    String(p.cpuUsPerCallSecond),
    String(p.loopP99Ms),
    `${p.framesDelivered}/${p.framesExpected}`,
    String(p.droppedFrames),
    String(p.maxLagMs),
    String(p.rssMb),
    p.callerToBox,
    `${p.boxToCaller}/${p.unprotectFailures}`,
    String(p.callerCpuPct),
    p.realTimeRuns === p.repeats ? 'yes' : `NO (${p.realTimeRuns}/${p.repeats})`,
  ];
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((v, c) => v.padEnd(widths[c]!)).join('  ')).join('\n');
}

/** Highest N of a sweep such that it and every smaller N stayed real time. */
function highestRealTime(points: Point[]): number {
  let best = 0;
  for (const p of [...points].sort((a, b) => a.calls - b.calls)) {
    if (p.realTimeRuns !== p.repeats) break;
    best = p.calls;
  }
  return best;
}

async function main(): Promise<void> {
  const shared = process.env['EDGEVOX_SHARED'] ?? '../shared';
  const clipWav = arg('clip', path.join(shared, 'datasets/speech-en/0.wav'));
  const seconds = Number(arg('seconds', '20'));
  const repeat = Math.max(1, Number(arg('repeat', '2')));
  const sweep = arg('calls', '50,100,200').split(',').map(Number);
  const warmupSeconds = Number(arg('warmup', '3'));
  const modes = arg('modes', 'plain,secure')
    .split(',')
    .filter((m): m is Mode => m === 'plain' || m === 'secure');
  if (modes.length === 0) throw new Error('--modes: plain, secure or both');
  const cpus = os.cpus();
  console.log(
    `machine: ${cpus.length} CPUs (${cpus[0]?.model.trim() ?? '?'}), node ${process.version}, ` +
      `loadavg ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}, ${os.platform()} ${os.release()}`,
  );
  const dir = mkdtempSync(path.join(os.tmpdir(), 'evx-bench-sip-secure-'));
  try {
    const clip = path.join(dir, 'speech.ulaw');
    execFileSync('sox', [clipWav, '-r', '8000', '-c', '1', '-t', 'ul', clip]);
    const certificate = makeCertificate(dir);
    console.log(
      `clip ${path.basename(clipWav)} (looped by the callers); ${seconds} s calls; sweep ${sweep.join(', ')}; ${repeat} run(s) per point, median shown; ` +
        'plain = SIP/UDP + RTP/AVP, secure = SIP/TLS (self-signed P-256) + RTP/SAVP AES_CM_128_HMAC_SHA1_80 both ways',
    );
    if (warmupSeconds > 0) {
      for (const mode of modes) await runOnce(mode, Math.min(10, sweep[0] ?? 10), warmupSeconds, clip, certificate);
    }
    const points: Record<Mode, Point[]> = { plain: [], secure: [] };
    const ratios: string[] = [];
    for (const n of sweep) {
      const runs: Record<Mode, RunResult[]> = { plain: [], secure: [] };
      for (let i = 0; i < repeat; i++) {
        for (const mode of modes) {
          const r = await runOnce(mode, n, seconds, clip, certificate);
          runs[mode].push(r);
          const c = r.callers;
          if (c !== undefined && (c.failed > 0 || c.lateFrames > 0)) {
            console.log(
              `  (${mode} ${n} run ${i + 1}: callers failed ${c.failed} ${JSON.stringify(c.failures)}, late frames ${c.lateFrames}, max send lateness ${c.maxSendLateMs} ms)`,
            );
          }
        }
      }
      console.log(`\nN = ${n}`);
      const done = modes.map((mode) => summarize(runs[mode]));
      for (const pt of done) points[pt.mode].push(pt);
      console.log(table([COLUMNS, ...done.map(row)]));
      const p = done.find((x) => x.mode === 'plain');
      const s = done.find((x) => x.mode === 'secure');
      if (p === undefined || s === undefined) continue;
      const ratio = p.cpuUsPerCallSecond / s.cpuUsPerCallSecond;
      const line = `media CPU ratio (secure/plain) at ${n} = cpuPerCallSecond(plain)/cpuPerCallSecond(secure) = ${p.cpuUsPerCallSecond}/${s.cpuUsPerCallSecond} = ${ratio.toFixed(3)}${ratio >= 0.85 ? '' : '  (below the 0.85 goal)'}`;
      console.log(line);
      ratios.push(line);
    }
    console.log('\nsummary');
    for (const l of ratios) console.log(l);
    const bp = highestRealTime(points.plain);
    const bs = highestRealTime(points.secure);
    const of = (mode: Mode, n: number) => (modes.includes(mode) ? String(n) : '-');
    const best = modes.length === 2 && bp > 0 ? (bs / bp).toFixed(2) : '-';
    console.log(
      `highest real-time N (media only, no ASR): plain ${of('plain', bp)}, secure ${of('secure', bs)}; ratio secure/plain ${best}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
