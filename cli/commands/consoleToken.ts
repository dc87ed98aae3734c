/**
 * `edgevox console-token`: mint an API token (Bearer) straight in the store, for operators with
 * shell access to the box (monitoring, provisioning scripts, recovery when no one can sign in).
 * Safe next to a running appliance: SQLite WAL serialises the write.
 */
import { resolve } from 'node:path';
import { issueApiToken, isRole, ROLES } from '../../appliance/auth/authService.js';
import { evxError } from '../../appliance/errors.js';
import { Store } from '../../appliance/store/database.js';
import type { CliCommand } from '../command.js';
import { COMMON_FLAGS, COMMON_USAGE, configFromFlags } from '../commonFlags.js';
import { parseCli } from '../parse.js';

export const consoleTokenCommand: CliCommand = {
  name: 'console-token',
  summary: 'create an API token for the console API (printed once)',
  usage: `usage: edgevox console-token --name NAME [--role technician|supervisor|viewer] [options]\n${COMMON_USAGE}\n\nPrints the token on stdout; use it as "Authorization: Bearer <token>". Revoke it with DELETE /api/v1/tokens/:id.`,
  async run(argv, io) {
    const { values } = parseCli(argv, { ...COMMON_FLAGS, name: { type: 'string' }, role: { type: 'string', default: 'viewer' } });
    if (values.name === undefined) throw evxError('EVX_ERR_CLI_USAGE', '--name is required');
    if (!isRole(values.role)) throw evxError('EVX_ERR_CLI_USAGE', `--role must be one of ${ROLES.join(', ')}`);
    const config = configFromFlags(values);
    const store = Store.open(resolve(config.dataDir));
    try {
      const { id, token } = issueApiToken(store, values.name, values.role, 'cli');
      io.err(`token ${id} (${values.role}) created; it is shown only once\n`);
      io.out(`${token}\n`);
    } finally {
      store.close();
    }
    return 0;
  },
};
