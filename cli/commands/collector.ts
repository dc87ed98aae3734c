/** `edgevox collector`: the receiver for site aggregates (see collector/). */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Collector } from '../../collector/collector.js';
import { evxError } from '../../appliance/errors.js';
import type { CliCommand } from '../command.js';
import { parseCli } from '../parse.js';

const USAGE = `usage: edgevox collector --key-file FILE [options]

Receive signed, anonymised aggregates from EdgeVox sites: verify signatures, store each (site,
window) once in PostgreSQL (--postgres or EDGEVOX_COLLECTOR_PG_URL), else in <data-dir>/collector.sqlite.

options:
  --key-file FILE   JSON {"sites": {"<siteId>": {"enrollmentKey": "..."} | {"ed25519PublicKey": "PEM"}}}
  --port P          listen port (default 8090; 0 = any free port)
  --host H          listen address (default 127.0.0.1)
  --data-dir D      the SQLite store's folder when no PostgreSQL is given (default var/collector)
  --postgres URL    store in PostgreSQL, e.g. postgres://edgevox_collector@/edgevox_collector?host=/run/postgresql
                    (default: $EDGEVOX_COLLECTOR_PG_URL; prefer the variable when the URL holds a password)
  --pg-pool N       PostgreSQL connections (default 10)
  --tls-cert FILE   serve HTTPS with this certificate (PEM) ...
  --tls-key FILE    ... and this key
  --read-token-file FILE  a bearer token (first line of FILE) that may read what was received with
                    GET /api/v1/aggregates and /api/v1/totals; without it, reading over HTTP is off
Prints "collector listening on URL" on stderr; stops on SIGTERM/SIGINT.`;

export const collectorCommand: CliCommand = {
  name: 'collector',
  summary:
    'run the central receiver of upstream aggregates: signature, schema and idempotency checks; stored in PostgreSQL (`--postgres URL` or `EDGEVOX_COLLECTOR_PG_URL`) or a local SQLite file; HQ totals API; see [docs/central.md](docs/central.md)',
  usage: USAGE,
  async run(argv, io) {
    const { values } = parseCli(argv, {
      'key-file': { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'read-token-file': { type: 'string' },
      postgres: { type: 'string' },
      'pg-pool': { type: 'string' },
      help: { type: 'boolean' },
    });
    if (values.help) {
      io.out(USAGE + '\n');
      return 0;
    }
    if (!values['key-file']) throw evxError('EVX_ERR_CLI_USAGE', '--key-file is required');
    const port = Number(values.port ?? 8090);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw evxError('EVX_ERR_CLI_USAGE', `--port must be 0..65535, not ${values.port}`);
    if (Boolean(values['tls-cert']) !== Boolean(values['tls-key']))
      throw evxError('EVX_ERR_CLI_USAGE', '--tls-cert and --tls-key go together');
    const pgUrl = values.postgres ?? process.env.EDGEVOX_COLLECTOR_PG_URL ?? '';
    const poolSize = Number(values['pg-pool'] ?? 10);
    if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 1000)
      throw evxError('EVX_ERR_CLI_USAGE', `--pg-pool must be 1..1000, not ${values['pg-pool']}`);
    const collector = await Collector.start({
      host: values.host ?? '127.0.0.1',
      port,
      dataDir: resolve(values['data-dir'] ?? 'var/collector'),
      keyFile: values['key-file'],
      postgres: pgUrl === '' ? undefined : { connectionString: pgUrl, poolSize },
      tls: values['tls-cert'] ? { cert: readFileSync(values['tls-cert']), key: readFileSync(values['tls-key']!) } : undefined,
      readToken: values['read-token-file'] ? readToken(values['read-token-file']) : undefined,
    });
    io.err(`collector listening on ${collector.url} (store: ${collector.store.kind})\n`);
    return new Promise<number>((resolveExit) => {
      const stop = () => void collector.close().then(() => resolveExit(0));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
  },
};

function readToken(file: string): string {
  const token = (readFileSync(file, 'utf8').split('\n')[0] ?? '').trim();
  if (token.length < 16) throw evxError('EVX_ERR_CLI_USAGE', `--read-token-file ${file}: the token must be at least 16 characters`);
  return token;
}
