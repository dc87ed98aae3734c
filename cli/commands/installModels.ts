/** `edgevox install-models`: install and verify every model of the manifest into the data dir. */
import { join, resolve } from 'node:path';
import { MANIFEST_PATH, REPO_ROOT } from '../../appliance/buildInfo.js';
import { ModelStore } from '../../appliance/modelstore/modelStore.js';
import type { CliCommand } from '../command.js';
import { COMMON_FLAGS, COMMON_USAGE, configFromFlags } from '../commonFlags.js';
import { parseCli } from '../parse.js';

export const installModelsCommand: CliCommand = {
  name: 'install-models',
  summary: 'install the models of models/manifest.json into the data dir, verifying every sha256',
  usage: `usage: edgevox install-models [options]\n${COMMON_USAGE}\n\nExit status 1 when a required model has no verified active version.`,
  async run(argv, io) {
    const { values } = parseCli(argv, COMMON_FLAGS);
    const config = configFromFlags(values);
    const store = new ModelStore({
      manifestPath: MANIFEST_PATH,
      modelsDir: resolve(config.modelsDir),
      repoRoot: REPO_ROOT,
      storeDir: join(resolve(config.dataDir), 'models'),
    });
    let failed = false;
    for (const s of store.installAll()) {
      if (s.error) {
        io.err(`${s.name}: ${s.error.code}: ${s.error.message}${s.activeVersion ? ` (keeping active version ${s.activeVersion})` : ''}\n`);
        if (s.required && s.activeVersion === null) failed = true;
      } else {
        io.out(`${s.name}: version ${s.activeVersion} verified and active (${s.licence})\n`);
      }
    }
    return Promise.resolve(failed ? 1 : 0);
  },
};
