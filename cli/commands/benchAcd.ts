/** `edgevox bench-acd`: the box in ACD mode under N callers and N registered agents' phones, next to the analysis-only capacity (make bench-acd). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../../appliance/buildInfo.js';
import { runAcdBench, type AcdBenchReport } from '../../tools/bench/acdLoad.js';
import type { CliCommand } from '../command.js';
import { parseCli } from '../parse.js';

export const benchAcdCommand: CliCommand = {
  name: 'bench-acd',
  summary:
    "benchmark: ACD mode, N callers routed and bridged to N registered agents' phones, vs the analysis-only capacity (make bench-acd)",
  usage: `usage: edgevox bench-acd [--steps 4,8,16,24] [--seconds 20] [--all-steps] [--no-compare] [--out FILE]
  --steps LIST          concurrent calls (and agents' phones) per step (default 4,8,16,24)
  --seconds S           how long each call stays bridged to its agent; also the analysis-only call length (default 20)
  --speech-seconds S    caller speech before the first marker tone (the routing utterance; default 6)
  --bridge-timeout S    a call not bridged this long after the box answered it fails (default 60)
  --marker-interval-ms  one tagged 100 ms 1 kHz marker per interval once the caller has spoken (default 1000)
  --max-lag-ms MS       real-time criterion: worst recognition lag (default 1000, as make bench)
  --max-final-p95-ms MS real-time criterion: final-transcript p95 (default 500, as make bench)
  --delay-target-ms MS  caller->agent delay p95 target, reported per step (default 40)
  --all-steps           keep ramping after a step that is not real-time
  --no-compare          skip the analysis-only steps (default mode) of the same run
  --out FILE            JSON results (default test/bench-results/bench-acd.json)
  --models-dir DIR --shared-dir DIR`,
  async run(argv, io) {
    const { values } = parseCli(argv, {
      steps: { type: 'string' },
      seconds: { type: 'string' },
      'speech-seconds': { type: 'string' },
      'bridge-timeout': { type: 'string' },
      'marker-interval-ms': { type: 'string' },
      'max-lag-ms': { type: 'string' },
      'max-final-p95-ms': { type: 'string' },
      'delay-target-ms': { type: 'string' },
      'all-steps': { type: 'boolean' },
      'no-compare': { type: 'boolean' },
      out: { type: 'string' },
      'models-dir': { type: 'string' },
      'shared-dir': { type: 'string' },
    });
    const shared = resolve(values['shared-dir'] ?? join(REPO_ROOT, '..', 'shared'));
    const delayTarget = Number(values['delay-target-ms'] ?? 40);
    const report = await runAcdBench({
      steps: (values.steps ?? '4,8,16,24')
        .split(',')
        .map(Number)
        .filter((n) => n > 0),
      seconds: Number(values.seconds ?? 20),
      speechSeconds: Number(values['speech-seconds'] ?? 6),
      bridgeTimeoutSeconds: Number(values['bridge-timeout'] ?? 60),
      markerIntervalMs: Number(values['marker-interval-ms'] ?? 1000),
      maxLagS: Number(values['max-lag-ms'] ?? 1000) / 1000,
      maxFinalP95Ms: Number(values['max-final-p95-ms'] ?? 500),
      delayTargetP95Ms: delayTarget,
      stopAtFirstFailure: values['all-steps'] !== true,
      compare: values['no-compare'] !== true,
      modelsDir: resolve(values['models-dir'] ?? join(shared, 'models')),
      sharedDir: shared,
      log: (line) => io.out(line + '\n'),
    });
    const out = resolve(values.out ?? join(REPO_ROOT, 'test', 'bench-results', 'bench-acd.json'));
    mkdirSync(join(out, '..'), { recursive: true });
    writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), delayTargetP95Ms: delayTarget, ...report }, null, 2) + '\n');
    io.out(tables(report, delayTarget));
    io.out(`results in ${out}\n`);
    return 0;
  },
};

const f = (v: number | null): string => (v === null ? '-' : String(v));

function tables(r: AcdBenchReport, delayTarget: number): string {
  const lines = [
    '',
    `ACD mode (${r.machine.cpus} CPUs; each call bridged ${r.seconds} s; delay = caller's socket -> box -> agent's socket, per marker tone; floor = direct loopback in the peers' process at the same time):`,
    '',
    '| calls | agents registered | answered by box | agent INVITEs | bridged | completed | answer->agent INVITE p50 / p95 ms | delay p50 / p95 / max ms | floor p50 / p95 ms | box adds p50 / p95 ms | markers received / sent while bridged | final p95 ms | max lag ms | dropped frames | CPU cores | RSS MiB | real-time |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...r.steps.map(
      (s) =>
        `| ${s.calls} | ${s.agentsRegistered} | ${s.answeredByBox} | ${s.agentInvites} | ${s.bridged} | ${s.completed} | ${f(s.answerToAgentInvite.p50Ms)} / ${f(s.answerToAgentInvite.p95Ms)} | ${f(s.markerDelay.p50Ms)} / ${f(s.markerDelay.p95Ms)} / ${f(s.markerDelay.maxMs)} | ${f(s.loopbackDelay.p50Ms)} / ${f(s.loopbackDelay.p95Ms)} | ${f(s.boxAddedP50Ms)} / ${f(s.boxAddedP95Ms)} | ${s.markers.receivedBridged} / ${s.markers.sentBridged} | ${f(s.finalLatencyP95Ms)} | ${s.maxLagMs} | ${s.asrDroppedFrames} | ${s.cpuCoresUsed.toFixed(2)} | ${s.rssPeakMiB.toFixed(0)} | ${s.realTime ? 'yes' : 'no: ' + s.why}${s.rerun ? ' (second run: the peers fell behind in the first)' : ''} |`,
    ),
  ];
  if (r.analysisOnly !== null) {
    lines.push(
      '',
      'Analysis only (default pbx mode, our plain callers, same steps, same run):',
      '',
      '| calls | completed | failed | final p95 ms | max lag ms | dropped frames | CPU cores | RSS MiB | real-time |',
      '|---|---|---|---|---|---|---|---|---|',
      ...r.analysisOnly.steps.map(
        (s) =>
          `| ${s.calls} | ${s.completed} | ${s.failed} | ${f(s.finalLatencyP95Ms)} | ${s.maxLagMs} | ${s.asrDroppedFrames} | ${s.cpuCoresUsed.toFixed(2)} | ${s.rssPeakMiB.toFixed(0)} | ${s.realTime ? 'yes' : 'no: ' + s.why}${r.analysisOnlyRerun.includes(s.calls) ? ' (second run: our callers fell behind in the first)' : ''} |`,
      ),
    );
  }
  const top = r.steps.filter((s) => s.realTime).sort((a, b) => b.calls - a.calls)[0];
  const steps = r.steps.map((s) => s.calls);
  const capped = (n: number | null): string =>
    n !== null && n > 0 && n === Math.max(...steps) ? ` (the largest step: capacity is at least this)` : '';
  lines.push(
    '',
    `load average (1, 5, 15 min) at the start ${r.machine.loadAverage.map((l) => l.toFixed(1)).join(' ')}, at the end ${r.loadAverageAtEnd.map((l) => l.toFixed(1)).join(' ')}`,
    `highest real-time N (ACD, bridged): ${r.highestRealTimeAcd}${capped(r.highestRealTimeAcd)}; analysis-only make bench in this run: ${f(r.highestRealTimeAnalysisOnly)}${capped(r.highestRealTimeAnalysisOnly)}`,
    top === undefined
      ? 'caller->agent delay: no real-time ACD step'
      : `caller->agent delay at N=${top.calls}: p50 ${f(top.markerDelay.p50Ms)} ms, p95 ${f(top.markerDelay.p95Ms)} ms, max ${f(top.markerDelay.maxMs)} ms over ${top.markerDelay.n} markers (floor p95 ${f(top.loopbackDelay.p95Ms)} ms); target p95 <= ${delayTarget} ms: ${top.delayTargetMet === true ? 'met' : 'NOT met'}`,
    '',
  );
  return lines.join('\n');
}
