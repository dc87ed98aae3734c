/** `edgevox bench`: the whole pipeline under load, then admission control beyond capacity (make bench). */
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../../appliance/buildInfo.js';
import { evxError } from '../../appliance/errors.js';
import type { AsrEncoder } from '../../tools/bench/harness.js';
import { runWholeBench, summaryLines } from '../../tools/bench/wholeBench.js';
import { exitNowAfterNodeWebrtc, type CliCommand } from '../command.js';
import { parseCli } from '../parse.js';

export const benchCommand: CliCommand = {
  name: 'bench',
  summary:
    'whole-pipeline load bench: ramp to the highest real-time call count with the exact and the batched ASR encoder, normalised by a machine reference, then test admission control (make bench)',
  usage: `usage: edgevox bench [--steps 40,60,80,100,120,140,160] [--seconds 60] [--speech-ratio 0.5] [--groups 8] [--web-callers 4] [--encoders exact,batched] [--skip-reference] [--out-dir DIR]
  --steps LIST       concurrent calls per step (sipp calls + web callers)
  --seconds S        length of each call (default 60)
  --speech-ratio R   fraction of each call that is the caller talking (default 0.5)
  --groups G         caller groups at different points of the talk/listen cycle (default 8;
                     1 = all calls talk and pause in step, the worst case)
  --web-callers N    of each step's calls, N are node-webrtc web callers (default 4)
  --encoders LIST    ASR encoders to ramp, each on a fresh appliance, in this order (default
                     exact,batched: today's batch-1 encoder and the batched one, same steps)
  --skip-reference   no machine reference (sherpa-onnx single-stream cost), so no normalised figures
  --out-dir DIR      where bench.json and bench.md go (default test/bench-results)
Mode: analysis of the caller leg only (sipp callers into the analysis box; make bench-acd loads both legs of ACD calls).`,
  async run(argv, io) {
    const { values } = parseCli(argv, {
      steps: { type: 'string' },
      seconds: { type: 'string' },
      'speech-ratio': { type: 'string' },
      groups: { type: 'string' },
      'web-callers': { type: 'string' },
      encoders: { type: 'string' },
      'skip-reference': { type: 'boolean' },
      'out-dir': { type: 'string' },
      'shared-dir': { type: 'string' },
    });
    const shared = resolve(values['shared-dir'] ?? join(REPO_ROOT, '..', 'shared'));
    const outDir = resolve(values['out-dir'] ?? join(REPO_ROOT, 'test', 'bench-results'));
    const webCallers = Math.max(0, Number(values['web-callers'] ?? 4));
    const encoders = parseEncoders(values.encoders ?? 'exact,batched');
    const report = await runWholeBench({
      steps: (values.steps ?? '40,60,80,100,120,140,160')
        .split(',')
        .map(Number)
        .filter((n) => n > 0),
      seconds: Number(values.seconds ?? 60),
      speechRatio: Number(values['speech-ratio'] ?? 0.5),
      groups: Math.max(1, Number(values.groups ?? 8)),
      webCallers,
      modelsDir: join(shared, 'models'),
      sharedDir: shared,
      outDir,
      encoders,
      skipReference: values['skip-reference'] === true,
      log: (l) => io.out(l + '\n'),
    });
    io.out('\n' + summaryLines(report).join('\n') + '\n');
    io.out(`results in ${join(outDir, 'bench.json')} and bench.md\n`);
    if (report.overload) {
      const o = report.overload;
      io.out(
        `beyond capacity ${o.capacity} (asr.encoder ${o.asrEncoder ?? '-'}): ${o.extraCallsRejected503}/${o.extraCallsAttempted} extra calls got 503; existing calls ${o.existingCallsCompleted} completed, ${o.existingCallsFailed} failed, final p95 ${o.existingFinalP95Ms ?? '-'} ms (baseline ${o.baselineFinalP95Ms ?? '-'} ms)\n`,
      );
    }
    // web callers (node-webrtc) ran in this process
    return webCallers > 0 ? exitNowAfterNodeWebrtc(io, 0) : 0;
  },
};

function parseEncoders(list: string): AsrEncoder[] {
  const out: AsrEncoder[] = [];
  for (const e of list.split(',').map((s) => s.trim())) {
    if (e === '') continue;
    if (e !== 'exact' && e !== 'batched') throw evxError('EVX_ERR_CLI_USAGE', `--encoders: expected exact and/or batched, got '${e}'`);
    if (!out.includes(e)) out.push(e);
  }
  if (out.length === 0) throw evxError('EVX_ERR_CLI_USAGE', '--encoders: name at least one of exact, batched');
  return out;
}
