/** Post-call summaries quote the transcript: they expire with the transcripts, and go with their call. */
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../appliance/config/load.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { RetentionService } from '../../../appliance/retention/retention.js';
import { storeRetentionClasses } from '../../../appliance/retention/storeClasses.js';
import { Store } from '../../../appliance/store/database.js';
import { summariseCall } from '../../../appliance/summary/summariser.js';
import { SummaryRepo } from '../../../appliance/summary/summaryRepo.js';
import { scratchDir } from '../../helpers/paths.js';

const HOUR = 3_600_000;

describe('summary retention', () => {
  it('deletes summaries older than the transcript retention, keeps newer ones, and cascades with the call', () => {
    const store = Store.open(scratchDir('sumret'));
    const repo = new SummaryRepo(store.db, (op, fn) => store.write(op, fn));
    const summary = summariseCall([{ speaker: 'caller', text: 'I lost my card yesterday.', language: 'en' }], {
      language: 'en',
      transferred: false,
    });
    const t0 = Date.UTC(2026, 0, 1);
    for (const [id, at] of [
      ['old', t0],
      ['fresh', t0 + 29 * 24 * HOUR],
    ] as const) {
      store.calls.create({ id, source: 'sip', callerHash: null, startedAt: at });
      store.calls.end(id, at + 60_000, 'bye');
      repo.save(id, summary, at + 60_000);
    }
    expect(repo.get('old')?.summary.reason.text).toBe('I lost my card yesterday.');
    const config = validateConfig({ privacy: { retention: { transcriptsHours: 24 * 10, callsHours: 24 * 365 } } });
    const svc = new RetentionService({
      classes: storeRetentionClasses(store, config.privacy.retention),
      intervalMs: HOUR,
      logger: createLogger({ level: 'silent', includePii: false }),
      now: () => t0 + 30 * 24 * HOUR,
    });
    expect(svc.sweep()['transcripts']).toBe(1);
    expect(repo.get('old')).toBeUndefined();
    expect(repo.get('fresh')).toBeDefined();
    store.db.prepare('DELETE FROM calls WHERE id = ?').run('fresh');
    expect(repo.get('fresh')).toBeUndefined();
    store.close();
  });
});
