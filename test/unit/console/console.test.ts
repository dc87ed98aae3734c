import { describe, expect, it } from 'vitest';
import { SlidingWindowLimiter } from '../../../appliance/auth/rateLimit.js';
import { hashPassword, passwordProblem, verifyPassword } from '../../../appliance/auth/passwords.js';
import { parseCookies, requiredRole } from '../../../appliance/auth/guard.js';
import { roleAtLeast } from '../../../appliance/auth/authService.js';
import { applyChanges, diffConfigs, isLiveKey, redactConfig } from '../../../appliance/console/configService.js';
import { backupHeader, decryptBackup, encryptBackup, type BackupPayload } from '../../../appliance/console/backup.js';
import { wordErrorCount } from '../../../appliance/console/selfTest.js';
import { validateConfig } from '../../../appliance/config/load.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';

describe('login rate limiter', () => {
  it('allows `limit` attempts per window per key, then says how long to wait', () => {
    let now = 0;
    const l = new SlidingWindowLimiter(3, 60_000, 100, () => now);
    expect([l.take('a'), l.take('a'), l.take('a')]).toEqual([0, 0, 0]);
    now = 10_000;
    expect(l.take('a')).toBe(50_000);
    expect(l.take('b')).toBe(0);
    now = 60_001;
    expect(l.take('a')).toBe(0);
  });

  it('keeps its key table bounded', () => {
    const l = new SlidingWindowLimiter(1, 60_000, 50, () => 0);
    for (let i = 0; i < 1000; i++) l.take(`ip${i}`);
    expect(l.size).toBe(50);
  });
});

describe('passwords, roles, cookies', () => {
  it('hashes with scrypt and verifies in constant shape; malformed hashes never verify', async () => {
    const h = await hashPassword('correct horse battery');
    expect(h).toMatch(/^scrypt\$32768\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(await verifyPassword('correct horse battery', h)).toBe(true);
    expect(await verifyPassword('correct horse batterY', h)).toBe(false);
    expect(await verifyPassword('x', 'md5$abc')).toBe(false);
    expect(passwordProblem('short', 'bob')).toContain('at least 10');
    expect(passwordProblem('bob-is-great-1', 'bob')).toContain('username');
  });

  it('orders roles and defaults reads to viewer, writes to technician', () => {
    expect(roleAtLeast('technician', 'supervisor')).toBe(true);
    expect(roleAtLeast('viewer', 'supervisor')).toBe(false);
    // a wall TV's kiosk sign-in is below viewer: only routes declaring minRole kiosk let it in
    expect(roleAtLeast('kiosk', 'viewer')).toBe(false);
    expect(roleAtLeast('viewer', 'kiosk')).toBe(true);
    expect(roleAtLeast('kiosk', 'kiosk')).toBe(true);
    expect(requiredRole('GET', undefined)).toBe('viewer');
    expect(requiredRole('DELETE', {})).toBe('technician');
    expect(requiredRole('POST', { minRole: 'supervisor' })).toBe('supervisor');
    expect(requiredRole('POST', { minRole: 'root' })).toBe('technician');
  });

  it('parses cookie headers and ignores malformed values', () => {
    expect([...parseCookies('a=1; evx_session=abc%3D; bad; c=%E0%A4%A')]).toEqual([
      ['a', '1'],
      ['evx_session', 'abc='],
    ]);
  });
});

describe('configuration diff', () => {
  const base = validateConfig({});
  it('lists changed leaves with live/restart and applies dotted changes', () => {
    const next = validateConfig(applyChanges(base, { 'site.name': 'Leeds', 'sip.port': 5070, 'sip.allowList': ['10.0.0.1'] }));
    expect(diffConfigs(base, next)).toEqual([
      { key: 'site.name', from: 'EdgeVox appliance', to: 'Leeds', live: true },
      { key: 'sip.port', from: 5060, to: 5070, live: false },
      { key: 'sip.allowList', from: [], to: ['10.0.0.1'], live: false },
    ]);
    expect(isLiveKey('log.level')).toBe(true);
    expect(isLiveKey('log.includePii')).toBe(false);
  });

  it('masks secrets', () => {
    const cfg = validateConfig(
      applyChanges(base, { 'sip.accounts': [{ username: 't', password: 'p4ss' }], 'upstream.enrollmentKey': 'k3y' }),
    );
    const text = JSON.stringify(redactConfig(cfg));
    expect(text).not.toContain('p4ss');
    expect(text).not.toContain('k3y');
    expect(text).toContain('"username":"t"');
  });
});

describe('backup file', () => {
  const payload: BackupPayload = {
    format: 'edgevox-backup',
    version: 1,
    createdAt: 1,
    appVersion: '0',
    siteId: 'leeds-01',
    config: { a: 1 },
    users: [],
    tls: null,
    callerSalt: null,
  };
  it('round-trips, exposes only the header, and detects tampering and wrong passphrases', async () => {
    const file = await encryptBackup(payload, 'a long passphrase');
    expect(backupHeader(file)).toMatchObject({ kdf: 'scrypt', siteId: 'leeds-01' });
    expect(await decryptBackup(file, 'a long passphrase')).toEqual(payload);
    const flipped = Buffer.from(file);
    flipped[flipped.length - 20]! ^= 1;
    const codes = await Promise.all(
      [decryptBackup(flipped, 'a long passphrase'), decryptBackup(file, 'another passphrase'), decryptBackup(Buffer.from('nope'), 'x')].map(
        (p) =>
          p.then(
            () => 'ok',
            (e: unknown) => (isEdgeVoxError(e) ? e.code : 'other'),
          ),
      ),
    );
    expect(codes).toEqual(['EVX_ERR_BACKUP_INVALID', 'EVX_ERR_BACKUP_INVALID', 'EVX_ERR_BACKUP_INVALID']);
    await expect(encryptBackup(payload, 'short')).rejects.toThrow('at least 12');
  });
});

describe('self-test scoring', () => {
  it('counts word errors ignoring case and punctuation', () => {
    expect(wordErrorCount('he was not an ill disposed young man', 'HE WAS NOT AN OLD SUPPOSED YOUNG MAN')).toBe(2);
    expect(wordErrorCount('a b c', '')).toBe(3);
  });
});
