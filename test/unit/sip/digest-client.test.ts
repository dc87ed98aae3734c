/**
 * The digest client (answerChallenge): what it computes must be accepted by the server side of the
 * same module, it must pick the strongest algorithm offered, and it must match vectors computed by
 * hand outside this code.
 */
import { describe, expect, it } from 'vitest';
import { answerChallenge, chooseChallenge, DigestAuthenticator, parseChallenge, parseDigest } from '../../../appliance/sip/auth.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';

const account = { username: 'trunk-user', password: 'pa"ss\\word with spaces' };
const base = { method: 'REGISTER', uri: 'sip:registrar.example.net', ...account, nc: 1, cnonce: '0a4f113b' };

describe('answerChallenge against the server-side DigestAuthenticator', () => {
  it('is accepted on the SHA-256 challenge and on the MD5 one', () => {
    const server = new DigestAuthenticator({ realm: 'provider', accounts: [account] });
    const [sha, md5] = server.challenges();
    const a = answerChallenge(sha!, base);
    expect(parseDigest(a)?.algorithm).toBe('SHA-256');
    expect(server.verify(a, 'REGISTER')).toBe('ok');
    const b = answerChallenge(md5!, { ...base, cnonce: 'another' }); // both challenges share one nonce
    expect(parseDigest(b)?.algorithm).toBe('MD5');
    expect(server.verify(b, 'REGISTER')).toBe('ok');
  });

  it('picks the strongest algorithm when several challenges are offered, in any order', () => {
    const server = new DigestAuthenticator({ realm: 'provider', accounts: [account] });
    const both = server.challenges();
    for (const [i, offered] of [both, [...both].reverse()].entries()) {
      const a = answerChallenge(offered, { ...base, cnonce: `c${i}` });
      expect(parseDigest(a)?.algorithm).toBe('SHA-256');
      expect(server.verify(a, 'REGISTER')).toBe('ok');
    }
  });

  it('carries opaque, qop, nc and cnonce back; a wrong password, method or a replay is refused', () => {
    const server = new DigestAuthenticator({ realm: 'provider', accounts: [account] });
    const challenges = server.challenges();
    const a = answerChallenge(challenges, { ...base, nc: 10 });
    const parsed = parseDigest(a)!;
    expect(parsed.qop).toBe('auth');
    expect(parsed.nc).toBe('0000000a');
    expect(parsed.cnonce).toBe('0a4f113b');
    expect(parsed.opaque).toMatch(/^[0-9a-f]{16}$/);
    expect(parsed.username).toBe(account.username);
    expect(server.verify(a, 'INVITE')).toBe('invalid');
    expect(server.verify(a, 'REGISTER')).toBe('ok');
    expect(server.verify(a, 'REGISTER')).toBe('stale'); // same nonce, nc and cnonce: a replay
    expect(server.verify(answerChallenge(challenges, { ...base, password: 'nope' }), 'REGISTER')).toBe('invalid');
  });

  it('answers a challenge without qop in the RFC 2069 form', () => {
    const server = new DigestAuthenticator({ realm: 'provider', accounts: [account] });
    const noQop = server.challenges()[1]!.replace(/qop="auth", /, '');
    const a = answerChallenge(noQop, base);
    expect(a).not.toMatch(/qop=|nc=|cnonce=/);
    expect(server.verify(a, 'REGISTER')).toBe('ok');
  });

  it('refuses what it cannot answer: auth-int only, -sess, not Digest', () => {
    const refused = (h: string | string[]) => {
      try {
        answerChallenge(h, base);
      } catch (err) {
        return isEdgeVoxError(err, 'EVX_ERR_SIP_REQUEST_FAILED');
      }
      return false;
    };
    expect(refused('Digest realm="r", nonce="n", qop="auth-int"')).toBe(true);
    expect(refused('Digest realm="r", nonce="n", algorithm=MD5-sess')).toBe(true);
    expect(refused('Basic realm="r"')).toBe(true);
    expect(refused([])).toBe(true);
    // one unanswerable among others is skipped, not fatal
    expect(chooseChallenge(['Digest realm="r", nonce="n", algorithm=SHA-512-256', 'Digest realm="r", nonce="m"'])?.nonce).toBe('m');
    expect(parseChallenge('Digest realm="r", nonce="n", qop="auth,auth-int", stale=TRUE')).toMatchObject({ qop: true, stale: true });
  });
});

describe('answerChallenge against vectors computed by hand', () => {
  // RFC 2617 §3.5's own example, recomputed with coreutils:
  //   HA1=$(printf '%s' 'Mufasa:testrealm@host.com:Circle Of Life' | md5sum | cut -d' ' -f1)   # 939e7578...
  //   HA2=$(printf '%s' 'GET:/dir/index.html' | md5sum | cut -d' ' -f1)                        # 39aff3a2...
  //   printf '%s' "$HA1:dcd98b7102dd2f0e8b11d0f600bfb0c093:00000001:0a4f113b:auth:$HA2" | md5sum
  //   -> 6629fae49393a05397450978507c4ef1 (the value the RFC prints)
  it('gives the RFC 2617 §3.5 response (MD5, qop=auth)', () => {
    const a = answerChallenge(
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
      { method: 'GET', uri: '/dir/index.html', username: 'Mufasa', password: 'Circle Of Life', nc: 1, cnonce: '0a4f113b' },
    );
    expect(parseDigest(a)).toMatchObject({
      response: '6629fae49393a05397450978507c4ef1',
      nc: '00000001',
      qop: 'auth',
      opaque: '5ccc069c403ebaf9f0171e9517f40e41',
    });
  });

  // A SIP REGISTER on SHA-256 (RFC 7616 style), recomputed with openssl:
  //   H1=$(printf '%s' 'alice:sip.example.net:s3cret pass' | openssl dgst -sha256 -r | cut -d' ' -f1)
  //   H2=$(printf '%s' 'REGISTER:sip:sip.example.net' | openssl dgst -sha256 -r | cut -d' ' -f1)
  //   printf '%s' "$H1:<nonce>:0000000a:<cnonce>:auth:$H2" | openssl dgst -sha256 -r
  it('gives the hand-computed SHA-256 response of a REGISTER (qop=auth, nc=10)', () => {
    const a = answerChallenge(
      'Digest realm="sip.example.net", nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", algorithm=SHA-256, qop="auth"',
      {
        method: 'REGISTER',
        uri: 'sip:sip.example.net',
        username: 'alice',
        password: 's3cret pass',
        nc: 10,
        cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
      },
    );
    expect(parseDigest(a)?.response).toBe('ff8a194e8278fd39244418e8bb77539d6eb974356e4eb6707b01942da772e977');
  });

  //   M1=$(printf '%s' 'alice:sip.example.net:s3cret pass' | md5sum | cut -d' ' -f1)
  //   M2=$(printf '%s' 'REGISTER:sip:sip.example.net' | md5sum | cut -d' ' -f1)
  //   printf '%s' "$M1:abc123:$M2" | md5sum
  it('gives the hand-computed MD5 response without qop', () => {
    const a = answerChallenge('Digest realm="sip.example.net", nonce="abc123"', {
      method: 'REGISTER',
      uri: 'sip:sip.example.net',
      username: 'alice',
      password: 's3cret pass',
      nc: 1,
      cnonce: 'unused',
    });
    expect(parseDigest(a)).toMatchObject({ response: '0b41e0bf2f491c70ac8ead32bfc125c9', algorithm: 'MD5', qop: undefined });
  });
});
