/**
 * Carries out a credential reset that a store migration asked for (a row in `credential_resets`):
 * the migration already ended every console session and API token; here, before anything that
 * signs or verifies tokens starts, each signing secret file is replaced with a fresh random one, so
 * every softphone and caller token signed before is void. Done once per row, audited, and logged
 * at warn (counts only). Returns how many resets were carried out.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, renameSync, writeFileSync } from 'node:fs';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/database.js';

interface PendingReset {
  id: number;
  reason: string;
  sessions_ended: number;
  tokens_revoked: number;
}

export function applyCredentialResets(store: Store, secretFiles: readonly string[], logger: Logger, now = Date.now()): number {
  const pending = store.db
    .prepare(`SELECT id, reason, sessions_ended, tokens_revoked FROM credential_resets WHERE secrets_rotated_at IS NULL ORDER BY id`)
    .all() as PendingReset[];
  if (pending.length === 0) return 0;
  let rotated = 0;
  for (const file of secretFiles) {
    if (!existsSync(file)) continue; // created fresh when first needed
    const tmp = `${file}.rotating`;
    writeFileSync(tmp, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
    rotated++;
  }
  for (const reset of pending) {
    store.write('auth.credentialReset', () =>
      store.db.prepare(`UPDATE credential_resets SET secrets_rotated_at = ? WHERE id = ?`).run(now, reset.id),
    );
    store.audit.record('system', 'credentials.reset', '', {
      reason: reset.reason,
      sessionsEnded: reset.sessions_ended,
      tokensRevoked: reset.tokens_revoked,
      secretsRotated: rotated,
    });
    logger.warn(
      { reason: reset.reason, sessionsEnded: reset.sessions_ended, tokensRevoked: reset.tokens_revoked, secretsRotated: rotated },
      'credentials reset after upgrade: every console session and API token ended, token signing secrets rotated',
    );
  }
  return pending.length;
}
