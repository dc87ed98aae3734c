/**
 * Soak: a real appliance carries a steady load of sipp calls (new calls replace ended ones) for a
 * long time while RSS, open file descriptors and final-transcript latency are sampled; plots of each
 * and a flatness verdict (growth per hour over the second half) show leaks that short benches miss.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../appliance/buildInfo.js';
import { histogramDelta, makeCallerAudio, scrape, startAppliance, value } from './harness.js';
import { freeLoopbackPort, histogramQuantile, parseMetrics, type MetricSample } from './metricsScrape.js';
import { lineChartSvg, slope, writeChart } from './svgChart.js';

export interface SoakOptions {
  calls: number;
  minutes: number;
  callSeconds: number;
  speechRatio: number;
  /** Caller groups at different points of the talk/listen cycle (see makeCallerAudio). */
  groups: number;
  sampleSeconds: number;
  modelsDir: string;
  sharedDir: string;
  outDir: string;
  log: (line: string) => void;
}

export interface SoakSample {
  tMin: number;
  rssMiB: number;
  /** V8 heap in use (main thread), and memory outside the JS heaps (buffers, native addons). */
  heapUsedMiB: number;
  externalMiB: number;
  /** Of the RSS: anonymous memory (heaps, arenas) and file-backed pages (libraries, mapped files), from /proc. */
  rssAnonMiB: number;
  rssFileMiB: number;
  /** V8 heaps in use in the recognition worker threads, together. */
  workerHeapMiB: number;
  openFds: number;
  activeCalls: number;
  finalP95Ms: number | null;
  maxLagMs: number;
}

export interface SoakReport {
  calls: number;
  minutes: number;
  samples: SoakSample[];
  rssSlopeMiBPerHour: number;
  rssAnonSlopeMiBPerHour: number;
  fdSlopePerHour: number;
  /** Of the final-transcript p95 per sampling window. */
  latencySlopeMsPerHour: number;
  flat: boolean;
  charts: string[];
  callsCompleted: number;
  droppedFrames: number;
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const work = mkdtempSync(join(tmpdir(), 'evx-soak-'));
  const groupDirs = makeCallerAudio(work, o.sharedDir, o.callSeconds, o.speechRatio, o.groups);
  const sipPort = await freeLoopbackPort();
  const app = await startAppliance(work, sipPort, o.modelsDir);
  const pid = app.child.pid!;
  // One sipp per caller group, each keeping its share of the calls up (ended calls are replaced).
  const sipps = await Promise.all(
    groupDirs.map(async (dir, g) => {
      const n = Math.floor(o.calls / o.groups) + (g < o.calls % o.groups ? 1 : 0);
      return spawn(
        'sipp',
        [
          '-nostdin',
          `127.0.0.1:${sipPort}`,
          '-sf',
          join(REPO_ROOT, 'test', 'scenarios', 'uac-pcmu-speech.xml'),
          '-l',
          String(n),
          '-r',
          Math.max(0.05, n / o.callSeconds).toFixed(2),
          '-rp',
          '1000',
          '-d',
          String(o.callSeconds * 1000),
          '-i',
          '127.0.0.1',
          '-p',
          String(await freeLoopbackPort()),
          '-mi',
          '127.0.0.1',
          '-mp',
          String(40000 + g * 1000),
        ],
        { cwd: dir, stdio: 'ignore' },
      );
    }),
  );
  const samples: SoakSample[] = [];
  const startedAt = performance.now();
  let prev: MetricSample[] = parseMetrics(await scrape(app.url));
  const first = prev;
  try {
    while ((performance.now() - startedAt) / 60_000 < o.minutes) {
      await new Promise((r) => setTimeout(r, o.sampleSeconds * 1000));
      const now = parseMetrics(await scrape(app.url));
      const p95 = histogramQuantile(histogramDelta(prev, now, 'edgevox_asr_final_latency_seconds'), 0.95);
      const rss = rssParts(pid);
      const sample: SoakSample = {
        tMin: (performance.now() - startedAt) / 60_000,
        rssMiB: value(now, 'process_resident_memory_bytes') / 2 ** 20,
        heapUsedMiB: value(now, 'nodejs_heap_size_used_bytes') / 2 ** 20,
        externalMiB: value(now, 'nodejs_external_memory_bytes') / 2 ** 20,
        rssAnonMiB: rss.anonMiB,
        rssFileMiB: rss.fileMiB,
        workerHeapMiB: value(now, 'edgevox_asr_worker_heap_used_bytes') / 2 ** 20,
        openFds: openFds(pid),
        activeCalls: value(now, 'edgevox_calls_active'),
        finalP95Ms: p95 === null ? null : Math.round(p95 * 1000),
        maxLagMs: Math.round(value(now, 'edgevox_asr_lag_max_seconds') * 1000),
      };
      samples.push(sample);
      o.log(
        `t=${sample.tMin.toFixed(1)} min rss=${sample.rssMiB.toFixed(0)} MiB (anon ${sample.rssAnonMiB.toFixed(0)}, file ${sample.rssFileMiB.toFixed(0)}) heap=${sample.heapUsedMiB.toFixed(0)} MiB ext=${sample.externalMiB.toFixed(0)} MiB workers=${sample.workerHeapMiB.toFixed(0)} MiB fds=${sample.openFds} active=${sample.activeCalls} final p95=${sample.finalP95Ms ?? '-'} ms lag=${sample.maxLagMs} ms`,
      );
      prev = now;
    }
  } finally {
    for (const sipp of sipps) sipp.kill('SIGTERM');
  }
  const last = parseMetrics(await scrape(app.url));
  app.child.kill('SIGTERM');
  await new Promise((r) => app.child.once('exit', r));
  rmSync(work, { recursive: true, force: true });

  const secondHalf = samples.filter((s) => s.tMin >= o.minutes / 2);
  const rssSlope = slope(secondHalf.map((s) => ({ x: s.tMin / 60, y: s.rssMiB })));
  const fdSlope = slope(secondHalf.map((s) => ({ x: s.tMin / 60, y: s.openFds })));
  const latencySlope = slope(secondHalf.filter((s) => s.finalP95Ms !== null).map((s) => ({ x: s.tMin / 60, y: s.finalP95Ms! })));
  mkdirSync(o.outDir, { recursive: true });
  const charts = writeSoakCharts(o.outDir, o.calls, o.minutes, o.sampleSeconds, samples);
  const report: SoakReport = {
    calls: o.calls,
    minutes: o.minutes,
    samples,
    rssSlopeMiBPerHour: rssSlope,
    rssAnonSlopeMiBPerHour: slope(secondHalf.map((s) => ({ x: s.tMin / 60, y: s.rssAnonMiB }))),
    fdSlopePerHour: fdSlope,
    latencySlopeMsPerHour: latencySlope,
    // Only growth matters: memory given back (a negative slope) is flat for this purpose.
    flat: rssSlope < 25 && fdSlope < 10 && latencySlope < 50,
    charts,
    callsCompleted:
      value(last, 'edgevox_calls_ended_total', { reason: 'bye' }) - value(first, 'edgevox_calls_ended_total', { reason: 'bye' }),
    droppedFrames: value(last, 'edgevox_asr_dropped_frames_total') - value(first, 'edgevox_asr_dropped_frames_total'),
  };
  writeFileSync(join(o.outDir, 'soak.json'), JSON.stringify({ at: new Date().toISOString(), ...report }, null, 2) + '\n');
  return report;
}

/** The RSS, fd and latency plots of a soak (SVG, and PNG where rsvg-convert is installed); returns their paths. */
export function writeSoakCharts(outDir: string, calls: number, minutes: number, sampleSeconds: number, samples: SoakSample[]): string[] {
  return [
    writeChart(
      join(outDir, 'soak-rss'),
      lineChartSvg(`RSS during a ${minutes} min soak at ${calls} calls`, 'minutes', 'RSS (MiB)', [
        { label: 'process RSS', points: samples.map((s) => ({ x: s.tMin, y: s.rssMiB })) },
        { label: 'anonymous RSS', points: samples.map((s) => ({ x: s.tMin, y: s.rssAnonMiB })) },
        { label: 'V8 heap used (main thread)', points: samples.map((s) => ({ x: s.tMin, y: s.heapUsedMiB })) },
        { label: 'external (main thread buffers)', points: samples.map((s) => ({ x: s.tMin, y: s.externalMiB })) },
        { label: 'V8 heaps of the ASR workers', points: samples.map((s) => ({ x: s.tMin, y: s.workerHeapMiB })) },
      ]),
    ),
    writeChart(
      join(outDir, 'soak-fds'),
      lineChartSvg(`Open file descriptors (${calls} calls)`, 'minutes', 'open fds', [
        { label: 'fds', points: samples.map((s) => ({ x: s.tMin, y: s.openFds })) },
      ]),
    ),
    writeChart(
      join(outDir, 'soak-latency'),
      lineChartSvg(`Final-transcript latency p95 per ${sampleSeconds} s window`, 'minutes', 'ms', [
        { label: 'final p95 (ms)', points: samples.filter((s) => s.finalP95Ms !== null).map((s) => ({ x: s.tMin, y: s.finalP95Ms! })) },
        { label: 'max lag (ms)', points: samples.map((s) => ({ x: s.tMin, y: s.maxLagMs })) },
      ]),
    ),
  ].map((c) => c.png ?? c.svg);
}

/** RssAnon and RssFile of /proc/<pid>/status, in MiB (0 where /proc is not readable). */
function rssParts(pid: number): { anonMiB: number; fileMiB: number } {
  let text = '';
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return { anonMiB: 0, fileMiB: 0 };
  }
  const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return { anonMiB: kib('RssAnon') / 1024, fileMiB: kib('RssFile') / 1024 };
}

function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}
