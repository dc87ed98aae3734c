/**
 * sip.trunks: defaults, the rules across trunks (unique names, keep-alive floor, calls out only to an
 * IPv4 address with a caller id and credentials in pairs), and the masking of registration and
 * outbound credentials.
 */
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

  it('fills calls out (off by default) and checks them when enabled: IPv4 host, caller id, credentials in pairs, allow patterns', () => {
    const [t] = validateConfig({ sip: { trunks: [{ name: 'c', host: '192.0.2.10', outbound: {} }] } }).sip.trunks;
    expect(t!.outbound).toEqual({
      enabled: false,
      username: '',
      password: '',
      callerId: '',
      callerName: '',
      assertIdentity: false,
      allow: [],
      maxPerHour: 30,
      maxConcurrent: 4,
    });
    const on = { enabled: true, callerId: '+4930999000', allow: ['+4930', '+44XXXXXXXXXX'] };
    expect(validateConfig({ sip: { trunks: [{ name: 'c', host: '192.0.2.10', outbound: on }] } }).sip.trunks[0]!.outbound!.enabled).toBe(
      true,
    );
    // no DNS lookups: a trunk that calls out is given by IPv4 address
    const byName = errorOf(() => validateConfig({ sip: { trunks: [{ name: 'c', host: 'sbc.example.net', outbound: on }] } }));
    expect(byName.code).toBe('EVX_ERR_CONFIG_INVALID');
    expect(byName.message).toContain("key 'sip.trunks.0.host' must be an IPv4 address when sip.trunks.0.outbound.enabled is set");
    expect(errorOf(() => validateConfig({ sip: { trunks: [{ name: 'c', host: '2001:db8::1', outbound: on }] } })).details['key']).toBe(
      'sip.trunks.0.host',
    );
    // a name is fine while it does not call out
    expect(
      validateConfig({ sip: { trunks: [{ name: 'c', host: 'sbc.example.net', outbound: { ...on, enabled: false } }] } }).sip.trunks,
    ).toHaveLength(1);
    const noId = errorOf(() => validateConfig({ sip: { trunks: [{ name: 'c', host: '192.0.2.10', outbound: { enabled: true } }] } }));
    expect(noId.details['key']).toBe('sip.trunks.0.outbound.callerId');
    const half = errorOf(() =>
      validateConfig({ sip: { trunks: [{ name: 'c', host: '192.0.2.10', outbound: { ...on, username: 'u' } }] } }),
    );
    expect(half.details['key']).toBe('sip.trunks.0.outbound.password');
    for (const allow of [['+49 30'], ['*'], ['4930x'], ['']]) {
      const bad = errorOf(() => validateConfig({ sip: { trunks: [{ name: 'c', host: '192.0.2.10', outbound: { ...on, allow } }] } }));
      expect(bad.details['key'], JSON.stringify(allow)).toBe('sip.trunks.0.outbound.allow.0');
    }
    expect(
      errorOf(() => validateConfig({ sip: { trunks: [{ name: 'c', host: '192.0.2.10', outbound: { ...on, callerId: 'acme' } }] } }))
        .details['key'],
    ).toBe('sip.trunks.0.outbound.callerId');
  });

  it('masks outbound credentials like the registration ones', () => {
    const outbound = { enabled: true, callerId: '+4930999000', username: 'out-user-77', password: 'outbound secret' };
    const before = validateConfig({ sip: { trunks: [{ name: 'c', host: '192.0.2.10' }] } });
    const after = validateConfig({ sip: { trunks: [{ name: 'c', host: '192.0.2.10', outbound }] } });
    for (const shown of [JSON.stringify(redactConfig(after)), JSON.stringify(diffConfigs(before, after).map(maskChange))]) {
      expect(shown).toContain('+4930999000');
      expect(shown).not.toContain('out-user-77');
      expect(shown).not.toContain('outbound secret');
    }
  });
});
