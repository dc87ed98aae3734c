/**
 * sipp as a phone the appliance calls (UAS): started in the background on a free loopback port,
 * ready once its SIP socket is bound; `done` resolves when the scenario ends (exit code 0 = every
 * step, ACK and BYE included, happened as the scenario says). Runs in a temp dir so scenario
 * files (tone.ulaw) and sipp's error/message traces stay out of the tree.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, SCENARIOS } from '../e2e/sip/harness.js';

export interface SippUas {
  /** SIP port sipp listens on (127.0.0.1, UDP). */
  readonly port: number;
  /** Its media port (`-mp`; rtp_stream uses its own). */
  readonly mediaPort: number;
  readonly dir: string;
  /** Exit code and output tails; the traces sipp wrote (messages, errors) for failure messages. */
  readonly done: Promise<{ code: number | null; output: string }>;
  kill(): void;
  cleanup(): void;
}

export interface SippUasOptions {
  /** Files to put in sipp's working directory (e.g. tone.ulaw for rtp_stream). */
  readonly files?: Readonly<Record<string, Buffer>>;
  /** Extra arguments (e.g. `-d 1000` for a scenario's pause). */
  readonly args?: readonly string[];
  readonly timeoutMs?: number;
}

/** Start sipp with `scenario` (a file in test/scenarios) as a UAS for one call. */
export async function startSippUas(scenario: string, opts: SippUasOptions = {}): Promise<SippUas> {
  const dir = mkdtempSync(path.join(tmpdir(), 'evx-sipp-uas-'));
  for (const [name, bytes] of Object.entries(opts.files ?? {})) writeFileSync(path.join(dir, name), bytes);
  const port = await freePort();
  const mediaPort = await freePort(true);
  const args = [
    '-sf',
    path.join(SCENARIOS, scenario),
    '-m',
    '1',
    '-i',
    '127.0.0.1',
    '-p',
    String(port),
    '-mi',
    '127.0.0.1',
    '-mp',
    String(mediaPort),
    '-nostdin',
    '-trace_err',
    '-trace_msg',
    '-timeout',
    `${Math.ceil((opts.timeoutMs ?? 30_000) / 1000)}s`,
    '-timeout_error',
    ...(opts.args ?? []),
  ];
  const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const done = new Promise<{ code: number | null; output: string }>((resolve) => {
    child.on('close', (code) => {
      resolve({ code, output: `${output}\n${traces(dir)}` });
    });
  });
  // ready when its SIP socket is bound (or it died trying); read from /proc, never by binding the
  // port ourselves (that would race sipp's own bind)
  const deadline = Date.now() + 5000;
  let exited = false;
  void done.then(() => (exited = true));
  while (!exited && Date.now() < deadline && !udpBound(port)) await new Promise((r) => setTimeout(r, 20));
  return {
    port,
    mediaPort,
    dir,
    done,
    kill: () => child.kill('SIGKILL'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** True when some socket is bound to UDP `port` (Linux /proc/net/udp, local address column). */
function udpBound(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  try {
    return readFileSync('/proc/net/udp', 'latin1')
      .split('\n')
      .some((line) => line.trim().split(/\s+/)[1]?.endsWith(hex) === true);
  } catch {
    return true; // no /proc: rely on the INVITE's retransmissions
  }
}

/** The tails of sipp's message and error traces (empty once the directory is gone). */
function traces(dir: string): string {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('_errors.log') || f.endsWith('_messages.log'))
      .map((f) => `--- ${f}\n${readFileSync(path.join(dir, f), 'latin1').slice(-6000)}`)
      .join('\n');
  } catch {
    return '';
  }
}
