/**
 * Runs the SIP front of provisioning/kamailio (Kamailio 5.6) as a child process on loopback, without
 * root: a runtime copy of kamailio.cfg and partitions.cfg plus a generated dispatcher list in a
 * temporary directory, Kamailio in the foreground (-DD -E) with its runtime files there. For the
 * cluster e2e test and `make bench-cluster`. `dispatcher()` reads each box's state over JSON-RPC.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const KAMAILIO_DIR = resolve('provisioning/kamailio');

/** One box behind the front: its SIP port on 127.0.0.1 and its priority in each set (partition) it serves. */
export interface FrontBox {
  readonly name: string;
  readonly sipPort: number;
  /** set id -> priority (the higher, the earlier it is tried). */
  readonly sets: Readonly<Record<number, number>>;
}

export interface DispatcherTarget {
  readonly set: number;
  readonly uri: string;
  readonly name: string;
  /** Kamailio's flags: A active, I inactive, D disabled, P probing (e.g. "AP", "IP"). */
  readonly flags: string;
}

export interface KamailioFront {
  readonly port: number;
  readonly dir: string;
  dispatcher(): Promise<DispatcherTarget[]>;
  rpc(method: string, params?: unknown[]): Promise<unknown>;
  log(): string;
  stop(): Promise<void>;
}

export function haveKamailio(): boolean {
  return spawnSync('kamailio', ['-v'], { stdio: 'ignore' }).status === 0;
}

export function dispatcherList(boxes: readonly FrontBox[]): string {
  const lines = ['# setid destination flags priority attrs (generated)'];
  for (const b of boxes) {
    for (const [set, priority] of Object.entries(b.sets)) lines.push(`${set} sip:127.0.0.1:${b.sipPort} 0 ${priority} name=${b.name}`);
  }
  return lines.join('\n') + '\n';
}

interface RpcTarget {
  DEST: { URI: string; FLAGS: string; ATTRS?: { BODY?: string } };
}

/** Start Kamailio on 127.0.0.1:`port` (UDP and TCP) in front of `boxes`; resolves once its RPC answers. */
export async function startKamailioFront(opts: {
  port: number;
  boxes: readonly FrontBox[];
  probeIntervalS?: number;
  noReplyMs?: number;
}): Promise<KamailioFront> {
  const dir = mkdtempSync(join(tmpdir(), 'evx-kamailio-'));
  copyFileSync(join(KAMAILIO_DIR, 'kamailio.cfg'), join(dir, 'kamailio.cfg'));
  copyFileSync(join(KAMAILIO_DIR, 'partitions.cfg'), join(dir, 'partitions.cfg'));
  const list = join(dir, 'dispatcher.list');
  writeFileSync(list, dispatcherList(opts.boxes));
  const args = [
    '-DD',
    '-E',
    '-m',
    '64',
    '-M',
    '8',
    '-f',
    join(dir, 'kamailio.cfg'),
    '-Y',
    dir,
    '-P',
    join(dir, 'kamailio.pid'),
    '-l',
    `udp:127.0.0.1:${opts.port}`,
    '-l',
    `tcp:127.0.0.1:${opts.port}`,
    '-A',
    `DISPATCHER_LIST="${list}"`,
    '-A',
    `PROBE_INTERVAL=${opts.probeIntervalS ?? 2}`,
    '-A',
    `NOREPLY_MS=${opts.noReplyMs ?? 1500}`,
  ];
  const child: ChildProcess = spawn('kamailio', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer): void => {
    out = (out + d.toString()).slice(-200_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const rpc = async (method: string, params: unknown[] = []): Promise<unknown> => {
    const res = await fetch(`http://127.0.0.1:${opts.port}/RPC`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }),
    });
    const body = (await res.json()) as { result?: unknown; error?: unknown };
    if (body.error !== undefined) throw new Error(`kamailio rpc ${method}: ${JSON.stringify(body.error)}`);
    return body.result;
  };
  const front: KamailioFront = {
    port: opts.port,
    dir,
    rpc,
    log: () => out,
    async dispatcher() {
      const result = (await rpc('dispatcher.list')) as { RECORDS?: { SET: { ID: number; TARGETS: RpcTarget[] } }[] };
      const targets: DispatcherTarget[] = [];
      for (const r of result.RECORDS ?? []) {
        for (const t of r.SET.TARGETS) {
          const name = /name=([^;\s]+)/.exec(t.DEST.ATTRS?.BODY ?? '')?.[1] ?? '';
          targets.push({ set: r.SET.ID, uri: t.DEST.URI, name, flags: t.DEST.FLAGS });
        }
      }
      return targets;
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`kamailio exited: ${out.slice(-2000)}`);
    try {
      await rpc('core.version');
      return front;
    } catch (err) {
      if (i > 100) {
        await front.stop();
        throw new Error(`kamailio did not start: ${String(err)} ${out.slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Wait until every listed box shows `want` ('A' active or 'I' inactive) in every set; resolves with the ms it took. */
export async function waitForBoxes(front: KamailioFront, names: readonly string[], want: 'A' | 'I', timeoutMs = 20_000): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const targets = await front.dispatcher();
    const mine = targets.filter((t) => names.includes(t.name));
    if (mine.length > 0 && mine.every((t) => t.flags.startsWith(want))) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`boxes ${names.join(',')} not ${want}: ${JSON.stringify(targets)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
