/**
 * Structured JSON logging (pino). Messages are static strings; variable data goes in fields.
 *
 * Personal data (transcripts, phone numbers, names) is only ever logged under the `pii` key, and that
 * key is removed from every record unless the level is debug/trace AND `log.includePii` is set.
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  readonly level: string;
  readonly includePii: boolean;
  /** Where records go (default: stdout). Tests pass a memory stream. */
  readonly destination?: DestinationStream;
}

export const PII_KEY = 'pii';

export function createLogger(options: LoggerOptions): Logger {
  const verbose = options.level === 'debug' || options.level === 'trace';
  const keepPii = verbose && options.includePii;
  const config = {
    level: options.level,
    base: { service: 'edgevox' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Removing the key (not masking it) keeps the record small and obviously PII-free.
    ...(keepPii ? {} : { redact: { paths: [PII_KEY, `*.${PII_KEY}`], remove: true } }),
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}
