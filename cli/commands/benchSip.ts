/** `edgevox bench-sip`: ramp concurrent sipp calls into a real appliance; print the real-time figures. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../../appliance/buildInfo.js';
import { runSipLoad, type SipLoadReport } from '../../tools/bench/sipLoad.js';
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
  --secure-vs-plain  each step twice, by our own callers: SIP/UDP + RTP, then SIP/TLS + SRTP
                   (AES_CM_128_HMAC_SHA1_80), against the same appliance; prints the capacity ratio
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
      'secure-vs-plain': { type: 'boolean' },
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
      ...(values['secure-vs-plain'] === true ? { callers: ['plain', 'secure'] as const } : {}),
      log: (line) => io.out(line + '\n'),
    });
    const out = resolve(values.out ?? join(REPO_ROOT, 'test', 'bench-results', 'bench-sip.json'));
    mkdirSync(join(out, '..'), { recursive: true });
    writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), ...report }, null, 2) + '\n');
    io.out(
      '\n| callers | calls | completed | failed | final p50 ms | final p95 ms | max lag ms | dropped frames | CPU cores | RSS MiB | RSS/call MiB | real-time |\n',
    );
    io.out('|---|---|---|---|---|---|---|---|---|---|---|---|\n');
    for (const s of report.steps) {
      io.out(
        `| ${s.caller} | ${s.calls} | ${s.completed} | ${s.failed} | ${s.finalLatencyP50Ms ?? '-'} | ${s.finalLatencyP95Ms ?? '-'} | ${s.maxLagMs} | ${s.asrDroppedFrames} | ${s.cpuCoresUsed.toFixed(2)} | ${s.rssPeakMiB.toFixed(0)} | ${s.rssPerCallMiB.toFixed(2)} | ${s.realTime ? 'yes' : 'no: ' + s.why} |\n`,
      );
    }
    if (values['secure-vs-plain'] === true) io.out(secureVsPlain(report));
    io.out(
      `\nhighest real-time concurrent calls: ${report.highestRealTimeCalls} (${report.machine.cpus} CPUs, ${report.seconds} s calls); results in ${out}\n`,
    );
    return 0;
  },
};

/** Capacity ratio secure/plain (highest real-time N) and CPU per call at each N both kept real time. */
function secureVsPlain(report: SipLoadReport): string {
  const plain = report.highestRealTimeByCaller.plain ?? 0;
  const secure = report.highestRealTimeByCaller.secure ?? 0;
  const lines = [
    `\nhighest real-time N: plain (UDP + RTP) ${plain}, secure (TLS + SRTP) ${secure}; capacity ratio secure/plain ${plain > 0 ? (secure / plain).toFixed(2) : '-'} (goal >= 0.85)`,
  ];
  for (const p of report.steps.filter((s) => s.caller === 'plain' && s.realTime)) {
    const s = report.steps.find((x) => x.caller === 'secure' && x.calls === p.calls && x.realTime);
    if (s === undefined) continue;
    lines.push(
      `at ${p.calls} calls: CPU cores plain ${p.cpuCoresUsed.toFixed(2)}, secure ${s.cpuCoresUsed.toFixed(2)}; CPU ratio plain/secure ${(p.cpuCoresUsed / s.cpuCoresUsed).toFixed(2)}`,
    );
  }
  return lines.join('\n') + '\n';
}
