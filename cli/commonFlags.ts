/** Flags every long-running command accepts; they override the config file and EDGEVOX_* variables. */
import { loadConfig } from '../appliance/config/load.js';
import type { EdgeVoxConfig } from '../appliance/config/schema.js';

export const COMMON_FLAGS = {
  config: { type: 'string' },
  'data-dir': { type: 'string' },
  'models-dir': { type: 'string' },
  'http-host': { type: 'string' },
  'http-port': { type: 'string' },
  'log-level': { type: 'string' },
  'sip-host': { type: 'string' },
  'sip-port': { type: 'string' },
} as const;

export const COMMON_USAGE = `  --config FILE        YAML or JSON configuration file
  --data-dir DIR       data directory (default var/)
  --models-dir DIR     directory models are installed from (default ../shared/models)
  --http-host HOST     console/API address (default 127.0.0.1)
  --http-port PORT     console/API port (default 8080)
  --sip-host HOST      SIP listen address (default 127.0.0.1)
  --sip-port PORT      SIP port, UDP and TCP (default 5060)
  --log-level LEVEL    fatal|error|warn|info|debug|trace|silent
Environment variables EDGEVOX_<KEY> (e.g. EDGEVOX_HTTP_PORT) override the file; flags override both.`;

export function configFromFlags(values: Partial<Record<keyof typeof COMMON_FLAGS, string | undefined>>): EdgeVoxConfig {
  return loadConfig({
    file: values.config,
    flags: {
      dataDir: values['data-dir'],
      modelsDir: values['models-dir'],
      'http.host': values['http-host'],
      'http.port': values['http-port'],
      'log.level': values['log-level'],
      'sip.host': values['sip-host'],
      'sip.port': values['sip-port'],
    },
  });
}
