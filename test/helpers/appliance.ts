/** Start a real appliance on an ephemeral port with a scratch data dir, for integration tests. */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Appliance, type ApplianceOptions } from '../../appliance/app/app.js';
import { validateConfig } from '../../appliance/config/load.js';
import type { EdgeVoxConfig } from '../../appliance/config/schema.js';
import type { Logger } from '../../appliance/log/logger.js';
import { SHARED_MODELS_DIR, scratchDir } from './paths.js';

export interface CapturedLog {
  lines: Record<string, unknown>[];
}

export function captureLogger(level = 'info'): { logger: Logger; log: CapturedLog } {
  const log: CapturedLog = { lines: [] };
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) log.lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level, redact: { paths: ['pii', '*.pii'], remove: true } }, stream), log };
}

/** A random RTP range per appliance, so tests running in parallel never compete for ports. */
export function testRtpRange(size = 200, avoid: readonly number[] = []): { rtpPortMin: number; rtpPortMax: number } {
  // drawn again while it holds a port the test already took (the SIP port from the kernel's ephemeral
  // range lies in 30000-60000 too; the configuration check refuses SIP inside the RTP range)
  for (;;) {
    const min = 30000 + 2 * Math.floor(Math.random() * ((30000 - size) / 2));
    const max = min + size - 1;
    if (!avoid.some((p) => p >= min && p <= max)) return { rtpPortMin: min, rtpPortMax: max };
  }
}

export function testConfig(overrides: Record<string, unknown> = {}): EdgeVoxConfig {
  const {
    sip,
    http,
    console: consoleOverrides,
    ...rest
  } = overrides as { sip?: Record<string, unknown>; http?: Record<string, unknown>; console?: Record<string, unknown> };
  return validateConfig({
    dataDir: scratchDir('app'),
    modelsDir: SHARED_MODELS_DIR,
    http: { host: '127.0.0.1', port: 0, ...http },
    sip: { port: 0, ...testRtpRange(200, typeof sip?.['port'] === 'number' ? [sip['port']] : []), ...sip },
    console: { httpsPort: 0, ...consoleOverrides },
    ...rest,
  });
}

export async function startTestAppliance(
  overrides: Record<string, unknown> = {},
  options: ApplianceOptions = {},
): Promise<{ app: Appliance; log: CapturedLog }> {
  const { logger, log } = captureLogger();
  const app = await Appliance.start(testConfig(overrides), { logger, ...options });
  return { app, log };
}
