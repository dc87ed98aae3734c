/** Per-peer SIP policy from the configuration: a trunk's SRTP policy, client certificates, the allow-list. */
import { describe, expect, it } from 'vitest';
import { sipPolicyOf } from '../../../appliance/app/sipPolicy.js';
import { validateConfig } from '../../../appliance/config/load.js';

const config = (sip: Record<string, unknown>) => validateConfig({ sip });

describe('SIP policy per peer', () => {
  it("gives calls from a trunk the trunk's SRTP policy and everyone else sip.srtp", () => {
    const p = sipPolicyOf(
      config({
        srtp: 'off',
        trunks: [
          { name: 'carrier', host: '192.0.2.10', transport: 'tls', srtp: 'required', tlsVerifyClient: true },
          { name: 'pbx', host: '192.0.2.20', srtp: 'optional' },
        ],
      }),
    );
    const peer = (address: string) => ({ transport: 'udp' as const, address, port: 5060 });
    expect(p.mediaSecurity(peer('192.0.2.10')).policy).toBe('required');
    expect(p.mediaSecurity(peer('192.0.2.20')).policy).toBe('optional');
    expect(p.mediaSecurity(peer('198.51.100.7')).policy).toBe('off');
    expect(p.tls.requireClientCert?.('192.0.2.10')).toBe(true);
    expect(p.tls.requireClientCert?.('192.0.2.20')).toBe(false);
  });

  it('lets trunks given by address through a set allow-list, and leaves an empty one open', () => {
    const trunks = [
      { name: 'carrier', host: '192.0.2.10' },
      { name: 'named', host: 'sbc.example.net' },
    ];
    expect(sipPolicyOf(config({ allowList: ['10.0.0.0/8'], trunks })).allowList).toEqual(['10.0.0.0/8', '192.0.2.10']);
    expect(sipPolicyOf(config({ trunks })).allowList).toEqual([]);
  });
});
