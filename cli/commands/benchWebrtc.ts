/** `edgevox bench-webrtc`: N simultaneous node-webrtc callers into a real appliance; the real-time figures. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../../appliance/buildInfo.js';
import { runWebRtcLoad } from '../../tools/bench/webrtcLoad.js';
import { evxError } from '../../appliance/errors.js';
import { exitNowAfterNodeWebrtc, type CliCommand } from '../command.js';
import { parseCli } from '../parse.js';

export const benchWebrtcCommand: CliCommand = {
  name: 'bench-webrtc',
  summary: 'benchmark: N simultaneous WebRTC callers streaming speech into a real appliance (make bench-webrtc)',
  usage: `usage: edgevox bench-webrtc [--steps 1,2,4,8] [--seconds 20] [--workers 0] [--all-steps] [--out FILE]
  --steps LIST     simultaneous callers per step (default 1,2,4,6,8,12,16)
  --seconds S      seconds of speech each caller streams (default 20)
  --workers N      mediasoup workers of the appliance (default 0 = one per core)
  --max-lag-ms MS  real-time criterion: worst recognition lag (default 1000)
  --all-steps      keep ramping after a step that is not real-time
  --out FILE       JSON results (default test/bench-results/bench-webrtc.json)
  --models-dir DIR --shared-dir DIR`,
  async run(argv, io) {
    const { values } = parseCli(argv, {
      steps: { type: 'string' },
      seconds: { type: 'string' },
      workers: { type: 'string' },
      'max-lag-ms': { type: 'string' },
      'all-steps': { type: 'boolean' },
      out: { type: 'string' },
      'models-dir': { type: 'string' },
      'shared-dir': { type: 'string' },
    });
    const steps = (values.steps ?? '1,2,4,6,8,12,16').split(',').map(Number);
    if (steps.some((n) => !Number.isInteger(n) || n <= 0)) throw evxError('EVX_ERR_CLI_USAGE', '--steps is a list of positive integers');
    const seconds = Number(values.seconds ?? 20);
    if (!(seconds >= 2 && seconds <= 600)) throw evxError('EVX_ERR_CLI_USAGE', '--seconds is 2..600');
    const workers = Number(values.workers ?? 0);
    if (!Number.isInteger(workers) || workers < 0) throw evxError('EVX_ERR_CLI_USAGE', '--workers is 0 or more');
    const shared = resolve(values['shared-dir'] ?? join(REPO_ROOT, '..', 'shared'));
    const report = await runWebRtcLoad({
      steps,
      seconds,
      workers,
      modelsDir: resolve(values['models-dir'] ?? join(shared, 'models')),
      sharedDir: shared,
      stopAtFirstFailure: !values['all-steps'],
      maxLagMs: Number(values['max-lag-ms'] ?? 1000),
      log: (line) => io.out(line + '\n'),
    });
    const out = resolve(values.out ?? join(REPO_ROOT, 'test', 'bench-results', 'bench-webrtc.json'));
    mkdirSync(join(out, '..'), { recursive: true });
    writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), ...report }, null, 2) + '\n');
    const f = (v: number | null) => (v === null ? '-' : String(v));
    io.out(
      '\n| callers | connected | transcribed | setup p95 ms | final p50 ms | final p95 ms | max ASR lag ms | dropped | send clock lag ms | appliance CPU | workers CPU | bench CPU | RSS MiB | workers RSS MiB | real-time |\n',
    );
    io.out('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n');
    for (const s of report.steps) {
      io.out(
        `| ${s.calls} | ${s.connected} | ${s.transcribed} | ${f(s.setupP95Ms)} | ${f(s.finalLatencyP50Ms)} | ${f(s.finalLatencyP95Ms)} | ${s.maxLagMs} | ${s.asrDroppedFrames} | ${s.senderClockLagMaxMs} | ${s.applianceCpuCores.toFixed(2)} | ${s.workersCpuCores.toFixed(2)} | ${s.benchCpuCores.toFixed(2)} | ${s.rssPeakMiB.toFixed(0)} | ${s.workersRssPeakMiB.toFixed(0)} | ${s.realTime ? 'yes' : 'no: ' + s.why} |\n`,
      );
    }
    const firstMiss = report.steps.find((st) => !st.realTime);
    if (firstMiss !== undefined && firstMiss.calls < report.highestRealTimeCalls)
      io.out(`\nnote: ${firstMiss.calls} callers already missed once (${firstMiss.why}): the figures are noisy on a shared machine\n`);
    io.out(
      `\nhighest real-time N: ${report.highestRealTimeCalls} simultaneous web callers (${report.machine.cpus} cores, load ${report.machine.loadAverage.map((l) => l.toFixed(1)).join(' ')})\nresults: ${out}\n`,
    );
    return exitNowAfterNodeWebrtc(io, 0);
  },
};
