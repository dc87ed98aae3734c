/** `edgevox bench-sip`: ramp concurrent sipp calls into a real appliance; print the real-time figures. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../../appliance/buildInfo.js';
import { runSipLoad } from '../../tools/bench/sipLoad.js';
import type { CliCommand } from '../command.js';
import { parseCli } from '../parse.js';

export const benchSipCommand: CliCommand = {
  name: 'bench-sip',
  summary: 'benchmark: N concurrent sipp calls streaming speech into a real appliance (make bench-sip)',
  usage: `usage: edgevox bench-sip [--steps 10,25,50,100] [--seconds 60] [--all-steps] [--out FILE]
  --steps LIST     concurrent calls per step (default 10,25,50,75,100,125,150)
  --seconds S      how long each call streams speech (default 60)
  --max-lag-ms MS  real-time criterion: worst recognition lag (default 1000)
  --speech-ratio R fraction of each call that is speech: 1 = continuous (worst case, default),
                   0.5 = call-like (the caller is quiet while the other party talks)
  --groups G       caller groups at different points of the talk/listen cycle (default 8;
                   1 = every call talks and pauses in step, the worst case)
  --all-steps      keep ramping after a step that is not real-time
  --out FILE       JSON results (default test/bench-results/bench-sip.json)
  --models-dir DIR --shared-dir DIR`,
  async run(argv, io) {
    const { values } = parseCli(argv, {
      steps: { type: 'string' },
      seconds: { type: 'string' },
      'max-lag-ms': { type: 'string' },
      'speech-ratio': { type: 'string' },
      groups: { type: 'string' },
      'all-steps': { type: 'boolean' },
      out: { type: 'string' },
      'models-dir': { type: 'string' },
      'shared-dir': { type: 'string' },
    });
    const shared = resolve(values['shared-dir'] ?? join(REPO_ROOT, '..', 'shared'));
    const report = await runSipLoad({
      steps: (values.steps ?? '10,25,50,75,100,125,150')
        .split(',')
        .map(Number)
        .filter((n) => n > 0),
      seconds: Number(values.seconds ?? 60),
      modelsDir: resolve(values['models-dir'] ?? join(shared, 'models')),
      sharedDir: shared,
      stopAtFirstFailure: !values['all-steps'],
      maxLagS: Number(values['max-lag-ms'] ?? 1000) / 1000,
      speechRatio: Math.min(1, Math.max(0.05, Number(values['speech-ratio'] ?? 1))),
      groups: Math.max(1, Number(values.groups ?? 8)),
      webCallers: 0,
      log: (line) => io.out(line + '\n'),
    });
    const out = resolve(values.out ?? join(REPO_ROOT, 'test', 'bench-results', 'bench-sip.json'));
    mkdirSync(join(out, '..'), { recursive: true });
    writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), ...report }, null, 2) + '\n');
    io.out(
      '\n| calls | completed | failed | final p50 ms | final p95 ms | max lag ms | dropped frames | CPU cores | RSS MiB | RSS/call MiB | real-time |\n',
    );
    io.out('|---|---|---|---|---|---|---|---|---|---|---|\n');
    for (const s of report.steps) {
      io.out(
        `| ${s.calls} | ${s.completed} | ${s.failed} | ${s.finalLatencyP50Ms ?? '-'} | ${s.finalLatencyP95Ms ?? '-'} | ${s.maxLagMs} | ${s.asrDroppedFrames} | ${s.cpuCoresUsed.toFixed(2)} | ${s.rssPeakMiB.toFixed(0)} | ${s.rssPerCallMiB.toFixed(2)} | ${s.realTime ? 'yes' : 'no: ' + s.why} |\n`,
      );
    }
    io.out(
      `\nhighest real-time concurrent calls: ${report.highestRealTimeCalls} (${report.machine.cpus} CPUs, ${report.seconds} s calls); results in ${out}\n`,
    );
    return 0;
  },
};
