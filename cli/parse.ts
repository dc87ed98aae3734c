/** Small wrapper over node:util parseArgs that turns its errors into EVX_ERR_CLI_USAGE. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { evxError } from '../appliance/errors.js';

export function parseCli<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw evxError('EVX_ERR_CLI_USAGE', err instanceof Error ? err.message : String(err), { cause: err });
  }
}
