/** sip.trunks: defaults, the rules across trunks (unique names, keep-alive floor), and the masking of registration credentials. */
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../appliance/config/load.js';
import { diffConfigs, maskChange, redactConfig } from '../../../appliance/console/configService.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';

function errorOf(fn: () => unknown): { code: string; message: string; details: Readonly<Record<string, unknown>> } {
  try {
    fn();
  } catch (err) {
    if (isEdgeVoxError(err)) return { code: err.code, message: err.message, details: err.details };
    throw err;
  }
  throw new Error('expected an error');
}

const register = { username: '441632960001', password: 'registrar secret' };

describe('sip.trunks', () => {
  it('defaults to none, and fills each trunk and its registration', () => {
    expect(validateConfig({}).sip.trunks).toEqual([]);
    const [a, b] = validateConfig({
      sip: {
        trunks: [
          { name: 'carrier-a', host: 'sbc.example.net' },
          { name: 'pbx.1', host: '10.0.0.5', transport: 'tls', register },
        ],
      },
    }).sip.trunks;
    expect(a).toEqual({
      name: 'carrier-a',
      host: 'sbc.example.net',
      port: 0,
      transport: 'udp',
      keepaliveSec: 30,
      srtp: 'optional',
      tlsVerifyClient: false,
      tlsCaFile: '',
    });
    expect(b!.register).toEqual({ ...register, domain: '', expiresSec: 600 });
  });

  it('refuses two trunks with one name, naming the key and the first trunk', () => {
    const e = errorOf(() =>
      validateConfig({
        sip: {
          trunks: [
            { name: 'carrier-a', host: 'a.example.net' },
            { name: 'carrier-b', host: 'b.example.net' },
            { name: 'carrier-a', host: 'c.example.net' },
          ],
        },
      }),
    );
    expect(e.code).toBe('EVX_ERR_CONFIG_INVALID');
    expect(e.details['key']).toBe('sip.trunks.2.name');
    expect(e.message).toContain("key 'sip.trunks.2.name'");
    expect(e.message).toContain("'carrier-a'");
    expect(e.message).toContain('sip.trunks.0');
    expect(e.message).toContain('unique');
  });

  it('refuses a bad name, a keep-alive under 5 s, an expiry out of range and unknown keys', () => {
    const trunk = { name: 'x', host: 'h' };
    expect(errorOf(() => validateConfig({ sip: { trunks: [{ ...trunk, name: 'no spaces' }] } })).details['key']).toBe('sip.trunks.0.name');
    expect(errorOf(() => validateConfig({ sip: { trunks: [{ ...trunk, name: 'x'.repeat(65) }] } })).details['key']).toBe(
      'sip.trunks.0.name',
    );
    const slow = errorOf(() => validateConfig({ sip: { trunks: [{ ...trunk, keepaliveSec: 3 }] } }));
    expect(slow.details['key']).toBe('sip.trunks.0.keepaliveSec');
    expect(slow.message).toContain('at least 5');
    expect(validateConfig({ sip: { trunks: [{ ...trunk, keepaliveSec: 0 }] } }).sip.trunks[0]!.keepaliveSec).toBe(0);
    const expiry = errorOf(() => validateConfig({ sip: { trunks: [{ ...trunk, register: { ...register, expiresSec: 30 } }] } }));
    expect(expiry.details['key']).toBe('sip.trunks.0.register.expiresSec');
    expect(errorOf(() => validateConfig({ sip: { trunks: [{ ...trunk, secret: 1 }] } })).message).toContain(
      "unknown key 'sip.trunks.0.secret'",
    );
  });

  it('masks registration credentials wherever accounts passwords are masked (read-only roles, support bundle, diffs)', () => {
    const before = validateConfig({ sip: { trunks: [{ name: 'carrier-a', host: 'sbc.example.net' }] } });
    const after = validateConfig({ sip: { trunks: [{ name: 'carrier-a', host: 'sbc.example.net', register }] } });
    const redacted = JSON.stringify(redactConfig(after));
    expect(redacted).toContain('sbc.example.net');
    expect(redacted).not.toContain(register.username);
    expect(redacted).not.toContain(register.password);
    const changes = diffConfigs(before, after).map(maskChange);
    expect(changes.map((c) => c.key)).toEqual(['sip.trunks']);
    const shown = JSON.stringify(changes);
    expect(shown).toContain('sbc.example.net');
    expect(shown).not.toContain(register.username);
    expect(shown).not.toContain(register.password);
  });
});
