/** `edgevox serve`: run the appliance until SIGTERM/SIGINT, then drain and close. */
import { Appliance } from '../../appliance/app/app.js';
import type { CliCommand } from '../command.js';
import { COMMON_FLAGS, COMMON_USAGE, configFromFlags } from '../commonFlags.js';
import { parseCli } from '../parse.js';

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'run the appliance (console, API, media, inference)',
  usage: `usage: edgevox serve [options]\n${COMMON_USAGE}\n\nExit status: 0 after a clean shutdown, 2 for configuration errors, 1 for runtime failures.`,
  async run(argv, io) {
    const { values } = parseCli(argv, COMMON_FLAGS);
    const config = configFromFlags(values);
    const appliance = await Appliance.start(config);
    io.err(`edgevox: serving on ${appliance.httpUrl}\n`);
    return new Promise<number>((resolveExit) => {
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) {
          // A second signal means "now": skip the grace period.
          appliance.logger.warn({ signal }, 'second signal, closing immediately');
          void appliance.close(`signal ${signal} (forced)`).then(() => resolveExit(1));
          return;
        }
        stopping = true;
        appliance.logger.info({ signal }, 'shutdown requested');
        void appliance
          .drain()
          .then(() => appliance.close(`signal ${signal}`))
          .then(
            () => resolveExit(0),
            () => resolveExit(1),
          );
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
  },
};
