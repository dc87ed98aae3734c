/** `edgevox soak`: hours-long steady load; RSS, fds and latency over time with plots (make soak). */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../../appliance/buildInfo.js';
import { runSoak } from '../../tools/bench/soak.js';
import type { CliCommand } from '../command.js';
import { parseCli } from '../parse.js';

export const soakCommand: CliCommand = {
  name: 'soak',
  summary: 'soak test: steady sipp load for a long time; RSS, open fds and latency over time, with plots',
  usage: `usage: edgevox soak [--minutes 30] [--calls N] [--call-seconds 60] [--speech-ratio 0.5] [--out-dir DIR]
  --calls N          concurrent calls (default: 70% of the capacity in test/bench-results/bench.json, else 20)
  --minutes M        duration (default 30)
  --call-seconds S   length of each call; ended calls are replaced (default 60)
  --speech-ratio R   fraction of each call that is speech (default 0.5, call-like)
  --groups G         caller groups at different points of the talk/listen cycle (default 8)
  --sample-seconds S sampling interval (default 10)
  --out-dir DIR      where soak.json and the PNG plots go (default test/bench-results)`,
  async run(argv, io) {
    const { values } = parseCli(argv, {
      minutes: { type: 'string' },
      calls: { type: 'string' },
      'call-seconds': { type: 'string' },
      'speech-ratio': { type: 'string' },
      'sample-seconds': { type: 'string' },
      groups: { type: 'string' },
      'out-dir': { type: 'string' },
      'shared-dir': { type: 'string' },
    });
    const shared = resolve(values['shared-dir'] ?? join(REPO_ROOT, '..', 'shared'));
    const outDir = resolve(values['out-dir'] ?? join(REPO_ROOT, 'test', 'bench-results'));
    const calls = Number(values.calls ?? defaultCalls(outDir));
    const report = await runSoak({
      calls,
      minutes: Number(values.minutes ?? 30),
      callSeconds: Number(values['call-seconds'] ?? 60),
      speechRatio: Number(values['speech-ratio'] ?? 0.5),
      sampleSeconds: Number(values['sample-seconds'] ?? 10),
      groups: Math.max(1, Number(values.groups ?? 8)),
      modelsDir: join(shared, 'models'),
      sharedDir: shared,
      outDir,
      log: (l) => io.out(l + '\n'),
    });
    io.out(
      `\nsoak: ${report.calls} calls for ${report.minutes} min, ${report.callsCompleted} calls completed, ${report.droppedFrames} frames dropped\n`,
    );
    io.out(
      `growth over the second half: RSS ${report.rssSlopeMiBPerHour.toFixed(1)} MiB/h, open fds ${report.fdSlopePerHour.toFixed(1)}/h, final p95 ${report.latencySlopeMsPerHour.toFixed(1)} ms/h -> ${report.flat ? 'FLAT' : 'GROWING'}\n`,
    );
    io.out(`plots: ${report.charts.join(', ')}\n`);
    return report.flat ? 0 : 1;
  },
};

/** 70% of the capacity measured by `make bench` (bench.json), else by `make bench-sip`, else 20. */
function defaultCalls(outDir: string): number {
  const read = (file: string): number => {
    const path = join(outDir, file);
    if (!existsSync(path)) return 0;
    const r = JSON.parse(readFileSync(path, 'utf8')) as { highestRealTimeCalls?: number; ramp?: { highestRealTimeCalls?: number } };
    return r.ramp?.highestRealTimeCalls ?? r.highestRealTimeCalls ?? 0;
  };
  const highest = read('bench.json') || read('bench-sip.json');
  return highest > 0 ? Math.max(1, Math.floor(highest * 0.7)) : 20;
}
