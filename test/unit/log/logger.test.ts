import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../appliance/log/logger.js';
import { plantedIn } from '../../helpers/planted.js';

function capture(level: string, includePii: boolean) {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level, includePii, destination }), lines };
}

describe('logger', () => {
  it('drops PII-marked fields at info even when includePii is set', () => {
    const { logger, lines } = capture('info', true);
    logger.info({ callId: 'c1', pii: { text: 'MY CARD IS 4111' }, leg: { pii: { number: '+4412345' } } }, 'utterance final');
    expect(plantedIn(JSON.stringify(lines), ['MY CARD', '4111', '+4412345'])).toEqual([]);
    expect(lines[0]).toMatchObject({ callId: 'c1', msg: 'utterance final' });
  });

  it('keeps PII only at debug with includePii', () => {
    const { logger, lines } = capture('debug', true);
    logger.debug({ pii: { text: 'HELLO' } }, 'utterance final');
    expect(lines[0]?.['pii']).toEqual({ text: 'HELLO' });
    const quiet = capture('debug', false);
    quiet.logger.debug({ pii: { text: 'HELLO' } }, 'utterance final');
    expect(quiet.lines[0]?.['pii']).toBeUndefined();
  });
});
