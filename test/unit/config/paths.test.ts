/**
 * Configuration keys that are file paths: a control character (NUL) is refused from any source; a
 * path set through the console or the API must be absolute with no . or .. segment (the token
 * secret, read relative to the data dir, must be relative inside it), answered as
 * EVX_ERR_CONFIG_INVALID with a 'path' issue at the key. Paths the box already runs with, and the
 * shipped defaults, are not refused when something else changes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig, withDefaults } from '../../../appliance/config/load.js';
import { PATH_KEYS } from '../../../appliance/config/paths.js';
import { configLeaves } from '../../../appliance/config/schema.js';
import { ConfigService } from '../../../appliance/console/configService.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { Store } from '../../../appliance/store/database.js';

const TRUNK = { name: 'carrier', host: 'sbc.example.net' };

describe('configuration paths', () => {
  let dir: string;
  let store: Store;
  let configs: ConfigService;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'evx-config-paths-'));
    store = Store.open(dir);
    configs = new ConfigService({
      store,
      running: validateConfig({ dataDir: dir }),
      logger: createLogger({ level: 'silent', includePii: false }),
    });
  });

  afterAll(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const pathIssues = (changes: Record<string, unknown>) => configs.checkChanges(changes).filter((i) => i.code === 'path');

  it('every key of the schema naming a file or directory is a path key', () => {
    const named = configLeaves()
      .map((l) => l.path.join('.'))
      .filter((k) => /(File|Dir)$/.test(k));
    expect(named.length).toBeGreaterThan(5);
    for (const key of named) expect(PATH_KEYS, key).toContain(key);
    expect(PATH_KEYS).toContain('sip.trunks.*.tlsCaFile');
  });

  it('a NUL or control character in a path is refused from any source', () => {
    try {
      validateConfig({ sip: { tlsCertFile: '/etc/edgevox/sip.pem\u0000.txt' } });
      expect.unreachable('accepted a NUL byte');
    } catch (err) {
      expect(isEdgeVoxError(err) && err.code).toBe('EVX_ERR_CONFIG_INVALID');
      expect((err as { details: { issues: unknown[] } }).details.issues).toEqual([
        expect.objectContaining({ key: 'sip.tlsCertFile', code: 'path', params: { reason: 'control' } }),
      ]);
    }
    expect(pathIssues({ 'sync.caFile': '/etc/ssl/ca.pem\n' })).toEqual([expect.objectContaining({ key: 'sync.caFile' })]);
  });

  it('set through the console: .. and . segments and relative paths are refused at their key', () => {
    const refused: [string, unknown, string][] = [
      ['sip.tlsKeyFile', '../../etc/shadow', 'dot-segment'],
      ['sip.tlsCertFile', '/etc/edgevox/../../root/.ssh/id_rsa', 'dot-segment'],
      ['email.tlsKeyFile', '/etc/edgevox/./key.pem', 'dot-segment'],
      ['email.tlsCertFile', 'certs/mail.pem', 'relative'],
      ['modelsDir', '/srv/models/../../etc', 'dot-segment'],
      ['modelsDir', 'models', 'relative'],
      ['sync.caFile', '..', 'dot-segment'],
      ['webrtc.callerTokenSecretFile', '../webrtc-token-secret', 'dot-segment'],
      ['webrtc.callerTokenSecretFile', '/etc/passwd', 'absolute'],
    ];
    for (const [key, value, reason] of refused)
      expect(pathIssues({ [key]: value }), `${key}=${String(value)}`).toEqual([
        expect.objectContaining({ key, code: 'path', params: { reason, value } }),
      ]);
    expect(pathIssues({ 'sip.trunks': [{ ...TRUNK, tlsCaFile: '../ca.pem' }] })).toEqual([
      expect.objectContaining({ key: 'sip.trunks.0.tlsCaFile', params: { reason: 'dot-segment', value: '../ca.pem' } }),
    ]);
    // saving answers the same, from the one error registry
    try {
      configs.patch({ 'sip.tlsKeyFile': '../../etc/shadow' }, 'tech', '');
      expect.unreachable('saved a path with ..');
    } catch (err) {
      expect(isEdgeVoxError(err) && err.code).toBe('EVX_ERR_CONFIG_INVALID');
      expect(isEdgeVoxError(err) && err.httpStatus).toBe(400);
    }
  });

  it('absolute paths, empty values, the token secret inside the data dir and unchanged paths are accepted', () => {
    for (const [key, value] of [
      ['sip.tlsCertFile', '/etc/edgevox/tls/sip.pem'],
      ['sip.tlsKeyFile', ''],
      ['modelsDir', '/srv/edgevox/models'],
      ['webrtc.callerTokenSecretFile', 'secrets/webrtc-token'],
      ['email.tlsCertFile', '/etc/edgevox/tls/..mail.pem'],
    ] as const)
      expect(configs.checkChanges({ [key]: value }), `${key}=${value}`).toEqual([]);
    expect(configs.checkChanges({ 'sip.trunks': [{ ...TRUNK, tlsCaFile: '/etc/ssl/carrier-ca.pem' }] })).toEqual([]);
    // the shipped default modelsDir is relative (../shared/models): it blocks no other change
    expect(withDefaults({}).modelsDir).toMatch(/^\.\./);
    expect(configs.checkChanges({ 'site.name': 'Leeds' })).toEqual([]);
  });
});
