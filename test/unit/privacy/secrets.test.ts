import { readFileSync, statSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { SecretBox, SecretsRepo } from '../../../appliance/privacy/secrets.js';
import { Store } from '../../../appliance/store/database.js';
import { scratchDir } from '../../helpers/paths.js';

describe('SecretBox (AES-256-GCM, key file in the data dir)', () => {
  it('creates a 0600 key file once and reuses it', () => {
    const dir = scratchDir('sec');
    const a = SecretBox.fromDataDir(dir);
    const keyPath = join(dir, 'secrets', 'store-key');
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'secrets')).mode & 0o777).toBe(0o700);
    const sealed = a.seal('sip.trunk.main.password', 's3cret-pass');
    expect(SecretBox.fromDataDir(dir).open('sip.trunk.main.password', sealed)).toBe('s3cret-pass');
    expect(readFileSync(keyPath, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
  });

  it('tightens a key file others can read', () => {
    const dir = scratchDir('sec');
    SecretBox.fromDataDir(dir);
    const keyPath = join(dir, 'secrets', 'store-key');
    chmodSync(keyPath, 0o644);
    SecretBox.fromDataDir(dir);
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
  });

  it('uses a fresh IV per value and refuses a wrong key, a wrong name or a flipped byte', () => {
    const box = SecretBox.fromDataDir(scratchDir('sec'));
    const s1 = box.seal('n', 'value');
    const s2 = box.seal('n', 'value');
    expect(s1).not.toBe(s2);
    expect(s1).not.toContain('value');
    const other = SecretBox.fromDataDir(scratchDir('sec'));
    const fails = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return isEdgeVoxError(err, 'EVX_ERR_SECRET');
      }
      return false;
    };
    expect(fails(() => other.open('n', s1))).toBe(true);
    expect(fails(() => box.open('m', s1))).toBe(true);
    const raw = Buffer.from(s1.slice(5), 'base64');
    raw[raw.length - 1]! ^= 1;
    expect(fails(() => box.open('n', 'evx1:' + raw.toString('base64')))).toBe(true);
    expect(fails(() => box.open('n', 'plain'))).toBe(true);
    expect(fails(() => box.open('n', 'evx1:AAAA'))).toBe(true);
  });
});

describe('SecretsRepo', () => {
  it('stores only ciphertext in the database', () => {
    const dir = scratchDir('sec');
    const store = Store.open(dir);
    const repo = new SecretsRepo(store.db, (op, fn) => store.write(op, fn), SecretBox.fromDataDir(dir));
    repo.put('sip.trunk.a.password', 'hunter2-trunk', 1000);
    repo.put('sip.trunk.a.password', 'rotated-trunk', 2000);
    expect(repo.read('sip.trunk.a.password')).toBe('rotated-trunk');
    expect(repo.read('missing')).toBeUndefined();
    expect(repo.list()).toEqual([{ name: 'sip.trunk.a.password', updatedAt: 2000 }]);
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    const file = readFileSync(store.path);
    expect(file.includes(Buffer.from('rotated-trunk'))).toBe(false);
    expect(file.includes(Buffer.from('hunter2-trunk'))).toBe(false);
    expect(repo.delete('sip.trunk.a.password')).toBe(true);
    expect(repo.read('sip.trunk.a.password')).toBeUndefined();
    store.close();
  });
});
