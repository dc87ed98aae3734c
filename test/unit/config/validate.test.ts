import { describe, expect, it } from 'vitest';
import { checkConfig, validateConfig } from '../../../appliance/config/load.js';
import { hostProblem, networkProblem, type ConfigIssue } from '../../../appliance/config/validate.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { checkRoutingConfig } from '../../../appliance/routing/schemas.js';

function issuesOf(input: unknown): ConfigIssue[] {
  try {
    validateConfig(input);
  } catch (err) {
    if (isEdgeVoxError(err, 'EVX_ERR_CONFIG_INVALID')) return err.details['issues'] as ConfigIssue[];
    throw err;
  }
  throw new Error('expected the configuration to be refused');
}

describe('configuration validation: every issue, per key, in plain language', () => {
  it('refuses a media address that is not an IP address (999.1.2.3)', () => {
    expect(issuesOf({ sip: { rtpHost: '999.1.2.3' } })).toEqual([
      {
        key: 'sip.rtpHost',
        code: 'ip',
        message: '999.1.2.3 is not an IP address: each of the four numbers must be 0–255',
        params: { value: '999.1.2.3', reason: 'octet' },
      },
    ]);
  });

  it("refuses an allow-list entry that is not an address or network ('not-an-ip')", () => {
    expect(issuesOf({ sip: { allowList: ['127.0.0.1', 'not-an-ip'] } })).toEqual([
      {
        key: 'sip.allowList.1',
        code: 'ip',
        message: 'not-an-ip is not an IP address or network (e.g. 192.0.2.10 or 192.0.2.0/24)',
        params: { value: 'not-an-ip', reason: 'network' },
      },
    ]);
  });

  it('refuses a trusted proxy that is not an address or network, and takes IPv4 and IPv6 networks', () => {
    expect(issuesOf({ http: { trustedProxies: ['10.0.0.0/8', 'proxy.example', '2001:db8::/200'] } }).map((i) => [i.key, i.code])).toEqual([
      ['http.trustedProxies.1', 'ip'],
      ['http.trustedProxies.2', 'cidr'],
    ]);
    expect(checkConfig({ http: { trustedProxies: ['192.0.2.10', '10.0.0.0/8', '2001:db8::/32'] } })).toEqual([]);
  });

  it('refuses an IPv4 prefix length above 32 (10.0.0.0/33), and one above 128 for IPv6', () => {
    expect(issuesOf({ sip: { allowList: ['10.0.0.0/33'] } })).toEqual([
      {
        key: 'sip.allowList.0',
        code: 'cidr',
        message: '10.0.0.0/33: an IPv4 prefix length is 0 to 32',
        params: { value: '10.0.0.0/33', max: 32, reason: 'prefix-v4' },
      },
    ]);
    expect(networkProblem('2001:db8::/129')?.message).toBe('2001:db8::/129: an IPv6 prefix length is 0 to 128');
    expect(networkProblem('10.0.0.0/8')).toBeNull();
    expect(networkProblem('2001:db8::/32')).toBeNull();
    expect(networkProblem('300.0.0.0/8')?.code).toBe('cidr');
    expect(networkProblem('10.0.0.0/x')?.code).toBe('cidr');
  });

  it('refuses a callback trunk that does not exist (a cross-reference)', () => {
    expect(issuesOf({ acd: { callbacks: { trunk: 'carrier-x' } } })).toEqual([
      expect.objectContaining({ key: 'acd.callbacks.trunk', code: 'ref', message: "there is no trunk named 'carrier-x' in sip.trunks" }),
    ]);
    const trunk = { name: 'carrier-x', host: '192.0.2.5' };
    expect(issuesOf({ sip: { trunks: [trunk] }, acd: { callbacks: { trunk: 'carrier-x' } } })).toEqual([
      expect.objectContaining({
        key: 'acd.callbacks.trunk',
        code: 'ref',
        message: "trunk 'carrier-x' does not call out: set its outbound.enabled",
      }),
    ]);
  });

  it('reports all issues, not only the first, and names the first few in the one-line message', () => {
    let message = '';
    let issues: ConfigIssue[] = [];
    try {
      validateConfig({
        site: { id: 'Leeds 01' },
        http: { port: 70000, prot: 1 },
        sip: { rtpHost: '999.1.2.3', allowList: ['not-an-ip', '10.0.0.0/33'], rtpPortMin: 30000, rtpPortMax: 20000 },
        webrtc: { listenIp: 'localhost' },
        log: { level: 'loud' },
      });
    } catch (err) {
      if (!isEdgeVoxError(err, 'EVX_ERR_CONFIG_INVALID')) throw err;
      message = err.message;
      issues = err.details['issues'] as ConfigIssue[];
    }
    expect(issues.map((i) => [i.key, i.code])).toEqual([
      ['site.id', 'pattern'],
      ['http.prot', 'unknown-key'],
      ['http.port', 'range'],
      ['log.level', 'enum'],
      ['webrtc.listenIp', 'ip'],
      ['sip.rtpHost', 'ip'],
      ['sip.allowList.0', 'ip'],
      ['sip.allowList.1', 'cidr'],
      ['sip.rtpPortMin', 'port-range'],
    ]);
    expect(issues[0]!.message).toBe(
      'Leeds 01 is not accepted here: use lower-case letters, digits and dashes (up to 63), starting with a letter or digit, e.g. leeds-01',
    );
    expect(issues[2]!.message).toBe('70000 is out of range: it must be 0 to 65535');
    expect(issues[3]!.message).toBe('loud is not one of: fatal, error, warn, info, debug, trace, silent');
    // no raw schema wording anywhere
    for (const i of issues) expect(i.message).not.toMatch(/expected|must match/i);
    expect(message).toContain("key 'site.id'");
    expect(message).toContain("unknown key 'http.prot'");
    expect(message).toContain('(and 6 more)');
    expect(message).not.toContain('\n');
  });

  it('checks port ranges: the first below the last, SIP outside the media ranges, one TCP port per service', () => {
    // the two media allocators share ports politely: overlapping ranges are allowed
    expect(checkConfig({ webrtc: { rtcPortMin: 20500, rtcPortMax: 21500 } })).toEqual([]);
    expect(checkConfig({ sip: { port: 20010 } })).toEqual([
      expect.objectContaining({
        key: 'sip.port',
        code: 'port-overlap',
        message: 'port 20010 lies inside the RTP port range 20000–20999: SIP and media must use different UDP ports',
      }),
    ]);
    expect(checkConfig({ console: { httpsPort: 8080 } })).toEqual([
      expect.objectContaining({ key: 'console.httpsPort', code: 'port', params: { port: 8080, other: 'http.port' } }),
    ]);
    expect(checkConfig({ sip: { rtpPortMin: 20000, rtpPortMax: 20000 } })).toEqual([
      expect.objectContaining({ key: 'sip.rtpPortMin', code: 'port-range' }),
    ]);
    // port 0 (any free port) never conflicts
    expect(checkConfig({ http: { port: 0 }, console: { httpsPort: 0 }, sip: { port: 0, tlsPort: 0 } })).toEqual([]);
  });

  it('accepts the defaults, IPv6, host names where host names are allowed, and refuses digits that are no address', () => {
    expect(checkConfig({})).toEqual([]);
    expect(
      checkConfig({
        sip: { host: '::', rtpHost: '2001:db8::10', allowList: ['192.0.2.0/24', '2001:db8::/48'], transferTargets: ['pbx.example.net'] },
        http: { host: 'localhost' },
        webrtc: { announcedAddress: 'edge.example.net' },
      }),
    ).toEqual([]);
    expect(hostProblem('sbc.example.net')).toBeNull();
    expect(hostProblem('10.0.0.256')?.code).toBe('ip');
    expect(hostProblem('bad host!')?.code).toBe('host');
    expect(checkConfig({ sip: { transferTargets: ['10.0.0.0/40'] } })).toEqual([
      expect.objectContaining({ key: 'sip.transferTargets.0', code: 'cidr' }),
    ]);
  });

  it('refuses email.requireTls without email.starttls (no client could upgrade), naming both keys', () => {
    const issues = issuesOf({ email: { starttls: false, requireTls: true } });
    expect(issues).toEqual([expect.objectContaining({ key: 'email.requireTls', code: 'rule', params: { other: 'email.starttls' } })]);
    let message = '';
    try {
      validateConfig({ email: { starttls: false, requireTls: true } });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^invalid configuration: key 'email\.requireTls' must not be true while email\.starttls is false/);
    expect(message).toContain('set email.starttls to true, or email.requireTls to false');
    // either alone is fine, and STARTTLS is on by default
    expect(checkConfig({ email: { requireTls: true } })).toEqual([]);
    expect(checkConfig({ email: { starttls: false } })).toEqual([]);
    expect(validateConfig({}).email).toMatchObject({ starttls: true, requireTls: false, tlsCertFile: '', tlsKeyFile: '' });
  });

  it('routing configuration: an agent in a skill group that does not exist, and every other cross-reference problem, all reported', () => {
    const group = (id: string, adjacent: string[] = []) => ({ id, intents: [], adjacent, overflow: { action: 'none' } });
    const agent = (id: string, groups: string[]) => ({ id, skills: groups.map((g) => ({ group: g })) });
    let details: Record<string, unknown> = {};
    try {
      checkRoutingConfig([group('billing'), group('support', ['sales'])], [agent('a1', ['billing', 'sales']), agent('a2', ['marketing'])], {
        defaultGroup: 'general',
      });
    } catch (err) {
      if (!isEdgeVoxError(err, 'EVX_ERR_ROUTING_CONFIG')) throw err;
      details = err.details;
    }
    // the first problem's details as before (the agents form shows it in the agent's row) ...
    expect(details).toMatchObject({ group: 'support', adjacent: 'sales' });
    // ... and every problem, keyed
    expect((details['issues'] as ConfigIssue[]).map((i) => [i.key, i.code, i.message])).toEqual([
      ['groups.1.adjacent', 'ref', 'group support: adjacent group sales does not exist'],
      ['rules.defaultGroup', 'ref', 'default group general does not exist'],
      ['agents.0.skills.1.group', 'ref', 'agent a1: skill group sales does not exist'],
      ['agents.1.skills.0.group', 'ref', 'agent a2: skill group marketing does not exist'],
    ]);
  });
});
