/**
 * A throwaway PostgreSQL server for the collector's tests and `make bench-collector`: initdb into a
 * fresh temporary folder, start on a free loopback port with its unix socket inside that folder,
 * stop and delete it after. PostgreSQL refuses to run as root, so as root the server runs as the
 * `postgres` user (Debian's package creates it) through runuser.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TempPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust authentication, loopback only) */
  url: string;
  port: number;
  /** The unix socket's folder (inside the temporary folder). */
  socketDir: string;
  /** URL of another database on the same server. */
  urlFor(database: string): string;
  /** Creates a database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** The postmaster's process id (its backends are its children). */
  pid(): number;
  /** The server log so far (for a failing test's message). */
  log(): string;
  stop(): Promise<void>;
}

export interface TempPostgresOptions {
  /** fsync and synchronous_commit on (default true: the durability a real collector runs with). */
  durable?: boolean;
  maxConnections?: number;
}

/** The newest installed server's binaries (`PG_BIN` overrides). */
export function postgresBinDir(): string {
  const fromEnv = process.env['PG_BIN'];
  if (fromEnv) return fromEnv;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const bin = versions.map((v) => join(root, v, 'bin')).find((d) => existsSync(join(d, 'initdb')));
  if (bin === undefined) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql (Debian package postgresql)');
  return bin;
}

/** True when this machine can start a PostgreSQL server. */
export function havePostgres(): boolean {
  try {
    postgresBinDir();
    return true;
  } catch {
    return false;
  }
}

export async function startTempPostgres(o: TempPostgresOptions = {}): Promise<TempPostgres> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'evx-pg-'));
  const data = join(dir, 'data');
  const socketDir = join(dir, 'sock');
  const logFile = join(dir, 'server.log');
  mkdirSync(socketDir);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const uid = Number(stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    chownSync(dir, uid, gid);
    chownSync(socketDir, uid, gid);
  }
  const pg = (tool: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]) : run(join(bin, tool), args);
  await pg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
  const durable = o.durable ?? true;
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await freeTcpPort();
    const settings = [
      `-c port=${port}`,
      `-c listen_addresses=127.0.0.1`,
      `-c unix_socket_directories=${socketDir}`,
      `-c max_connections=${o.maxConnections ?? 100}`,
      `-c fsync=${durable ? 'on' : 'off'}`,
      `-c synchronous_commit=${durable ? 'on' : 'off'}`,
    ].join(' ');
    try {
      await pg('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '60', '-o', settings, 'start']);
      break;
    } catch (err) {
      // another process took the port between the probe and the start: try another one
      if (attempt >= 3) {
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`PostgreSQL did not start: ${(err as Error).message}`);
      }
    }
  }
  const urlFor = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  let stopped = false;
  return {
    url: urlFor('postgres'),
    port,
    socketDir,
    urlFor,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name ${name}`);
      await pg('psql', ['-h', socketDir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-qc', `CREATE DATABASE ${name}`]);
      return urlFor(name);
    },
    pid: () => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]),
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    async stop() {
      if (stopped) return;
      stopped = true;
      await pg('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
