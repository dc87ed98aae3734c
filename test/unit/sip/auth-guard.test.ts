import { describe, expect, it } from 'vitest';
import { DigestAuthenticator, digestResponse, parseDigest } from '../../../appliance/sip/auth.js';
import { AllowList, SourceRateLimiter } from '../../../appliance/sip/guard.js';

function answer(challenge: string, opts: { user?: string; pass?: string; method?: string; nc?: string; uri?: string } = {}): string {
  const nonce = /nonce="([^"]+)"/.exec(challenge)![1]!;
  const algorithm = /algorithm=([A-Z0-9-]+)/.exec(challenge)![1]! as 'MD5' | 'SHA-256';
  const uri = opts.uri ?? 'sip:edgevox@127.0.0.1';
  const nc = opts.nc ?? '00000001';
  const response = digestResponse({
    algorithm,
    username: opts.user ?? 'trunk1',
    realm: 'edgevox',
    password: opts.pass ?? 's3cret',
    method: opts.method ?? 'INVITE',
    uri,
    nonce,
    qop: 'auth',
    nc,
    cnonce: 'abc',
  });
  return `Digest username="${opts.user ?? 'trunk1'}", realm="edgevox", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=${algorithm}, qop=auth, nc=${nc}, cnonce="abc"`;
}

describe('digest authentication', () => {
  it('matches the RFC 2617 §3.5 example response (MD5, qop=auth)', () => {
    // the example from RFC 2617: Mufasa / Circle Of Life at testrealm@host.com
    expect(
      digestResponse({
        algorithm: 'MD5',
        username: 'Mufasa',
        realm: 'testrealm@host.com',
        password: 'Circle Of Life',
        method: 'GET',
        uri: '/dir/index.html',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        qop: 'auth',
        nc: '00000001',
        cnonce: '0a4f113b',
      }),
    ).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('accepts MD5 and SHA-256 answers, rejects wrong passwords, unknown users and replays', () => {
    const auth = new DigestAuthenticator({ realm: 'edgevox', accounts: [{ username: 'trunk1', password: 's3cret' }] });
    const [sha, md5] = auth.challenges();
    expect(sha).toContain('algorithm=SHA-256');
    expect(auth.verify(undefined, 'INVITE')).toBe('missing');
    const good = answer(md5!);
    expect(auth.verify(good, 'INVITE')).toBe('ok');
    expect(auth.verify(good, 'INVITE')).toBe('stale'); // same nonce+nc replayed
    expect(auth.verify(answer(sha!, { nc: '00000002' }), 'INVITE')).toBe('ok');
    expect(auth.verify(answer(md5!, { pass: 'wrong', nc: '00000005' }), 'INVITE')).toBe('invalid');
    expect(auth.verify(answer(md5!, { user: 'nobody', nc: '00000003' }), 'INVITE')).toBe('invalid');
    expect(auth.verify(answer(md5!, { method: 'BYE', nc: '00000004' }), 'INVITE')).toBe('invalid');
    expect(auth.verify('Basic abc', 'INVITE')).toBe('invalid');
    expect(auth.verify(answer(md5!).replace(/nonce="[^"]+"/, 'nonce="forged.AAAAAAAAAAAAAAAAAAAAAA"'), 'INVITE')).toBe('invalid');
  });

  it('marks expired nonces stale', () => {
    let now = 1_000_000;
    const auth = new DigestAuthenticator({
      realm: 'edgevox',
      accounts: [{ username: 'trunk1', password: 's3cret' }],
      nonceTtlMs: 1000,
      now: () => now,
    });
    const c = auth.challenges()[1]!;
    now += 5000;
    expect(auth.verify(answer(c), 'INVITE')).toBe('stale');
  });

  it('parses quoted and unquoted digest parameters', () => {
    expect(parseDigest('Digest username="a\\"b", realm=r, nonce="n", uri="sip:x", response="f"')).toMatchObject({
      username: 'a"b',
      realm: 'r',
      algorithm: 'MD5',
    });
    expect(parseDigest('Digest username="a", realm="r", nonce="n", uri="u", response="x", algorithm=SHA-512')).toBeUndefined();
    expect(parseDigest('Digest ,,,')).toBeUndefined();
  });
});

describe('guards', () => {
  it('allow-list matches addresses and CIDRs, IPv4-mapped IPv6 included', () => {
    const a = new AllowList(['127.0.0.1', '10.1.0.0/16', '2001:db8::/32']);
    expect(a.allows('127.0.0.1')).toBe(true);
    expect(a.allows('::ffff:127.0.0.1')).toBe(true);
    expect(a.allows('10.1.200.3')).toBe(true);
    expect(a.allows('10.2.0.1')).toBe(false);
    expect(a.allows('2001:db8::5')).toBe(true);
    expect(a.allows('2001:db9::5')).toBe(false);
    expect(new AllowList([]).allows('192.0.2.1')).toBe(true);
    expect(() => new AllowList(['not-an-ip'])).toThrowError(expect.objectContaining({ code: 'EVX_ERR_CONFIG_INVALID' }));
    expect(() => new AllowList(['10.0.0.0/33'])).toThrowError(expect.objectContaining({ code: 'EVX_ERR_CONFIG_INVALID' }));
  });

  it('token bucket allows the burst, then the sustained rate, per source, with a bounded table', () => {
    let now = 0;
    const rl = new SourceRateLimiter(10, 5, 3, () => now);
    const taken = Array.from({ length: 8 }, () => rl.take('a')).filter(Boolean).length;
    expect(taken).toBe(5);
    expect(rl.take('b')).toBe(true); // other sources unaffected
    now += 100; // 0.1 s at 10/s = one token
    expect(rl.take('a')).toBe(true);
    expect(rl.take('a')).toBe(false);
    rl.take('c');
    rl.take('d');
    expect(rl.trackedSources).toBe(3);
  });
});
