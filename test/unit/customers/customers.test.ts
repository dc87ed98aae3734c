/** Site identity tokens (sign, verify, refuse) and churn over all channels (pure functions). */
import { describe, expect, it } from 'vitest';
import { customerChurn } from '../../../appliance/customers/customerChurn.js';
import { mintIdentityToken, verifyIdentityToken } from '../../../appliance/customers/identityToken.js';
import type { TimelineEntry } from '../../../appliance/customers/timeline.js';
import { DEFAULT_PROFILE_SETTINGS, profileTags, type CallerProfile } from '../../../appliance/profiles/profile.js';

const SECRET = 'a-site-secret-of-at-least-32-characters';
const NOW = 1_800_000_000_000;
const DAY = 86_400_000;

describe('site identity tokens', () => {
  it('verifies what the site signed, with its expiry', () => {
    const token = mintIdentityToken(SECRET, { customerId: 'C-9', phone: '+4930123', email: 'a@b.example', expiresAtMs: NOW + 60_000 });
    expect(verifyIdentityToken(SECRET, token, NOW)).toEqual({
      customerId: 'C-9',
      phone: '+4930123',
      email: 'a@b.example',
      expiresAtMs: NOW + 60_000,
    });
  });

  it('refuses expired, forged, tampered and malformed tokens, and any token without a configured secret', () => {
    const good = mintIdentityToken(SECRET, { customerId: 'C-9', expiresAtMs: NOW + 60_000 });
    const [, sig] = good.split('.') as [string, string];
    const forgedPayload = Buffer.from(JSON.stringify({ cid: 'C-1', exp: NOW / 1000 + 60 })).toString('base64url');
    const bad = [
      mintIdentityToken(SECRET, { customerId: 'C-9', expiresAtMs: NOW }),
      mintIdentityToken(`${SECRET}x`, { customerId: 'C-9', expiresAtMs: NOW + 60_000 }),
      `${forgedPayload}.${sig}`,
      `${good}x`,
      good.slice(0, -2),
      '.',
      '',
      `${Buffer.from('[]').toString('base64url')}.${sig}`,
    ];
    for (const token of bad)
      expect(() => verifyIdentityToken(SECRET, token, NOW), token).toThrow(expect.objectContaining({ code: 'EVX_ERR_CUSTOMER_IDENTITY' }));
    expect(() => verifyIdentityToken('', good, NOW)).toThrow(expect.objectContaining({ code: 'EVX_ERR_CUSTOMER_IDENTITY' }));
    // a token signed with the empty secret is refused too (a box without a secret accepts none)
    expect(() => verifyIdentityToken('', mintIdentityToken('', { customerId: 'x', expiresAtMs: NOW + 1 }), NOW)).toThrow();
  });
});

describe('churn over all channels', () => {
  const profile: CallerProfile = {
    callerHash: 'h',
    firstSeenAt: NOW - 10 * DAY,
    lastCallAt: NOW - 5 * DAY,
    callsTotal: 1,
    recentCalls: [NOW - 5 * DAY],
    lastIntents: [{ intent: 'card_fee', at: NOW - 5 * DAY }],
    lastEmotion: null,
    unresolvedRepeats: 0,
    churnRisk: 0.047,
    vip: false,
    tags: [],
    updatedAt: NOW - 5 * DAY,
  };
  const chat = (over: Partial<TimelineEntry>): TimelineEntry => ({
    channel: 'chat',
    id: 'c1',
    at: NOW - DAY,
    endedAt: NOW - DAY,
    state: 'closed',
    open: false,
    intent: 'card_fee',
    mood: 'negative',
    outcome: null,
    summary: null,
    linkedBy: 'token',
    ...over,
  });

  it('a negative chat about the same thing after a call raises the risk as a negative call would', () => {
    const callsOnly = customerChurn([profile], [], NOW, DEFAULT_PROFILE_SETTINGS);
    expect(callsOnly.churnRisk).toBe(profile.churnRisk);
    expect(profileTags(profile, NOW)).not.toContain('repeat-unresolved');
    const all = customerChurn([profile], [chat({})], NOW, DEFAULT_PROFILE_SETTINGS);
    expect(all.churnRisk).toBeCloseTo(0.475, 3); // calls only: 0.047
    expect(all.churnFactors.map((f) => f.factor)).toEqual([
      '1 calls and 1 chats or e-mails in the window',
      '1 unresolved repeat calls',
      'negative on the last chat',
    ]);
    expect(all.tags).toEqual(expect.arrayContaining(['repeat-unresolved', 'negative-last-chat']));
  });

  it('a positive chat counts as a contact only; a chat older than the last call does not replace its mood', () => {
    const positive = customerChurn([profile], [chat({ mood: 'positive', intent: null })], NOW, DEFAULT_PROFILE_SETTINGS);
    expect(positive.churnFactors.map((f) => f.factor)).toEqual(['1 calls and 1 chats or e-mails in the window']);
    const older = customerChurn([profile], [chat({ at: NOW - 6 * DAY, intent: null })], NOW, DEFAULT_PROFILE_SETTINGS);
    expect(older.tags).not.toContain('negative-last-chat');
  });
});
