/**
 * make bench-cluster: capacity through the Kamailio front with two boxes, against one box called
 * directly, in the same run on the same machine. Each step places N concurrent sipp calls streaming
 * speech for `seconds` (half to each partition's DID through the front); a step is real-time when no
 * call failed and the worst recognition lag of every box stayed within `--max-lag-s`. Prints per
 * step the calls per box, failures, worst lag, call set-up time (sipp's INVITE -> 200) and the front's
 * CPU, then the highest real-time N of each layout.
 *
 * On one machine both boxes share its cores: this shows the front's overhead (CPU per call, set-up
 * time), not scale. Per-box scaling is estimated from it: with each box on its own machine, the
 * cluster carries about (boxes x one box's capacity), less what the front costs (it does SIP only).
 *
 *   node dist/tools/cluster/benchCluster.js [--steps 20,40,60] [--seconds 20] [--max-lag-s 1.5]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../../appliance/buildInfo.js';
import { makeCallerAudio, runSipp, scrape, value } from '../bench/harness.js';
import { freeLoopbackPort, parseMetrics } from '../bench/metricsScrape.js';
import { haveKamailio, startKamailioFront, waitForBoxes, type KamailioFront } from './kamailioFront.js';

const DIDS = ['+15550101000', '+15550201000'];

interface Box {
  readonly name: string;
  readonly sipPort: number;
  readonly url: string;
  readonly child: ChildProcess;
}

/** A free port outside the box's WebRTC range (40000-40999 by default). */
async function sipPortOutsideWebRtc(): Promise<number> {
  for (;;) {
    const port = await freeLoopbackPort();
    if (port < 40000 || port > 40999) return port;
  }
}

async function startBox(name: string, work: string, rtpMin: number, modelsDir: string): Promise<Box> {
  const sipPort = await sipPortOutsideWebRtc();
  const child = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'bin', 'edgevox.js'),
      'serve',
      '--data-dir',
      mkdtempSync(join(work, `${name}-`)),
      '--http-port',
      '0',
      '--sip-port',
      String(sipPort),
      '--models-dir',
      modelsDir,
      '--log-level',
      'warn',
    ],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        EDGEVOX_SIP_RTP_PORT_MIN: String(rtpMin),
        EDGEVOX_SIP_RTP_PORT_MAX: String(rtpMin + 3999),
        EDGEVOX_SIP_RATE_LIMIT_PER_SEC: '0',
        EDGEVOX_CONSOLE_HTTPS_PORT: '-1',
        EDGEVOX_CALLS_MAX_CONCURRENT: '2000',
        EDGEVOX_CALLS_MAX_LAG_MS: '60000',
      },
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /serving on (http:\/\/\S+)/.exec(err);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${err.slice(-2000)}`)));
  });
  return { name, sipPort, url, child };
}

async function stopBox(b: Box): Promise<void> {
  if (b.child.exitCode !== null) return;
  b.child.kill('SIGTERM');
  await new Promise((r) => b.child.once('exit', r));
}

/** CPU seconds of a process and its children (Kamailio's workers are its children). */
function cpuSeconds(rootPid: number): number {
  const tick = 100;
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(fields[1]);
      if (Number(entry) === rootPid || ppid === rootPid) total += (Number(fields[11]) + Number(fields[12])) / tick;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

async function started(b: Box): Promise<number> {
  const m = parseMetrics(await scrape(b.url));
  return m.filter((s) => s.name === 'edgevox_calls_started_total').reduce((a, s) => a + s.value, 0);
}

interface Step {
  layout: string;
  calls: number;
  perBox: number[];
  failed: number;
  maxLagMs: number;
  setupMsAvg: number;
  frontCpuS: number;
  realTime: boolean;
}

/** One step: `calls` calls spread over `targets` (sipp target, DID), all at once; the boxes' worst lag sampled each second. */
async function step(
  layout: string,
  calls: number,
  seconds: number,
  maxLagS: number,
  boxes: readonly Box[],
  targets: readonly { target: string; did: string }[],
  groupDirs: readonly string[],
  frontPid: number | undefined,
): Promise<Step> {
  const before = await Promise.all(boxes.map(started));
  const cpu0 = frontPid === undefined ? 0 : cpuSeconds(frontPid);
  let maxLagMs = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const b of boxes) {
        const m = parseMetrics(await scrape(b.url).catch(() => ''));
        maxLagMs = Math.max(maxLagMs, value(m, 'edgevox_asr_lag_max_seconds') * 1000);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  const runs = await Promise.all(
    targets.map(async (t, i) => {
      const n = Math.floor(calls / targets.length) + (i < calls % targets.length ? 1 : 0);
      const dir = groupDirs[i % groupDirs.length]!;
      const r = await runSipp(
        [
          t.target,
          '-sf',
          join(REPO_ROOT, 'test', 'scenarios', 'uac-did-via-front.xml'),
          '-s',
          t.did,
          '-m',
          String(n),
          '-l',
          String(n),
          '-r',
          String(Math.max(1, Math.round(n / 4))),
          '-d',
          String(seconds * 1000),
          '-i',
          '127.0.0.1',
          '-p',
          String(await freeLoopbackPort()),
          '-mi',
          '127.0.0.1',
          '-mp',
          String(50000 + i * 4000),
          '-timeout',
          `${seconds * 3 + 30}s`,
          '-trace_rtt',
          '-rtt_freq',
          '1',
        ],
        dir,
      );
      return { ...r, rtt: readRtt(dir) };
    }),
  );
  sampling = false;
  await sampler;
  const after = await Promise.all(boxes.map(started));
  const failed = runs.reduce((a, r) => a + r.failed + (r.attempted - r.completed - r.failed), 0);
  const rtts = runs.flatMap((r) => r.rtt);
  const setupMsAvg = rtts.length === 0 ? NaN : rtts.reduce((a, v) => a + v, 0) / rtts.length;
  return {
    layout,
    calls,
    perBox: after.map((v, i) => v - before[i]!),
    failed,
    maxLagMs: Math.round(maxLagMs),
    setupMsAvg,
    frontCpuS: frontPid === undefined ? 0 : cpuSeconds(frontPid) - cpu0,
    realTime: failed === 0 && maxLagMs <= maxLagS * 1000,
  };
}

/** sipp's -trace_rtt files in `dir`: response times (ms) of the INVITEs (rtd="true" on the 200), then removed. */
function readRtt(dir: string): number[] {
  const out: number[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('_rtt.csv')) continue;
    const lines = readFileSync(join(dir, f), 'utf8').split('\n');
    lines.shift(); // Date_ms;response_time_ms;rtd_no
    for (const l of lines) {
      const v = Number(l.split(';')[1]);
      if (Number.isFinite(v) && l.trim() !== '') out.push(v);
    }
    rmSync(join(dir, f));
  }
  return out;
}

function line(s: Step): string {
  return (
    `${s.layout.padEnd(22)} N=${String(s.calls).padStart(4)}  per box ${s.perBox.join('/').padEnd(9)} failed ${String(s.failed).padStart(3)}  ` +
    `max lag ${String(s.maxLagMs).padStart(6)} ms  set-up ${Number.isNaN(s.setupMsAvg) ? '-' : s.setupMsAvg.toFixed(1)} ms  ` +
    `front CPU ${s.frontCpuS.toFixed(2)} s  ${s.realTime ? 'real-time' : 'NOT real-time'}`
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      steps: { type: 'string', default: '20,40,60,80,100,120' },
      seconds: { type: 'string', default: '20' },
      'max-lag-s': { type: 'string', default: '1.5' },
      shared: { type: 'string', default: process.env['EDGEVOX_SHARED'] ?? join(REPO_ROOT, '..', 'shared') },
    },
  });
  if (!haveKamailio()) throw new Error('bench-cluster needs kamailio (Debian package kamailio; make setup installs it)');
  const steps = values.steps.split(',').map(Number);
  const seconds = Number(values.seconds);
  const maxLagS = Number(values['max-lag-s']);
  const modelsDir = join(values.shared, 'models');
  const work = mkdtempSync(join(tmpdir(), 'evx-bench-cluster-'));
  const groupDirs = makeCallerAudio(join(work, 'audio'), values.shared, seconds, 1, 2);
  const results: Step[] = [];
  const log = (s: string): void => void process.stdout.write(s + '\n');
  log(
    `bench-cluster: steps ${steps.join(', ')} concurrent calls of ${seconds} s speech; real-time = no failed call and lag <= ${maxLagS} s`,
  );
  const boxes: Box[] = [];
  let front: KamailioFront | undefined;
  try {
    // one box, called directly
    const solo = await startBox('box-a', work, 20000, modelsDir);
    boxes.push(solo);
    for (const n of steps) {
      const s = await step(
        'one box direct',
        n,
        seconds,
        maxLagS,
        [solo],
        DIDS.map((did) => ({ target: `127.0.0.1:${solo.sipPort}`, did })),
        groupDirs,
        undefined,
      );
      results.push(s);
      log(line(s));
      if (!s.realTime) break;
    }
    await stopBox(solo);
    // two boxes behind the front, one partition each
    const a = await startBox('box-a', work, 20000, modelsDir);
    const b = await startBox('box-b', work, 24000, modelsDir);
    boxes.push(a, b);
    front = await startKamailioFront({
      port: await freeLoopbackPort(),
      boxes: [
        { name: a.name, sipPort: a.sipPort, sets: { 1: 10, 2: 5 } },
        { name: b.name, sipPort: b.sipPort, sets: { 2: 10, 1: 5 } },
      ],
    });
    await waitForBoxes(front, [a.name, b.name], 'A');
    const frontPid = Number(readFileSync(join(front.dir, 'kamailio.pid'), 'utf8').trim());
    for (const n of steps) {
      const s = await step(
        'two boxes via Kamailio',
        n,
        seconds,
        maxLagS,
        [a, b],
        DIDS.map((did) => ({ target: `127.0.0.1:${front!.port}`, did })),
        groupDirs,
        frontPid,
      );
      results.push(s);
      log(line(s));
      if (!s.realTime) break;
    }
  } finally {
    for (const b of boxes) await stopBox(b);
    await front?.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const best = (layout: string): number => Math.max(0, ...results.filter((r) => r.layout === layout && r.realTime).map((r) => r.calls));
  const solo = best('one box direct');
  const pair = best('two boxes via Kamailio');
  const viaFront = results.filter((r) => r.layout !== 'one box direct' && r.frontCpuS > 0);
  const cpuPerCall =
    viaFront.reduce((a, r) => a + r.frontCpuS, 0) /
    Math.max(
      1,
      viaFront.reduce((a, r) => a + r.calls, 0),
    );
  log(`highest real-time N: one box direct ${solo}, two boxes via Kamailio ${pair} (same machine, shared cores)`);
  log(
    `front CPU per call (set-up + teardown): ${(cpuPerCall * 1000).toFixed(2)} ms; on one machine both boxes share its cores, so this shows overhead, not scale. ` +
      `Estimate with a machine per box: about 2 x ${solo} = ${2 * solo} calls for two boxes, the front (SIP only) far from its limit at ${(cpuPerCall * 1000).toFixed(2)} ms CPU per call`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-cluster: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
