/**
 * The access rules as pure functions: where callers may be transferred, sign-in throttling, and the
 * origin comparison of WebSocket upgrades. Each takes hostile spellings.
 */
import { describe, expect, it } from 'vitest';
import { routeAccess, sameOrigin } from '../../../appliance/auth/guard.js';
import { LoginThrottle } from '../../../appliance/auth/loginThrottle.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import {
  LOCAL_TRANSFER_TARGETS,
  parseSipTarget,
  TransferTargetPolicy,
  transferPolicyOf,
} from '../../../appliance/telephony/transferTargets.js';

describe('transfer targets', () => {
  const branch = new TransferTargetPolicy(['10.20.0.0/16', 'pbx.branch.example', '2001:db8::/32']);

  it('reads the host of a SIP URI strictly', () => {
    expect(parseSipTarget('sip:2001@10.20.1.5:5060;transport=udp')).toEqual({ host: '10.20.1.5', port: 5060, family: 'ipv4' });
    expect(parseSipTarget('sips:ann@PBX.Branch.Example.')).toEqual({ host: 'pbx.branch.example', port: null, family: 'dns' });
    expect(parseSipTarget('sip:ann@[2001:db8::7]:5070')).toEqual({ host: '2001:db8::7', port: 5070, family: 'ipv6' });
    expect(parseSipTarget('sip:10.20.1.5')).toEqual({ host: '10.20.1.5', port: null, family: 'ipv4' });
  });

  it('allows agents on the configured networks and hosts only', () => {
    expect(branch.problem('sip:ann@10.20.1.5')).toBeNull();
    expect(branch.problem('sip:ann@pbx.branch.example:5060')).toBeNull();
    expect(branch.problem('sip:ann@[2001:db8::7]')).toBeNull();
    expect(branch.problem('sip:ann@10.21.1.5')).toMatch(/outside the transfer networks/);
    expect(branch.problem('sip:ann@203.0.113.7:25999')).toMatch(/outside the transfer networks/);
    expect(branch.problem('sip:ann@evil.example')).toMatch(/not a listed transfer host/);
    expect(branch.problem('sip:ann@pbx.branch.example.evil.example')).toMatch(/not a listed transfer host/);
  });

  it('refuses every spelling that could send the caller somewhere else', () => {
    const hostile = [
      'sip:ann@10.20.1.5;maddr=203.0.113.7', // maddr overrides the host
      'sip:ann@10.20.1.5;MADDR=203.0.113.7',
      'sip:ann@10.20.1.5?Route=%3Csip:203.0.113.7%3E', // URI headers
      'sip:ann@203.0.113.7@10.20.1.5', // two @
      'sip:ann@10.20.1.5@203.0.113.7',
      'sip:ann@%31%30.20.1.5', // escaped host
      'sip:ann@10.20.1.5%2e',
      'sip:ann@0x0a.20.1.5', // numeric forms some resolvers read as addresses
      'sip:ann@10.20.261',
      'sip:ann@169090821',
      'sip:ann@10.20.1.5:0',
      'sip:ann@10.20.1.5:65536',
      'sip:ann@10.20.1.5:50x0',
      'sip:ann@[2001:db8::7',
      'sip:ann@[::ffff:203.0.113.7]',
      'sip:ann@10.20.1.5 ',
      'sip:ann@<10.20.1.5>',
      'sip:ann@10.20.1.5\\@evil',
      'tel:+4420000000',
      'http://10.20.1.5/',
      'sip:',
      'sip:ann@',
      `sip:${'a'.repeat(300)}@10.20.1.5`,
    ];
    for (const uri of hostile) expect(branch.problem(uri), uri).not.toBeNull();
    // An IPv4-mapped IPv6 address is judged as the IPv4 address it is.
    expect(branch.problem('sip:ann@[::ffff:10.20.1.5]')).toBeNull();
  });

  it('defaults to this host, counts the SIP allow-list, and refuses bad entries', () => {
    const local = new TransferTargetPolicy(LOCAL_TRANSFER_TARGETS);
    expect(local.problem('sip:agent@127.0.0.1:5080')).toBeNull();
    expect(local.problem('sip:agent@[::1]:5080')).toBeNull();
    expect(local.problem('sip:agent@192.168.1.10')).not.toBeNull();
    const withTrunks = transferPolicyOf({ transferTargets: LOCAL_TRANSFER_TARGETS, allowList: ['192.0.2.0/24'] });
    expect(withTrunks.problem('sip:2001@192.0.2.9')).toBeNull();
    for (const entry of ['10.0.0.0/33', '10.0.0.0/x', 'not a host', '127.1', 'host/8']) {
      try {
        new TransferTargetPolicy([entry]);
        expect.unreachable(entry);
      } catch (err) {
        expect(isEdgeVoxError(err, 'EVX_ERR_CONFIG_INVALID'), entry).toBe(true);
      }
    }
    expect(() => local.assertAllowed('sip:x@192.168.1.10', 'agent x sipUri')).toThrow(
      expect.objectContaining({ code: 'EVX_ERR_TRANSFER_TARGET', details: { field: 'agent x sipUri' } }),
    );
  });
});

describe('sign-in throttle', () => {
  const settings = { lockoutThreshold: 3, lockoutMs: 60_000, loginBackoffAfter: 5 };

  it('locks a name from one address after the threshold, whether or not the name exists', () => {
    let now = 0;
    const t = new LoginThrottle(settings, () => now);
    expect(t.failed('sup', 'a').locked).toBe(false);
    expect(t.failed('sup', 'a').locked).toBe(false);
    expect(t.failed('sup', 'a').locked).toBe(true);
    expect(t.check('sup', 'a')).toEqual({ ok: false, kind: 'locked', retryAfterMs: 60_000 });
    expect(t.check('sup', 'b')).toEqual({ ok: true });
    expect(t.lockedAnywhere('sup')).toBe(true);
    expect(t.lockedAnywhere('su')).toBe(false);
    now = 60_001;
    expect(t.check('sup', 'a')).toEqual({ ok: true });
    // After an expired lock, counting starts again.
    expect(t.failed('sup', 'a').failuresInARow).toBe(1);
  });

  it('backs off an address guessing across names, doubling, and a success clears it', () => {
    let now = 0;
    const t = new LoginThrottle(settings, () => now);
    for (let i = 0; i < 4; i++) t.failed(`n${i}`, 'a');
    expect(t.check('n9', 'a')).toEqual({ ok: true });
    t.failed('n4', 'a');
    expect(t.check('n9', 'a')).toEqual({ ok: false, kind: 'backoff', retryAfterMs: 1000 });
    now = 1000;
    t.failed('n5', 'a');
    expect(t.check('n9', 'a')).toEqual({ ok: false, kind: 'backoff', retryAfterMs: 2000 });
    now = 3000;
    t.failed('n6', 'a');
    expect(t.check('n9', 'a')).toEqual({ ok: false, kind: 'backoff', retryAfterMs: 4000 });
    t.succeeded('n9', 'a');
    expect(t.check('n9', 'a')).toEqual({ ok: true });
  });

  it('keeps its tables bounded under a flood of names and addresses', () => {
    const t = new LoginThrottle(settings, () => 0, 100);
    for (let i = 0; i < 10_000; i++) t.failed(`name${i}`, `10.0.${i >> 8}.${i & 255}`);
    expect(t.size).toEqual({ pairs: 100, sources: 100 });
  });
});

describe('route access and origins', () => {
  it('makes a route public only when it says so, and defaults reads to viewer, writes to technician', () => {
    expect(routeAccess('GET', { public: true })).toBe('public');
    expect(routeAccess('GET', { public: 'yes' })).toBe('viewer');
    expect(routeAccess('POST', {})).toBe('technician');
    expect(routeAccess('POST', { minRole: 'supervisor' })).toBe('supervisor');
    expect(routeAccess('HEAD', undefined)).toBe('viewer');
  });

  it('compares origins as parsed URLs, never as strings', () => {
    expect(sameOrigin('http://127.0.0.1:8080', '127.0.0.1:8080', 'http')).toBe(true);
    expect(sameOrigin('http://Box.Example', 'box.example:80', 'http')).toBe(true);
    expect(sameOrigin('https://box.example', 'box.example:443', 'https')).toBe(true);
    expect(sameOrigin('http://127.0.0.1:8080@evil.example', '127.0.0.1:8080', 'http')).toBe(false);
    expect(sameOrigin('http://evil.example', '127.0.0.1:8080', 'http')).toBe(false);
    expect(sameOrigin('http://127.0.0.1:8081', '127.0.0.1:8080', 'http')).toBe(false);
    expect(sameOrigin('null', '127.0.0.1:8080', 'http')).toBe(false);
    expect(sameOrigin('file://', 'localhost', 'http')).toBe(false);
    expect(sameOrigin('http://127.0.0.1:8080', undefined, 'http')).toBe(false);
    expect(sameOrigin('http://127.0.0.1:8080', '127.0.0.1:8080/x', 'http')).toBe(false);
    expect(sameOrigin('http://a@127.0.0.1:8080', 'a@127.0.0.1:8080', 'http')).toBe(false);
  });
});
