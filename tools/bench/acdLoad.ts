/**
 * `make bench-acd`: the box in ACD mode (`acd.mode: acd`) under N concurrent callers with N agents'
 * phones registered to it, ramped like `make bench`; then, in the same run on the same machine, the
 * analysis-only capacity (`make bench`'s kind of step: our plain callers into a box in the default
 * pbx mode, through sipLoad's step runner) over the same steps, so the two figures sit side by side.
 * The analysis-only steps all run (a failed step does not end them), and its highest N is read the
 * same way as the ACD ramp's: the last real-time step before the first one that is not.
 *
 * Callers and agents' phones are ours, not sipp (the issue asked for sipp UAS agents): one sipp
 * process cannot REGISTER N digest accounts and then take new dialogs on those flows, and a marker's
 * send time must come from the clock the agents read arrivals with (acdBenchPeers.ts says more).
 *
 * ACD step: the peers process (tools/telephony/acdBenchPeers.ts) registers N agents' phones (digest),
 * then places N calls. The box answers each, plays the greeting, transcribes the caller, routes it
 * (one skill group every agent serves, intents [] and the default group, `routing.
 * maxUtterancesBeforeDefault: 1`: the first utterance routes the call), INVITEs an available agent's
 * registered phone and bridges the two legs through its RTP path. Each caller then sends a tagged
 * 1 kHz marker every second; its arrival at an agent's phone proves the bridge and gives the delay
 * the box adds on the caller -> agent path (send at the caller's socket to arrival at the agent's,
 * one clock), next to the same measurement over a direct loopback socket pair (the method's floor).
 * A step is real time when every call was answered by the box and bridged to an agent, none failed,
 * and the appliance kept `make bench`'s criteria: no dropped audio frame, recognition lag within
 * `maxLagS`, final-transcript p95 within `maxFinalP95Ms`; and the peers kept their own pace (as
 * sipLoad asks of our callers). A step that fails only on that last point is run once more: on a
 * shared machine a stall of the load generator says nothing about the box. The delay target (p95 <=
 * 40 ms) is reported per step, not part of the verdict.
 *
 * Figures come from the box's /metrics (lag, finals, drops, CPU, RSS), from its event stream
 * (route decisions, agent states, call ends: to say what went wrong when calls are not bridged) and
 * from the peers' report. Nothing here asserts timings; results go to test/bench-results/bench-acd.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { issueApiToken } from '../../appliance/auth/authService.js';
import { Store } from '../../appliance/store/database.js';
import { runAcdPeers, type AcdPeersReport, type TimeSummary } from '../telephony/acdPeersProcess.js';
import { histogramDelta, makeCallerAudio, scrape, startAppliance, value, type RunningAppliance } from './harness.js';
import { freeLoopbackPort, histogramQuantile, parseMetrics } from './metricsScrape.js';
import { runSipLoad, type SipLoadReport } from './sipLoad.js';

export interface AcdBenchOptions {
  steps: number[];
  /** How long each call stays bridged (after its first marker reached the agent). */
  seconds: number;
  /** Caller speech before the first marker: the routing utterance. */
  speechSeconds: number;
  /** A call not bridged this long after the box answered it fails. */
  bridgeTimeoutSeconds: number;
  markerIntervalMs: number;
  /** Real-time criteria, as `make bench`. */
  maxLagS: number;
  maxFinalP95Ms: number;
  /** Reported against the caller -> agent delay p95. */
  delayTargetP95Ms: number;
  stopAtFirstFailure: boolean;
  /** Also run the analysis-only steps (default mode) in this run. */
  compare: boolean;
  modelsDir: string;
  sharedDir: string;
  log: (line: string) => void;
}

export interface AcdStepResult {
  calls: number;
  agentsRegistered: number;
  /** Phones whose Expires: 0 REGISTER was granted at the end of the step (no binding left for the next). */
  agentsUnregistered: number;
  answeredByBox: number;
  agentInvites: number;
  agentAnswered: number;
  bridged: number;
  completed: number;
  failed: number;
  failures: Record<string, number>;
  /** From the box's event stream during the step. */
  routeDecisions: Record<string, number>;
  agentStates: Record<string, number>;
  callEnds: Record<string, number>;
  /** Box answered the caller -> the box's INVITE reached the agent who took it. */
  answerToAgentInvite: TimeSummary;
  /** Caller -> box -> agent, per marker; and the direct loopback floor at the same time. */
  markerDelay: TimeSummary;
  loopbackDelay: TimeSummary;
  /** markerDelay p50 / p95 less the loopback floor's: what the box itself adds. */
  boxAddedP50Ms: number | null;
  boxAddedP95Ms: number | null;
  delayTargetMet: boolean | null;
  markers: AcdPeersReport['markers'];
  finalLatencyP50Ms: number | null;
  finalLatencyP95Ms: number | null;
  finals: number;
  maxLagMs: number;
  asrDroppedFrames: number;
  cpuCoresUsed: number;
  rssPeakMiB: number;
  peersCpuPctOfOneCore: number;
  peersLateFrames: number;
  peersLateSamples: AcdPeersReport['lateSamples'];
  wallS: number;
  /** Run a second time because the first run failed only on the peers falling behind (a shared, noisy machine). */
  rerun: boolean;
  realTime: boolean;
  why: string;
}

export interface AcdBenchReport {
  machine: { cpus: number; node: string; loadAverage: number[] };
  seconds: number;
  steps: AcdStepResult[];
  highestRealTimeAcd: number;
  /** The analysis-only ramp of this run (null with compare off); its steps run a second time (see CALLERS_BEHIND). */
  analysisOnly: SipLoadReport | null;
  analysisOnlyRerun: number[];
  highestRealTimeAnalysisOnly: number | null;
  loadAverageAtEnd: number[];
}

/** sipLoad's reason when the only failure of a step was our callers' pacing. */
const CALLERS_BEHIND = /^the callers fell behind \(\d+ late frames\): load generator limit$/;

/** The highest N of a ramp: the last real-time step before the first one that is not (any real-time step with all steps). */
function highestOfRamp(steps: readonly { calls: number; realTime: boolean }[], stopAtFirstFailure: boolean): number {
  let best = 0;
  for (const s of [...steps].sort((a, b) => a.calls - b.calls)) {
    if (s.realTime) best = Math.max(best, s.calls);
    else if (stopAtFirstFailure) break;
  }
  return best;
}

const AGENT_PREFIX = 'agent-';
const PASSWORD_PREFIX = 'bench-acd-pw-';
const GROUP = 'bench';

export async function runAcdBench(o: AcdBenchOptions): Promise<AcdBenchReport> {
  const machine = { cpus: cpus().length, node: process.versions.node, loadAverage: loadavg() };
  o.log(`ACD mode: N callers and N registered agents' phones per step (steps ${o.steps.join(', ')}), each call bridged ${o.seconds} s`);
  const steps = await runAcdSteps(o);
  let analysisOnly: SipLoadReport | null = null;
  const analysisOnlyRerun: number[] = [];
  if (o.compare) {
    o.log(
      `analysis only (make bench's kind of step, default pbx mode, our plain callers): steps ${o.steps.join(', ')}, ${o.seconds} s calls`,
    );
    const ramp = (steps: number[]): Promise<SipLoadReport> =>
      runSipLoad({
        steps,
        seconds: o.seconds,
        modelsDir: o.modelsDir,
        sharedDir: o.sharedDir,
        stopAtFirstFailure: false,
        maxLagS: o.maxLagS,
        maxFinalP95Ms: o.maxFinalP95Ms,
        // make bench's call-like audio: half speech, 8 groups at different points of the cycle
        speechRatio: 0.5,
        groups: 8,
        webCallers: 0,
        callers: ['plain'],
        log: (l) => o.log(l),
      });
    analysisOnly = await ramp(o.steps);
    // as for the ACD steps: a step that failed only because our callers fell behind runs once more (a fresh appliance)
    for (const [i, s] of analysisOnly.steps.entries()) {
      if (s.realTime || !CALLERS_BEHIND.test(s.why)) continue;
      o.log(`analysis only, ${s.calls} calls: not real-time only because our callers fell behind (${s.why}): the step once more`);
      const again = (await ramp([s.calls])).steps[0];
      if (again === undefined) continue;
      analysisOnly.steps[i] = again;
      analysisOnlyRerun.push(s.calls);
    }
  }
  return {
    machine,
    seconds: o.seconds,
    steps,
    highestRealTimeAcd: highestOfRamp(steps, o.stopAtFirstFailure),
    analysisOnly,
    analysisOnlyRerun,
    highestRealTimeAnalysisOnly: analysisOnly === null ? null : highestOfRamp(analysisOnly.steps, o.stopAtFirstFailure),
    loadAverageAtEnd: loadavg(),
  };
}

async function runAcdSteps(o: AcdBenchOptions): Promise<AcdStepResult[]> {
  const work = mkdtempSync(join(tmpdir(), 'evx-bench-acd-'));
  // call-like clips (half speech): the agents' from makeCallerAudio; the callers' opens with a
  // short utterance and a pause (so the first final, which routes the call, comes early), then the same call-like cycle
  const clipSeconds = o.speechSeconds + o.bridgeTimeoutSeconds + o.seconds + 10;
  const [callerDir, agentDir] = makeCallerAudio(join(work, 'audio'), o.sharedDir, clipSeconds, 0.5, 2);
  const opening = join(work, 'audio', 'opening.ulaw');
  execFileSync(
    'sox',
    [join(o.sharedDir, 'datasets', 'speech-en', '0.wav'), '-r', '8000', '-c', '1', '-t', 'ul', opening, 'pad', '0', '1.5'],
    {
      stdio: 'ignore',
    },
  );
  const clips = { caller: join(work, 'audio', 'caller.ulaw'), agent: join(agentDir!, 'speech.ulaw') };
  writeFileSync(clips.caller, Buffer.concat([readFileSync(opening), readFileSync(join(callerDir!, 'speech.ulaw'))]));
  const sipPort = await freeLoopbackPort();
  const app = await startAppliance(work, sipPort, o.modelsDir, [
    'acd:',
    '  mode: acd',
    '  ringTimeoutS: 10',
    'agents:',
    '  wrapUpS: 0',
    '  noAnswerAwayAfter: 0',
    'routing:',
    '  maxUtterancesBeforeDefault: 1',
  ]);
  const appLog = watchStderr(app);
  let events: EventCounter | null = null;
  const results: AcdStepResult[] = [];
  try {
    const authorization = `Bearer ${mintToken(join(work, 'data'))}`;
    await configureRouting(app.url, authorization, Math.max(...o.steps));
    events = await EventCounter.open(app.url, authorization);
    for (const calls of o.steps) {
      o.log(`step: ${calls} callers, ${calls} agents' phones, calls bridged ${o.seconds} s`);
      let step = await runAcdStep(app, sipPort, calls, o, clips, events, appLog);
      if (step.generatorOnly) {
        // the box kept up, our load generator did not (a stall of the shared machine): once more
        o.log(`  not real-time only because the peers fell behind (${step.why}): the step once more`);
        step = { ...(await runAcdStep(app, sipPort, calls, o, clips, events, appLog)), rerun: true };
      }
      results.push(withoutFlag(step));
      o.log(
        `  registered ${step.agentsRegistered}/${calls}, answered ${step.answeredByBox}, agent INVITEs ${step.agentInvites}, bridged ${step.bridged}/${calls}, ` +
          `caller->agent delay p50 ${ms(step.markerDelay.p50Ms)} / p95 ${ms(step.markerDelay.p95Ms)} ms (floor ${ms(step.loopbackDelay.p95Ms)} ms p95, ${step.markerDelay.n} markers), ` +
          `final p95 ${ms(step.finalLatencyP95Ms)} ms, max lag ${step.maxLagMs} ms, dropped ${step.asrDroppedFrames}, cpu ${step.cpuCoresUsed.toFixed(2)} cores, ` +
          `${step.realTime ? 'REAL-TIME' : 'NOT real-time: ' + step.why}`,
      );
      if (!step.realTime && step.bridged < calls) {
        o.log(
          `  events: decisions ${JSON.stringify(step.routeDecisions)}, agent states ${JSON.stringify(step.agentStates)}, call ends ${JSON.stringify(step.callEnds)}`,
        );
        for (const l of appLog.take().slice(-10)) o.log(`  box: ${l}`);
      }
      if (!step.realTime && o.stopAtFirstFailure) break;
    }
  } finally {
    events?.close();
    app.child.kill('SIGTERM');
    await new Promise((r) => app.child.once('exit', r));
    rmSync(work, { recursive: true, force: true });
  }
  return results;
}

async function runAcdStep(
  app: RunningAppliance,
  sipPort: number,
  calls: number,
  o: AcdBenchOptions,
  clips: { caller: string; agent: string },
  events: EventCounter,
  appLog: { take(): string[] },
): Promise<AcdStepResult & { generatorOnly: boolean }> {
  const url = app.url;
  appLog.take();
  events.reset();
  const before = parseMetrics(await scrape(url));
  const startedAt = performance.now();
  let maxLag = 0;
  let peakRss = 0;
  const sampler = setInterval(() => {
    scrape(url)
      .then((text) => {
        const m = parseMetrics(text);
        maxLag = Math.max(maxLag, value(m, 'edgevox_asr_lag_max_seconds') * 1000);
        peakRss = Math.max(peakRss, value(m, 'process_resident_memory_bytes'));
      })
      .catch(() => undefined);
  }, 1000);
  const run = await runAcdPeers(
    {
      sipPort,
      calls,
      agents: calls,
      agentPrefix: AGENT_PREFIX,
      passwordPrefix: PASSWORD_PREFIX,
      holdSeconds: o.seconds,
      speechSeconds: o.speechSeconds,
      bridgeTimeoutSeconds: o.bridgeTimeoutSeconds,
      markerIntervalMs: o.markerIntervalMs,
      rate: Math.min(calls, 20),
      callerClip: clips.caller,
      agentClip: clips.agent,
    },
    (line) => o.log(`    ${line}`),
  );
  // let the last finals flush (endpointing + the legs' final flush after BYE)
  await new Promise((r) => setTimeout(r, 3000));
  clearInterval(sampler);
  const wallS = (performance.now() - startedAt) / 1000;
  const after = parseMetrics(await scrape(url));
  const d = (name: string): number => value(after, name) - value(before, name);
  const latency = histogramDelta(before, after, 'edgevox_asr_final_latency_seconds');
  const q = (p: number): number | null => {
    const v = histogramQuantile(latency, p);
    return v === null ? null : Math.round(v * 1000);
  };
  const counts = events.snapshot();
  const r = run.report;
  const reasons: string[] = [];
  if (r === undefined) reasons.push(`peers exited ${run.code}: ${run.stderr.split('\n').pop() ?? ''}`);
  let generatorLate = false;
  const dropped = d('edgevox_asr_dropped_frames_total');
  const finalP95 = q(0.95);
  if (r !== undefined) {
    if (r.agents.registered < calls) reasons.push(`${calls - r.agents.registered} agents' phones not registered`);
    if (r.callers.answeredByBox < calls) reasons.push(`${calls - r.callers.answeredByBox} calls not answered by the box`);
    if (r.callers.bridged < calls) reasons.push(`${calls - r.callers.bridged} calls not bridged to an agent`);
    const failures = Object.entries(r.callers.failures).map(([why, n]) => `${n}x ${why}`);
    if (failures.length > 0) reasons.push(`call failures: ${failures.join(', ')}`);
    generatorLate = r.lateFrames > 0;
    if (generatorLate)
      reasons.push(
        `the peers fell behind (${r.lateFrames} frames sent > 100 ms late, worst ${r.maxSendLateMs} ms, first at ${r.lateSamples[0]?.atS ?? '?'} s): load generator limit`,
      );
  }
  if (dropped > 0) reasons.push(`${dropped} audio frames dropped`);
  if (maxLag > o.maxLagS * 1000) reasons.push(`lag ${Math.round(maxLag)} ms > ${o.maxLagS * 1000} ms`);
  if (finalP95 !== null && finalP95 > o.maxFinalP95Ms) reasons.push(`final p95 ${finalP95} ms > ${o.maxFinalP95Ms} ms`);
  const empty: TimeSummary = { n: 0, p50Ms: null, p95Ms: null, maxMs: null };
  const marker = r?.markerDelay ?? empty;
  const floor = r?.loopbackDelay ?? empty;
  const less = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : Math.round((a - b) * 100) / 100);
  return {
    calls,
    agentsRegistered: r?.agents.registered ?? 0,
    agentsUnregistered: r?.agents.unregistered ?? 0,
    answeredByBox: r?.callers.answeredByBox ?? 0,
    agentInvites: r?.agents.invites ?? 0,
    agentAnswered: r?.agents.answered ?? 0,
    bridged: r?.callers.bridged ?? 0,
    completed: r?.callers.completedBye ?? 0,
    failed: r?.callers.failed ?? calls,
    failures: r?.callers.failures ?? {},
    routeDecisions: counts.decisions,
    agentStates: counts.agentStates,
    callEnds: counts.callEnds,
    answerToAgentInvite: r?.answerToAgentInvite ?? empty,
    markerDelay: marker,
    loopbackDelay: floor,
    boxAddedP50Ms: less(marker.p50Ms, floor.p50Ms),
    boxAddedP95Ms: less(marker.p95Ms, floor.p95Ms),
    delayTargetMet: marker.p95Ms === null ? null : marker.p95Ms <= o.delayTargetP95Ms,
    markers: r?.markers ?? { sentBridged: 0, receivedBridged: 0, detected: 0, toneConfirmed: 0, payloadExact: 0 },
    finalLatencyP50Ms: q(0.5),
    finalLatencyP95Ms: finalP95,
    finals: latency.count,
    maxLagMs: Math.round(maxLag),
    asrDroppedFrames: dropped,
    cpuCoresUsed: d('process_cpu_seconds_total') / wallS,
    rssPeakMiB: peakRss / 2 ** 20,
    peersCpuPctOfOneCore: r?.peersCpuPctOfOneCore ?? 0,
    peersLateFrames: r?.lateFrames ?? 0,
    peersLateSamples: r?.lateSamples ?? [],
    wallS: Math.round(wallS),
    rerun: false,
    generatorOnly: generatorLate && reasons.length === 1,
    realTime: reasons.length === 0,
    why: reasons.join('; '),
  };
}

function withoutFlag(step: AcdStepResult & { generatorOnly: boolean }): AcdStepResult {
  const { generatorOnly: _, ...rest } = step;
  return rest;
}

const ms = (v: number | null): string => (v === null ? '-' : String(v));

/** An API token minted in the bench appliance's own store (as `edgevox console-token` does; SQLite WAL serialises the write). */
function mintToken(dataDir: string): string {
  const store = Store.open(dataDir);
  try {
    return issueApiToken(store, 'bench-acd', 'technician', 'bench').token;
  } finally {
    store.close();
  }
}

/** One skill group every agent serves, its default group too: every call lands there whatever the caller says. */
async function configureRouting(url: string, authorization: string, agents: number): Promise<void> {
  const body = {
    groups: [{ id: GROUP, name: 'ACD bench', intents: [], adjacent: [], overflow: { maxWaitMs: 86_400_000, action: 'none' } }],
    agents: Array.from({ length: agents }, (_, i) => ({
      id: `${AGENT_PREFIX}${i + 1}`,
      name: `Agent ${i + 1}`,
      sipUri: `sip:${AGENT_PREFIX}${i + 1}@127.0.0.1:5060`,
      senior: false,
      skills: [{ group: GROUP, level: 3 }],
      sip: { username: `${AGENT_PREFIX}${i + 1}`, password: `${PASSWORD_PREFIX}${i + 1}` },
    })),
    rules: { defaultGroup: GROUP },
  };
  const res = await fetch(`${url}/api/v1/routing/config`, {
    method: 'PUT',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`routing configuration refused: ${res.status} ${await res.text()}`);
}

/** The box's warnings and errors (log level warn), a bounded tail per step. */
function watchStderr(app: RunningAppliance): { take(): string[] } {
  let lines: string[] = [];
  let partial = '';
  app.child.stderr?.on('data', (d: Buffer) => {
    partial += d.toString();
    const all = partial.split('\n');
    partial = all.pop() ?? '';
    for (const l of all) {
      if (l.trim() === '') continue;
      lines.push(l.length > 400 ? l.slice(0, 400) + '…' : l);
      if (lines.length > 200) lines.shift();
    }
  });
  return {
    take: () => {
      const out = lines;
      lines = [];
      return out;
    },
  };
}

interface EventCounts {
  decisions: Record<string, number>;
  agentStates: Record<string, number>;
  callEnds: Record<string, number>;
}

/** Route decisions by action, agent state changes by target state, call ends by reason: the box's event stream. */
class EventCounter {
  private counts: EventCounts = { decisions: {}, agentStates: {}, callEnds: {} };

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      let e: { type?: string; action?: string; to?: string; reason?: string };
      try {
        e = JSON.parse(data.toString()) as typeof e;
      } catch {
        return;
      }
      const bump = (m: Record<string, number>, k: string | undefined): void => void (m[k ?? '?'] = (m[k ?? '?'] ?? 0) + 1);
      if (e.type === 'route.decision') bump(this.counts.decisions, e.action);
      else if (e.type === 'agent.state') bump(this.counts.agentStates, e.to);
      else if (e.type === 'call.ended') bump(this.counts.callEnds, e.reason);
    });
    ws.on('error', () => undefined);
  }

  static async open(url: string, authorization: string): Promise<EventCounter> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/events?types=route.decision,agent.state,call.ended`, {
      headers: { authorization },
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new EventCounter(ws);
  }

  reset(): void {
    this.counts = { decisions: {}, agentStates: {}, callEnds: {} };
  }

  snapshot(): EventCounts {
    return structuredClone(this.counts);
  }

  close(): void {
    this.ws.close();
  }
}
