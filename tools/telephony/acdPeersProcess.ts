/**
 * Runs acdBenchPeers.js (the ACD bench's agents' phones and callers, one child process) and reads
 * back its one-line JSON report. The peers run outside the bench process so their CPU is never
 * counted against the box and their clock is shared by both ends of every call.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** p50 / p95 / max of a set of times in ms (null when there were none). */
export interface TimeSummary {
  readonly n: number;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly maxMs: number | null;
}

/** What acdBenchPeers.js prints. */
export interface AcdPeersReport {
  agents: {
    /** Agents whose REGISTER (digest) was granted, before the callers started. */
    registered: number;
    registerFailures: Record<string, number>;
    /** INVITEs from the box, answered with 200 (and ACKed), refused busy. */
    invites: number;
    answered: number;
    acked: number;
    busyRefused: number;
    /** BYEs from the box on agent legs (the caller hung up: the box ends the agent leg). */
    byeFromBox: number;
    unregistered: number;
    rtpPacketsReceived: number;
  };
  callers: {
    attempted: number;
    /** 200 to the INVITE: the box answered. */
    answeredByBox: number;
    /** A marker tone the caller sent reached an agent's phone: caller and agent are bridged. */
    bridged: number;
    completedBye: number;
    /** The box hung up on the caller before the caller did (queue refusal, an error, ...). */
    endedByBox: number;
    failed: number;
    failures: Record<string, number>;
  };
  /** The caller's call answered by the box to the INVITE the box sent the agent who took it. */
  answerToAgentInvite: TimeSummary;
  /** Caller -> box -> agent: first marker frame handed to the caller's socket to its arrival at the agent's socket. */
  markerDelay: TimeSummary;
  /** The same measurement over a direct loopback socket pair in this process, at the same time (the floor of the method). */
  loopbackDelay: TimeSummary;
  markers: {
    /** Markers sent once the caller was bridged (from its first detected marker on, the last 200 ms before BYE left out), and of those, received. */
    sentBridged: number;
    receivedBridged: number;
    /** All markers that reached an agent (the delay samples). */
    detected: number;
    /** Of `detected`: the 1 kHz tone was there (Goertzel on the decoded frame). */
    toneConfirmed: number;
    /** Of `detected`: the payload arrived byte for byte as sent (same codec: relayed as is). */
    payloadExact: number;
  };
  /** Frames the peers' pacer sent more than 5 frames late (the load generator fell behind) and its worst lateness. */
  lateFrames: number;
  maxSendLateMs: number;
  /** The first late sends: seconds since the peers started, and how late (ms). */
  lateSamples: { atS: number; lateMs: number }[];
  peersCpuPctOfOneCore: number;
}

export interface AcdPeersRun {
  readonly sipPort: number;
  readonly calls: number;
  readonly agents: number;
  /** Agent i (1-based) registers as `${agentPrefix}${i}` with password `${passwordPrefix}${i}`. */
  readonly agentPrefix: string;
  readonly passwordPrefix: string;
  /** Each bridged call is held this long after its first marker reached the agent. */
  readonly holdSeconds: number;
  /** Caller speech before the first marker (the routing utterance). */
  readonly speechSeconds: number;
  /** A call not bridged this long after the box answered it fails. */
  readonly bridgeTimeoutSeconds: number;
  readonly markerIntervalMs: number;
  /** New calls per second. */
  readonly rate: number;
  /** Raw μ-law 8 kHz: what the callers say, what the agents say. */
  readonly callerClip: string;
  readonly agentClip: string;
}

export interface AcdPeersOutcome {
  readonly code: number | null;
  readonly report: AcdPeersReport | undefined;
  readonly stderr: string;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));

export async function runAcdPeers(run: AcdPeersRun, onLine?: (line: string) => void): Promise<AcdPeersOutcome> {
  const args = [
    path.join(HERE, 'acdBenchPeers.js'),
    '--server-port',
    String(run.sipPort),
    '--calls',
    String(run.calls),
    '--agents',
    String(run.agents),
    '--agent-prefix',
    run.agentPrefix,
    '--password-prefix',
    run.passwordPrefix,
    '--hold-seconds',
    String(run.holdSeconds),
    '--speech-seconds',
    String(run.speechSeconds),
    '--bridge-timeout-seconds',
    String(run.bridgeTimeoutSeconds),
    '--marker-interval-ms',
    String(run.markerIntervalMs),
    '--rate',
    String(run.rate),
    '--caller-clip',
    run.callerClip,
    '--agent-clip',
    run.agentClip,
  ];
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let partial = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (onLine === undefined) return;
      partial += d.toString();
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (l.trim() !== '') onLine(l);
    });
    child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
  });
  let report: AcdPeersReport | undefined;
  try {
    report = JSON.parse(stdout.trim().split('\n').pop() ?? '') as AcdPeersReport;
  } catch {
    report = undefined;
  }
  return { code, report, stderr: stderr.trim().slice(-2000) };
}
