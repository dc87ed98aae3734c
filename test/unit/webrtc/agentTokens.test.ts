import { describe, expect, it } from 'vitest';
import { mintAgentToken, mintCallerToken, verifyAgentToken, verifyCallerToken } from '../../../appliance/webrtc/tokens.js';
import { teeSinkFactories } from '../../../appliance/webrtc/sipBridge.js';
import type { LegInfo } from '../../../appliance/telephony/types.js';

const SECRET = 'unit-secret-0123456789-abcdefghijklmnopq';

describe('agent tokens', () => {
  it('round-trips subject and role until expiry', () => {
    const now = 1_000_000;
    const t = mintAgentToken(SECRET, { subject: 'agent-7', role: 'supervisor' }, { ttlMs: 60_000, nowMs: now });
    expect(t.startsWith('a1.')).toBe(true);
    expect(verifyAgentToken(SECRET, t, now + 59_999)).toEqual({ subject: 'agent-7', role: 'supervisor', expiresAtMs: now + 60_000 });
    expect(verifyAgentToken(SECRET, t, now + 60_000)).toBeUndefined();
  });

  it('rejects other secrets, tampering, caller tokens and bad claims', () => {
    const t = mintAgentToken(SECRET, { subject: 'agent-7', role: 'agent' });
    expect(verifyAgentToken('another-secret-0123456789-abcdefghijklm', t)).toBeUndefined();
    const [, body, mac] = t.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body!, 'base64url').toString()), r: 'supervisor' })).toString(
      'base64url',
    );
    expect(verifyAgentToken(SECRET, `a1.${forged}.${mac}`)).toBeUndefined();
    // A caller token is signed under another label: it never verifies as an agent token, nor the reverse.
    const caller = mintCallerToken(SECRET, 'call-1');
    expect(verifyAgentToken(SECRET, caller)).toBeUndefined();
    expect(verifyAgentToken(SECRET, `a1.${caller.split('.')[1]}.${caller.split('.')[2]}`)).toBeUndefined();
    expect(() => verifyCallerToken(SECRET, `v1.${body}.${mac}`)).toThrow(expect.objectContaining({ code: 'EVX_ERR_WEBRTC_AUTH' }));
    expect(() => mintAgentToken(SECRET, { subject: 'Jane Doe', role: 'agent' })).toThrow(
      expect.objectContaining({ code: 'EVX_ERR_BAD_REQUEST' }),
    );
    expect(() => mintAgentToken('short', { subject: 'a', role: 'agent' })).toThrow(
      expect.objectContaining({ code: 'EVX_ERR_CONFIG_INVALID' }),
    );
  });
});

describe('token spellings', () => {
  it('accepts only the one canonical spelling of a signature', () => {
    const agent = mintAgentToken(SECRET, { subject: 'agent-7', role: 'supervisor' });
    const caller = mintCallerToken(SECRET, 'call-1');
    expect(verifyAgentToken(SECRET, agent)).toBeDefined();
    expect(verifyCallerToken(SECRET, caller).callId).toBe('call-1');
    // Node's base64url decoder skips padding and characters outside the alphabet: each of these
    // decodes to the same signature bytes, and none may verify.
    for (const suffix of ['=', '==', '!', '.', ' ', '%3D']) {
      expect(verifyAgentToken(SECRET, `${agent}${suffix}`), suffix).toBeUndefined();
      expect(() => verifyCallerToken(SECRET, `${caller}${suffix}`), suffix).toThrow(
        expect.objectContaining({ code: 'EVX_ERR_WEBRTC_AUTH' }),
      );
    }
    const [v, body, mac] = agent.split('.') as [string, string, string];
    expect(verifyAgentToken(SECRET, `${v}.${body}.${mac.slice(0, 5)}*${mac.slice(5)}`)).toBeUndefined();
  });
});

describe('teeSinkFactories', () => {
  const info = { legId: 'l1', callId: 'c1', label: 'caller', codec: 'PCMU', sampleRateHz: 8000 } as unknown as LegInfo;

  it('feeds both sinks; a throwing second sink never breaks the first', () => {
    const got: string[] = [];
    const tee = teeSinkFactories(
      () => ({ onFrame: () => void got.push('a'), close: () => void got.push('a-close') }),
      () => ({
        onFrame: () => {
          got.push('b');
          throw new Error('relay fault');
        },
        close: () => void got.push('b-close'),
      }),
    );
    const sink = tee(info)!;
    sink.onFrame(new Int16Array(160), false);
    sink.onFrame(new Int16Array(160), false);
    sink.close('remote_bye');
    expect(got).toEqual(['a', 'b', 'a', 'b', 'a-close', 'b-close']);
  });

  it('returns the one sink when the other factory declines', () => {
    const only = { onFrame: () => undefined, close: () => undefined };
    expect(
      teeSinkFactories(
        () => undefined,
        () => only,
      )(info),
    ).toBe(only);
    expect(
      teeSinkFactories(
        () => only,
        () => undefined,
      )(info),
    ).toBe(only);
  });
});
