/**
 * What the whole-box bench needs to know about the machine itself, so capacity figures compare
 * across machines and a saturated core can be named:
 *
 * - a machine reference: sherpa-onnx's single-stream CPU cost (CPU seconds per audio second) on
 *   the ASR evaluation clips, with the same model the appliance runs. It measures what one core of
 *   this machine does for a streaming zipformer, independent of our engine and of the load;
 * - CPU taken by the load generators: sipp and our caller processes are children of the bench
 *   process (their CPU shows in its cutime + cstime once they are reaped), web callers run in the
 *   bench process itself;
 * - per-thread CPU of the appliance and its child processes (mediasoup workers), from
 *   /proc/<pid>/task/<tid>/stat.
 *
 * /proc readers return empty figures where /proc is not readable (not Linux); the bench then prints
 * dashes instead of guessing.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseWav } from '../../appliance/audio/wav.js';
import { loadEvalSet } from '../asr/evalSet.js';
import { createSherpaRecognizer, sherpaDecode } from '../asr/sherpaReference.js';

/**
 * sherpa-onnx-node's single-stream cost (CPU s per audio s, greedy search, one thread) on the eval
 * clips with zipformer-gigaspeech-3.3m, measured 2026-12-05 on the quiet 2-vCPU AMD EPYC dev VM
 * (the machine the figures in docs were taken on). Normalised capacities are "calls this box would
 * carry if its cores were as fast as that VM's".
 */
export const REFERENCE_SHERPA_RTF = 0.0107;

/** The ASR model the appliance runs (../shared/models/asr/<this>). */
export const REFERENCE_ASR_MODEL = 'zipformer-gigaspeech-3.3m';

export interface MachineReferenceSample {
  at: string;
  /** CPU seconds per audio second of sherpa-onnx-node, one stream, one thread. */
  sherpaRtf: number;
  audioSeconds: number;
  cpuSeconds: number;
  wallSeconds: number;
  clips: number;
  rounds: number;
  loadAverage: number[];
}

export interface MachineReference {
  referenceSherpaRtf: number;
  referenceMachine: string;
  start: MachineReferenceSample;
  end: MachineReferenceSample | null;
  /** Mean of the start and end measurements (start alone when the end one is missing). */
  sherpaRtf: number;
  /**
   * sherpaRtf / REFERENCE_SHERPA_RTF: how much slower one core of this machine is than one of the
   * reference machine (2 = twice as slow). Normalised capacity = raw capacity × this factor.
   */
  slowdown: number;
  /** How far the start and end measurements differ, relative to their mean (a busy machine shows here). */
  drift: number | null;
}

export function combineReference(start: MachineReferenceSample, end: MachineReferenceSample | null): MachineReference {
  const sherpaRtf = end === null ? start.sherpaRtf : (start.sherpaRtf + end.sherpaRtf) / 2;
  return {
    referenceSherpaRtf: REFERENCE_SHERPA_RTF,
    referenceMachine: 'quiet 2-vCPU AMD EPYC dev VM, 2026-12-05',
    start,
    end,
    sherpaRtf,
    slowdown: sherpaRtf / REFERENCE_SHERPA_RTF,
    drift: end === null ? null : Math.abs(end.sherpaRtf - start.sherpaRtf) / sherpaRtf,
  };
}

/**
 * Capacity as it would be on the reference machine: a box whose cores are twice as slow per
 * stream (sherpa RTF twice the reference) and carries N calls would carry about 2N with reference
 * cores, so the raw figure is multiplied by the slowdown. The core count is not normalised: divide
 * by the CPUs for a per-core figure.
 */
export function normalisedCapacity(raw: number, ref: MachineReference | null): number | null {
  return ref === null ? null : Math.round(raw * ref.slowdown * 10) / 10;
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * sherpa-onnx-node's single-stream CPU cost on the eval clips (shared/datasets/speech-en and the
 * pocketsphinx test data): one warm-up decode, then `rounds` passes over every clip. Run it while
 * nothing else of the bench runs (no appliance, no callers).
 */
export function measureSherpaRtf(sharedDir: string, rounds = 3): MachineReferenceSample {
  const { clips } = loadEvalSet(sharedDir);
  if (clips.length === 0)
    throw new Error(`machine reference: no evaluation clips under ${sharedDir}/datasets/speech-en or the pocketsphinx test data`);
  const audios = clips.map((c) => {
    const w = parseWav(readFileSync(c.path), c.id);
    return { rate: w.sampleRateHz, floats: Float32Array.from(w.samples, (s) => s / 32768) };
  });
  const rec = createSherpaRecognizer(join(sharedDir, 'models', 'asr', REFERENCE_ASR_MODEL));
  sherpaDecode(rec, audios[0]!.floats, audios[0]!.rate);
  const wall0 = performance.now();
  const cpu0 = cpuSeconds();
  let audioSeconds = 0;
  for (let r = 0; r < rounds; r++) {
    for (const a of audios) {
      sherpaDecode(rec, a.floats, a.rate);
      audioSeconds += a.floats.length / a.rate;
    }
  }
  const cpu = cpuSeconds() - cpu0;
  return {
    at: new Date().toISOString(),
    sherpaRtf: cpu / audioSeconds,
    audioSeconds: Math.round(audioSeconds * 10) / 10,
    cpuSeconds: Math.round(cpu * 1000) / 1000,
    wallSeconds: Math.round(performance.now() - wall0) / 1000,
    clips: audios.length,
    rounds,
    loadAverage: loadavg(),
  };
}

// ---- /proc figures

let clkTck: number | undefined;

/** Clock ticks per second of the /proc CPU times (`getconf CLK_TCK`, normally 100). */
export function clockTicksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** The fields of a /proc stat line after "pid (comm) ": index 0 is field 3 (state). */
function statFields(path: string): string[] | null {
  try {
    const stat = readFileSync(path, 'utf8');
    // comm may hold spaces and parentheses: the fields start after the last ')'
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** utime + stime (fields 14, 15) of a stat line, in ticks. */
function ownTicks(f: string[]): number {
  return Number(f[11]) + Number(f[12]);
}

/** CPU seconds of the bench's reaped children (cutime + cstime of /proc/self/stat, fields 16, 17); null without /proc. */
export function reapedChildrenCpuSeconds(): number | null {
  const f = statFields('/proc/self/stat');
  return f === null ? null : (Number(f[13]) + Number(f[14])) / clockTicksPerSecond();
}

export interface LoadGenMark {
  children: number | null;
  self: number;
  at: number;
}

export function markLoadGenerators(): LoadGenMark {
  return { children: reapedChildrenCpuSeconds(), self: cpuSeconds(), at: performance.now() };
}

export interface LoadGenCpu {
  /** sipp / caller processes that ended in the window (reaped children of the bench), in cores. */
  childCores: number | null;
  /** The bench process itself: web callers (node-webrtc) and the metric scraping, in cores. */
  selfCores: number;
  totalCores: number;
}

export function loadGeneratorsSince(m: LoadGenMark): LoadGenCpu {
  const now = markLoadGenerators();
  const wallS = Math.max(1e-3, (now.at - m.at) / 1000);
  const childCores = now.children === null || m.children === null ? null : (now.children - m.children) / wallS;
  const selfCores = (now.self - m.self) / wallS;
  return { childCores, selfCores, totalCores: selfCores + (childCores ?? 0) };
}

interface ThreadTicks {
  pid: number;
  name: string;
  ticks: number;
}

export interface ThreadSnapshot {
  rootPid: number;
  at: number;
  /** Per thread id, of the root process and its descendants. */
  threads: Map<number, ThreadTicks>;
  /** Per process id (utime + stime of the process: includes threads that have ended). */
  processes: Map<number, number>;
}

/** The root process and its descendants (children found by their parent pid in /proc). */
function processTree(rootPid: number): number[] {
  const parentOf = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [rootPid];
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const f = statFields(`/proc/${e}/stat`);
    if (f !== null) parentOf.set(Number(e), Number(f[1]));
  }
  const tree = [rootPid];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of parentOf) if (ppid === tree[i]) tree.push(pid);
  }
  return tree;
}

/** Per-thread CPU ticks of `rootPid` and its child processes (mediasoup workers), now. */
export function snapshotThreads(rootPid: number): ThreadSnapshot {
  const threads = new Map<number, ThreadTicks>();
  const processes = new Map<number, number>();
  for (const pid of processTree(rootPid)) {
    const pf = statFields(`/proc/${pid}/stat`);
    if (pf === null) continue;
    processes.set(pid, ownTicks(pf));
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const t of tids) {
      const f = statFields(`/proc/${pid}/task/${t}/stat`);
      if (f === null) continue;
      let name = '?';
      try {
        name = readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim();
      } catch {
        // the thread ended while we looked
      }
      threads.set(Number(t), { pid, name, ticks: ownTicks(f) });
    }
  }
  return { rootPid, at: performance.now(), threads, processes };
}

/** Where the appliance's CPU went over a window (cores = CPU seconds per wall second). */
export interface ThreadLoad {
  /** The appliance's main thread (tid = pid): SIP, RTP, the event loop. */
  mainCores: number;
  /** The busiest other thread of the appliance or its child processes. */
  busiestCores: number;
  /**
   * What it is and its tid: "recognition worker" (see findRecognitionWorkers), else its name from
   * /proc/.../comm ("node" for Node's own V8 / libuv threads), with "pid N" when it belongs to a child
   * process (a mediasoup worker).
   */
  busiestName: string;
  /** The busiest recognition worker thread (null where they could not be told apart). */
  recognitionWorkerMaxCores?: number | null;
  /** Threads (the main one included) that used more than 0.9 of a core: saturated. */
  threadsOver90: number;
  /** All of the appliance and its child processes (ended threads included). */
  totalCores: number;
  threads: number;
}

export const SATURATED_CORES = 0.9;

/**
 * The appliance's recognition worker threads, by thread id, found while it is idle. Node 20 does
 * not name threads (every thread's comm is "node"; newer Node versions name a worker thread after
 * the Worker's name, edgevox-asr-N, which is used when present). Otherwise: a worker thread runs its
 * own event loop, so when idle it waits in epoll, as do the main thread and Node's platform task
 * scheduler (started with the process, before any JS); V8 and libuv pool threads wait on futexes.
 * The recognition workers (the appliance's only Worker threads) are then the `workers` epoll
 * threads started last. A thread busy at one look is caught at a later one: up to `tries` looks,
 * 250 ms apart. Empty where that does not add up (the threads keep their comm names).
 */
export async function findRecognitionWorkers(rootPid: number, workers: number, tries = 20): Promise<Set<number>> {
  const looping = new Map<number, number>();
  for (let i = 0; i < tries && workers > 0; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 250));
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${rootPid}/task`);
    } catch {
      break;
    }
    const named = new Set<number>();
    for (const t of tids) {
      const tid = Number(t);
      if (tid === rootPid) continue;
      const f = statFields(`/proc/${rootPid}/task/${t}/stat`);
      if (f === null) continue;
      const read = (file: string): string => {
        try {
          return readFileSync(`/proc/${rootPid}/task/${t}/${file}`, 'utf8').trim();
        } catch {
          return '';
        }
      };
      if (read('comm').startsWith('edgevox-asr')) named.add(tid);
      else if (read('wchan').includes('epoll')) looping.set(tid, Number(f[19]));
    }
    if (named.size > 0) return named;
    if (looping.size > workers + 1) break;
    if (looping.size === workers + 1) {
      const byStart = [...looping].sort((x, y) => x[1] - y[1] || x[0] - y[0]);
      return new Set(byStart.slice(1).map(([tid]) => tid));
    }
  }
  return new Set();
}

export function threadLoadBetween(
  a: ThreadSnapshot,
  b: ThreadSnapshot,
  recognitionWorkers: ReadonlySet<number> = new Set(),
): ThreadLoad | null {
  if (b.threads.size === 0) return null;
  const tck = clockTicksPerSecond();
  const wallS = Math.max(1e-3, (b.at - a.at) / 1000);
  const cores = (ticks: number) => Math.max(0, ticks) / tck / wallS;
  let mainCores = 0;
  let busiest = { cores: 0, name: '-' };
  let workerMax: number | null = recognitionWorkers.size > 0 ? 0 : null;
  let over = 0;
  for (const [tid, t] of b.threads) {
    const before = a.threads.get(tid);
    // a thread that started within the window spent all its CPU in it
    const c = cores(t.ticks - (before !== undefined && before.pid === t.pid ? before.ticks : 0));
    if (c > SATURATED_CORES) over++;
    if (tid === b.rootPid) {
      mainCores = c;
      continue;
    }
    const worker = recognitionWorkers.has(tid);
    if (worker && workerMax !== null) workerMax = Math.max(workerMax, c);
    const name = worker ? 'recognition worker' : t.pid === b.rootPid ? t.name : `${t.name}, pid ${t.pid}`;
    if (c > busiest.cores) busiest = { cores: c, name: `${name} (tid ${tid})` };
  }
  let total = 0;
  for (const [pid, ticks] of b.processes) total += cores(ticks - (a.processes.get(pid) ?? 0));
  const r2 = (v: number) => Math.round(v * 100) / 100;
  return {
    mainCores: r2(mainCores),
    busiestCores: r2(busiest.cores),
    busiestName: busiest.name,
    recognitionWorkerMaxCores: workerMax === null ? null : r2(workerMax),
    threadsOver90: over,
    totalCores: r2(total),
    threads: b.threads.size,
  };
}

/** The machine, for the report. */
export function machineDescription(): { cpus: number; model: string } {
  const c = cpus();
  return { cpus: c.length, model: c[0]?.model.trim() ?? 'unknown' };
}
