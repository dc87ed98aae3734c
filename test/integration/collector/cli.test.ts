/**
 * `edgevox collector` (the compiled CLI, as the systemd unit runs it) on PostgreSQL: the database
 * named by EDGEVOX_COLLECTOR_PG_URL in the unix-socket form the unit's environment file uses; a
 * window uploaded is in the database; with the database gone an upload is answered 503 and the
 * collector keeps running; SIGTERM stops it cleanly.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { postSigned } from '../../../appliance/sync/uploader.js';
import { keyFileJson, seededRandom, simulatedPayload, simulatedSites } from '../../../tools/collector/simulatedSites.js';
import { CLI } from '../../helpers/process.js';
import { REPO_ROOT, scratchDir } from '../../helpers/paths.js';
import { havePostgres, usePostgres } from '../../helpers/postgres.js';

describe.skipIf(!havePostgres())('edgevox collector on PostgreSQL', () => {
  const postgres = usePostgres();

  it('stores into the database named by EDGEVOX_COLLECTOR_PG_URL over the unix socket, answers 503 while the database is gone, and stops on SIGTERM', async () => {
    const server = postgres.server();
    const database = 'evx_cli_socket';
    await server.createDatabase(database);
    const socketUrl = `postgres://postgres@/${database}?host=${encodeURIComponent(server.socketDir)}&port=${server.port}`;
    const [site] = simulatedSites(1, 'cli');
    const dir = scratchDir('collector-cli');
    writeFileSync(join(dir, 'sites.json'), keyFileJson([site!]));
    const child = spawn(process.execPath, [CLI, 'collector', '--port', '0', '--key-file', join(dir, 'sites.json'), '--data-dir', dir], {
      cwd: REPO_ROOT,
      env: { ...process.env, EDGEVOX_COLLECTOR_PG_URL: socketUrl },
    });
    let err = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /collector listening on (\S+) \(store: (\w+)\)/.exec(err);
        if (m?.[2] === 'postgres') resolve(m[1]!);
        else if (m) reject(new Error(`store ${m[2]}`));
      });
      void exited.then((code) => reject(new Error(`collector exited ${code}: ${err}`)));
    });
    const upload = (startMs: number) => {
      const payload = simulatedPayload(site!.id, startMs, seededRandom(3));
      const body = Buffer.from(JSON.stringify(payload));
      return postSigned({
        url: `${url}/api/v1/aggregates`,
        body,
        idempotencyKey: `${site!.id}:${payload.window.startMs}`,
        site: site!.id,
        signature: site!.signer.sign(body),
        timeoutMs: 10_000,
      });
    };
    expect((await upload(Date.UTC(2026, 10, 20, 9))).status).toBe(201);
    const client = new pg.Client({ connectionString: server.urlFor(database) });
    await client.connect();
    const rows = await client.query<{ site: string }>('SELECT site FROM aggregate_windows');
    await client.end();
    expect(rows.rows).toEqual([{ site: site!.id }]);

    // the database goes away: the collector answers 503 (the site keeps the window and retries) and keeps running
    await server.stop();
    expect((await upload(Date.UTC(2026, 10, 20, 10))).status).toBe(503);
    expect(child.exitCode).toBeNull();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
