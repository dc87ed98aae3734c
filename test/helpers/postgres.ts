/**
 * A real PostgreSQL server for a test file: `const pg = usePostgres()` at the top of a describe
 * starts one in beforeAll (initdb in a temp folder, free loopback port, unix socket in that folder,
 * as the `postgres` user when the tests run as root) and stops and deletes it in afterAll.
 * `pg.database()` gives each test its own empty database on it.
 */
import { afterAll, beforeAll } from 'vitest';
import { havePostgres, startTempPostgres, type TempPostgres } from '../../tools/collector/tempPostgres.js';

export { havePostgres, startTempPostgres, type TempPostgres };

export interface PostgresFixture {
  server(): TempPostgres;
  /** A new, empty database; returns its URL. */
  database(): Promise<string>;
}

export function usePostgres(): PostgresFixture {
  let server: TempPostgres | undefined;
  let n = 0;
  beforeAll(async () => {
    // tests do not need a crash-safe disk, and fsync on a shared CI disk is slow
    server = await startTempPostgres({ durable: false });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  }, 60_000);
  const get = () => {
    if (server === undefined) throw new Error('usePostgres: the server has not started (call it inside describe)');
    return server;
  };
  return { server: get, database: () => get().createDatabase(`evx_test_${process.pid}_${++n}`) };
}
