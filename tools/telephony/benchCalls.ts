/**
 * `make bench-sip-media`: sipp places N concurrent calls that stream speech as PCMU for D seconds
 * into an in-process SipServer (media termination only: decode + jitter buffer + sink, no ASR).
 * Prints, per N: calls attempted / completed / failed, frames delivered, dropped (lost or
 * concealed) frames, worst per-leg lag behind real time, event-loop delay p99, server CPU and RSS,
 * and the highest N that stayed real time. sipp runs on the same machine and is not counted in CPU.
 *
 * Usage: node dist/tools/telephony/benchCalls.js [--calls 50,100,200] [--seconds 20]
 *        [--clip ../shared/datasets/speech-en/0.wav]
 */
import { execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SipServer } from '../../appliance/telephony/sip-server.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
}

async function freeUdpPort(even: boolean): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve) => {
      const s = dgram.createSocket('udp4');
      s.bind(0, '127.0.0.1', () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
    if (!even || port % 2 === 0) return port;
  }
}

interface LegTrack {
  frames: number;
  concealed: number;
  firstAtMs: number;
  maxLagMs: number;
}

interface RunResult {
  calls: number;
  attempted: number;
  completed: number;
  failed: number;
  framesDelivered: number;
  droppedFrames: number;
  packetsLost: number;
  maxLagMs: number;
  loopP99Ms: number;
  cpuPctOfOneCore: number;
  rssMb: number;
  realTime: boolean;
}

async function runOnce(calls: number, seconds: number, workDir: string, scenario: string): Promise<RunResult> {
  const legs: LegTrack[] = [];
  const server = new SipServer({
    port: 0,
    rtpPortMin: 50000,
    rtpPortMax: 50000 + calls * 4 + 40,
    maxCalls: calls + 10,
    rateLimitPerSec: 0,
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
  let packetsLost = 0;
  server.events.on('call.ended', (e) => {
    if (e.reason === 'remote_bye') completed++;
    for (const l of e.legs) packetsLost += l.packetsLost;
  });
  const sipPort = await server.listen();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let peakRss = 0;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 500);
  const args = [
    `127.0.0.1:${sipPort}`,
    '-sf',
    scenario,
    '-m',
    String(calls),
    '-l',
    String(calls),
    '-r',
    String(Math.min(calls, 50)),
    '-rp',
    '1000',
    '-d',
    String(seconds * 1000),
    '-i',
    '127.0.0.1',
    '-p',
    String(await freeUdpPort(false)),
    '-mi',
    '127.0.0.1',
    '-mp',
    String(await freeUdpPort(true)),
    '-nostdin',
    '-timeout',
    `${seconds + 60}s`,
    '-timeout_error',
  ];
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn('sipp', args, { cwd: workDir, stdio: 'ignore' });
    child.on('close', resolve);
  });
  await new Promise((r) => setTimeout(r, 500));
  clearInterval(rssTimer);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  const attempted = server.counters.callsStarted + server.counters.rejectedCapacity + server.counters.rejectedOther;
  await server.close();
  const framesDelivered = legs.reduce((n, l) => n + l.frames, 0);
  const droppedFrames = legs.reduce((n, l) => n + l.concealed, 0);
  const maxLagMs = legs.reduce((m, l) => Math.max(m, l.maxLagMs), 0);
  const loopP99Ms = loop.percentile(99) / 1e6;
  const failed = calls - completed;
  const realTime = code === 0 && failed === 0 && droppedFrames <= framesDelivered * 0.001 && maxLagMs < 200 && loopP99Ms < 50;
  return {
    calls,
    attempted,
    completed,
    failed,
    framesDelivered,
    droppedFrames,
    packetsLost,
    maxLagMs: Math.round(maxLagMs),
    loopP99Ms: Math.round(loopP99Ms * 10) / 10,
    cpuPctOfOneCore: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 1000) / 10,
    rssMb: Math.round(peakRss / 1048576),
    realTime,
  };
}

async function main(): Promise<void> {
  const shared = process.env['EDGEVOX_SHARED'] ?? '../shared';
  const clip = arg('clip', path.join(shared, 'datasets/speech-en/0.wav'));
  const seconds = Number(arg('seconds', '20'));
  const sweep = arg('calls', '50,100,200').split(',').map(Number);
  const scenario = path.resolve('test/scenarios/uac-pcmu-speech.xml');
  const dir = mkdtempSync(path.join(tmpdir(), 'evx-bench-sip-'));
  try {
    // loop the clip so it covers the whole call, as raw μ-law (what sipp's rtp_stream plays)
    const clipSec = Number(execFileSync('soxi', ['-D', clip]).toString().trim());
    const repeats = Math.max(0, Math.ceil(seconds / clipSec));
    execFileSync('sox', [clip, '-r', '8000', '-c', '1', '-t', 'ul', path.join(dir, 'speech.ulaw'), 'repeat', String(repeats)]);
    console.log(
      `clip ${path.basename(clip)} looped to ${(statSync(path.join(dir, 'speech.ulaw')).size / 8000).toFixed(1)} s; ${seconds} s calls; sweep ${sweep.join(', ')}`,
    );
    console.log('calls attempted completed failed frames dropped lost maxLagMs loopP99Ms serverCPU%1core RSS_MB realtime');
    let best = 0;
    for (const n of sweep) {
      const r = await runOnce(n, seconds, dir, scenario);
      console.log(
        [
          r.calls,
          r.attempted,
          r.completed,
          r.failed,
          r.framesDelivered,
          r.droppedFrames,
          r.packetsLost,
          r.maxLagMs,
          r.loopP99Ms,
          r.cpuPctOfOneCore,
          r.rssMb,
          r.realTime ? 'yes' : 'NO',
        ]
          .map(String)
          .join('\t'),
      );
      if (r.realTime) best = Math.max(best, n);
      else break;
    }
    console.log(`highest concurrent call count that stayed real time (media only, no ASR): ${best}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
