/**
 * Helpers for the sipp end-to-end tests: free loopback ports, the speech clip as raw μ-law in a
 * temp dir (made with sox at test time, never committed), and a sipp runner.
 */
import { execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const SHARED = path.resolve(process.env['EDGEVOX_SHARED'] ?? '../shared');
export const SCENARIOS = path.resolve('test/scenarios');

export function haveTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A UDP port that is free on 127.0.0.1 now (and its TCP twin, for SIP). */
/** The appliance's default WebRTC media port range (webrtc.rtcPortMin..rtcPortMax). */
const WEBRTC_DEFAULT_PORT_MIN = 40000;
const WEBRTC_DEFAULT_PORT_MAX = 40999;

export async function freePort(even = false): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve) => {
      const s = dgram.createSocket('udp4');
      s.bind(0, '127.0.0.1', () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
    if (even && port % 2 === 1) continue;
    // the kernel's ephemeral range overlaps the appliance's default WebRTC media range: a SIP port
    // there is refused by the configuration check (SIP and media must use different UDP ports)
    if (port >= WEBRTC_DEFAULT_PORT_MIN && port <= WEBRTC_DEFAULT_PORT_MAX) continue;
    if (await tcpFree(port)) return port;
  }
}

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * The UDP ports in [min, max] that a socket of this process is bound to (IPv4 and IPv6), read from
 * /proc: the socket inodes this process holds against the kernel's UDP tables. Unlike trying to bind
 * each port, it is not fooled by another process (a parallel test, an ephemeral port) that happens
 * to hold a port of the range.
 */
export function udpPortsHeldHere(min: number, max: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // the fd closed while we listed them
    }
  }
  const held: number[] = [];
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue; // no IPv6 on this kernel
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const port = parseInt(cols[1]!.split(':')[1]!, 16);
      if (port >= min && port <= max && inodes.has(cols[9]!)) held.push(port);
    }
  }
  return held.sort((a, b) => a - b);
}

/** True when a UDP port can be bound exclusively again (its previous owner closed it). */
export function udpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind({ port, address: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

export function tcpPortFree(port: number): Promise<boolean> {
  return tcpFree(port);
}

export interface Workdir {
  readonly dir: string;
  /** Raw μ-law bytes of the clip as sipp will stream them. */
  readonly ulaw: Buffer;
  cleanup(): void;
}

/** Convert a clip to raw μ-law 8 kHz as `name` in a fresh temp dir. */
export function prepareClip(wav: string, name = 'speech.ulaw', extraSoxArgs: string[] = []): Workdir {
  const dir = mkdtempSync(path.join(tmpdir(), 'evx-sipp-'));
  const out = path.join(dir, name);
  execFileSync('sox', [wav, '-r', '8000', '-c', '1', '-t', 'ul', out, ...extraSoxArgs], { stdio: 'ignore' });
  return { dir, ulaw: readFileSync(out), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface SippResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The arguments of a sipp UAC placing one call from loopback to `target` (`host:port`) with
 * `scenario` (a file in test/scenarios), on free SIP and media ports; `extra` follows.
 */
export async function sippUacArgs(target: string, scenario: string, extra: readonly string[] = []): Promise<string[]> {
  const sipPort = String(await freePort());
  const mediaPort = String(await freePort(true));
  return [
    target,
    '-sf',
    path.join(SCENARIOS, scenario),
    '-m',
    '1',
    '-i',
    '127.0.0.1',
    '-p',
    sipPort,
    '-mi',
    '127.0.0.1',
    '-mp',
    mediaPort,
    ...extra,
  ];
}

/** Run sipp to completion (killed after `timeoutMs`). */
export function runSipp(args: string[], cwd: string, timeoutMs = 30_000): Promise<SippResult> {
  return new Promise((resolve) => {
    const child = spawn('sipp', ['-nostdin', '-trace_err', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: stdout.slice(-4000), stderr: stderr.slice(-4000) });
    });
  });
}

export function rms(samples: ArrayLike<number>, from = 0, to = samples.length): number {
  let e = 0;
  for (let i = from; i < to; i++) e += samples[i]! * samples[i]!;
  return Math.sqrt(e / Math.max(1, to - from));
}
