/**
 * Runs benchCallers.js (our own SIP callers: UDP + RTP, or TLS + SRTP) as a child process, so its
 * CPU is never counted against the box, and reads back its one-line JSON report. Shared by the
 * media-only secure bench and the whole-appliance `bench-sip --secure-vs-plain`.
 */
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type CallerMode = 'plain' | 'secure';

/** What benchCallers.js prints. */
export interface CallerReport {
  attempted: number;
  established: number;
  completedBye: number;
  failed: number;
  packetsSent: number;
  packetsReceivedFromBox: number;
  unprotectFailures: number;
  lateFrames: number;
  maxSendLateMs: number;
  callerCpuPctOfOneCore: number;
  failures: Record<string, number>;
}

export interface CallerRun {
  readonly mode: CallerMode;
  readonly sipPort: number;
  readonly tlsPort: number;
  readonly calls: number;
  readonly seconds: number;
  /** Raw μ-law, 8 kHz. */
  readonly clip: string;
  /** Caller i starts the clip at i/N of it. */
  readonly spreadClip?: boolean;
}

export interface CallerOutcome {
  readonly code: number | null;
  /** undefined when the process printed no report (stderr says why). */
  readonly report: CallerReport | undefined;
  readonly stderr: string;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));

export async function runCallerProcess(run: CallerRun): Promise<CallerOutcome> {
  const args = [
    path.join(HERE, 'benchCallers.js'),
    '--server-port',
    String(run.sipPort),
    '--tls-port',
    String(run.tlsPort),
    '--calls',
    String(run.calls),
    '--seconds',
    String(run.seconds),
    '--mode',
    run.mode,
    '--clip',
    run.clip,
    ...(run.spreadClip === true ? ['--spread-clip'] : []),
  ];
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
  });
  let report: CallerReport | undefined;
  try {
    report = JSON.parse(stdout.trim().split('\n').pop() ?? '') as CallerReport;
  } catch {
    report = undefined;
  }
  return { code, report, stderr: stderr.trim().slice(-2000) };
}

/** A throwaway self-signed P-256 certificate for the box's TLS listener in benches and interop runs (the peers do not check it). */
export function makeBenchCertificate(dir: string): { certFile: string; keyFile: string } {
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=edgevox-bench',
    ],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile };
}
