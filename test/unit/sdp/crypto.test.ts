import { describe, expect, it } from 'vitest';
import { generateMasterKey, SRTP_SUITES, type SrtpSuite } from '../../../appliance/rtp/srtp.js';
import { chooseCrypto, formatCryptoAttribute, parseCryptoAttribute } from '../../../appliance/sdp/crypto.js';

const SUITES = Object.keys(SRTP_SUITES) as SrtpSuite[];
/** 30 bytes: a 16-byte key and a 14-byte salt (the RFC 4568 §8.1 example). */
const CM_INLINE = 'WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz';
const ALL: readonly SrtpSuite[] = ['AEAD_AES_256_GCM', 'AEAD_AES_128_GCM', 'AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'];

function inline(bytes: number, fill = 7): string {
  return Buffer.alloc(bytes, fill).toString('base64');
}

describe('parseCryptoAttribute', () => {
  it('parses the RFC 4568 example with a lifetime and an MKI', () => {
    const a = parseCryptoAttribute(`1 AES_CM_128_HMAC_SHA1_80 inline:${CM_INLINE}|2^20|1:4`);
    expect(a).toBeDefined();
    expect(a!.tag).toBe(1);
    expect(a!.suite).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(a!.sessionParams).toEqual([]);
    const [k] = a!.keyParams;
    expect(Buffer.concat([k!.key, k!.salt]).toString('base64')).toBe(CM_INLINE);
    expect([k!.key.length, k!.salt.length]).toEqual([16, 14]);
    expect(k!.lifetime).toBe(2 ** 20);
    expect(k!.mki).toEqual({ value: 1, length: 4 });
  });

  it('reads GCM keys with or without base64 padding, decimal lifetimes, session parameters and tabs', () => {
    const gcm128 = inline(28);
    expect(gcm128.endsWith('=')).toBe(true);
    for (const text of [gcm128, gcm128.replace(/=+$/, '')]) {
      const a = parseCryptoAttribute(`9\tAEAD_AES_128_GCM  inline:${text}|1024 KDR=0 WSH=64`);
      expect(a?.keyParams[0]?.key.length).toBe(16);
      expect(a?.keyParams[0]?.salt.length).toBe(12);
      expect(a?.keyParams[0]?.lifetime).toBe(1024);
      expect(a?.sessionParams).toEqual(['KDR=0', 'WSH=64']);
    }
    expect(parseCryptoAttribute(`999999999 AEAD_AES_256_GCM inline:${inline(44)}`)?.keyParams[0]?.key.length).toBe(32);
    // Several keys (each with an MKI) are parsed; an unregistered suite keeps its whole key.
    const multi = parseCryptoAttribute(`2 AES_CM_128_HMAC_SHA1_32 inline:${CM_INLINE}|2^31|1:1;inline:${CM_INLINE}|2:1`);
    expect(multi?.keyParams.map((k) => k.mki?.value)).toEqual([1, 2]);
    const unknown = parseCryptoAttribute(`3 FOO_BAR inline:${inline(5)}`);
    expect(unknown?.keyParams[0]?.key.length).toBe(5);
    expect(unknown?.keyParams[0]?.salt.length).toBe(0);
  });

  it.each([
    ['no key params', '1 AES_CM_128_HMAC_SHA1_80'],
    ['tag 0', `0 AES_CM_128_HMAC_SHA1_80 inline:${CM_INLINE}`],
    ['a ten-digit tag', `1000000000 AES_CM_128_HMAC_SHA1_80 inline:${CM_INLINE}`],
    ['a non-numeric tag', `x AES_CM_128_HMAC_SHA1_80 inline:${CM_INLINE}`],
    ['another key method', `1 AES_CM_128_HMAC_SHA1_80 uri:${CM_INLINE}`],
    ['a key one byte short', `1 AES_CM_128_HMAC_SHA1_80 inline:${inline(29)}`],
    ['a GCM salt of 14 bytes', `1 AEAD_AES_128_GCM inline:${inline(30)}`],
    ['bad base64', `1 AES_CM_128_HMAC_SHA1_80 inline:${CM_INLINE.slice(0, 39)}!`],
    ['an empty key', '1 AES_CM_128_HMAC_SHA1_80 inline:|2^20'],
    ['a lifetime of 2^99', `1 AES_CM_128_HMAC_SHA1_80 inline:${CM_INLINE}|2^99`],
    ['a non-numeric lifetime', `1 AES_CM_128_HMAC_SHA1_80 inline:${CM_INLINE}|forever`],
    ['an MKI length of 0', `1 AES_CM_128_HMAC_SHA1_80 inline:${CM_INLINE}|1:0`],
    ['an MKI length of 129', `1 AES_CM_128_HMAC_SHA1_80 inline:${CM_INLINE}|1:129`],
    ['the MKI before the lifetime', `1 AES_CM_128_HMAC_SHA1_80 inline:${CM_INLINE}|1:4|2^20`],
    ['three extra fields', `1 AES_CM_128_HMAC_SHA1_80 inline:${CM_INLINE}|2^20|2^20|1:4`],
    ['an empty key param after ;', `1 AES_CM_128_HMAC_SHA1_80 inline:${CM_INLINE};`],
  ])('refuses %s', (_, value) => {
    expect(parseCryptoAttribute(value)).toBeUndefined();
  });
});

describe('formatCryptoAttribute', () => {
  it.each(SUITES)('%s: formats what parses back to the same key and salt', (suite) => {
    const { key, salt } = generateMasterKey(suite);
    const text = formatCryptoAttribute(7, suite, key, salt);
    expect(text.startsWith(`7 ${suite} inline:`)).toBe(true);
    const a = parseCryptoAttribute(text);
    expect(a?.keyParams[0]?.key.equals(key)).toBe(true);
    expect(a?.keyParams[0]?.salt.equals(salt)).toBe(true);
    expect(chooseCrypto([text], ALL)).toEqual({ tag: 7, suite, key, salt });
  });

  it('refuses a key of the wrong length and a bad tag', () => {
    const { key, salt } = generateMasterKey('AEAD_AES_128_GCM');
    expect(() => formatCryptoAttribute(1, 'AEAD_AES_256_GCM', key, salt)).toThrow(expect.objectContaining({ code: 'EVX_ERR_SRTP_KEY' }));
    expect(() => formatCryptoAttribute(0, 'AEAD_AES_128_GCM', key, salt)).toThrow(expect.objectContaining({ code: 'EVX_ERR_BAD_REQUEST' }));
  });
});

describe('chooseCrypto', () => {
  const cm80 = (tag: number, extra = '') => `${tag} AES_CM_128_HMAC_SHA1_80 inline:${CM_INLINE}${extra}`;
  const gcm256 = (tag: number, extra = '') => `${tag} AEAD_AES_256_GCM inline:${inline(44, tag)}${extra}`;

  it("takes the first supported line in the offerer's order, not ours", () => {
    const chosen = chooseCrypto([`1 F8_128_HMAC_SHA1_80 inline:${CM_INLINE}`, cm80(2), gcm256(3)], ALL);
    expect(chosen).toMatchObject({ tag: 2, suite: 'AES_CM_128_HMAC_SHA1_80' });
    expect(chooseCrypto([cm80(1), gcm256(2)], ['AEAD_AES_256_GCM'])).toMatchObject({ tag: 2, suite: 'AEAD_AES_256_GCM' });
    const chosenKey = chooseCrypto([gcm256(4)], ALL);
    if ('reason' in chosenKey) throw new Error(chosenKey.reason);
    expect(Buffer.concat([chosenKey.key, chosenKey.salt]).equals(Buffer.alloc(44, 4))).toBe(true);
  });

  it('skips lines it cannot key as offered and falls through to the next', () => {
    expect(
      chooseCrypto(
        [cm80(1, '|2^20|1:4'), cm80(2, ' KDR=4'), cm80(3, ' UNENCRYPTED_SRTCP'), gcm256(4, ' WSH=128 -FOO FEC_ORDER=FEC_SRTP')],
        ALL,
      ),
    ).toMatchObject({ tag: 4 });
    expect(chooseCrypto(['garbage', cm80(5, '|2^31 KDR=0')], ALL)).toMatchObject({ tag: 5 });
  });

  it.each([
    ['no crypto attribute', []],
    ['malformed crypto attribute', ['1 AES_CM_128_HMAC_SHA1_80 inline:short', 'nonsense']],
    ['no supported crypto suite', [`1 F8_128_HMAC_SHA1_80 inline:${CM_INLINE}`, `2 AES_256_CM_HMAC_SHA1_80 inline:${inline(46)}`]],
    ['MKI not supported', [`1 AES_CM_128_HMAC_SHA1_80 inline:${CM_INLINE}|2^20|1:4`]],
    ['MKI not supported', [`1 AES_CM_128_HMAC_SHA1_80 inline:${CM_INLINE};inline:${CM_INLINE}`]],
    ['KDR not supported', [`1 AES_CM_128_HMAC_SHA1_80 inline:${CM_INLINE} KDR=1`]],
    ['unencrypted SRTP not allowed', [`1 AES_CM_128_HMAC_SHA1_80 inline:${CM_INLINE} UNENCRYPTED_SRTP`]],
    ['unencrypted SRTCP not allowed', [`1 AES_CM_128_HMAC_SHA1_80 inline:${CM_INLINE} UNENCRYPTED_SRTCP`]],
    ['unauthenticated SRTP not allowed', [`1 AES_CM_128_HMAC_SHA1_80 inline:${CM_INLINE} UNAUTHENTICATED_SRTP`]],
    ['unknown SRTP session parameter', [`1 AES_CM_128_HMAC_SHA1_80 inline:${CM_INLINE} NEW_THING=1`]],
  ])('explains a refusal: %s', (reason, offered) => {
    expect(chooseCrypto(offered, ALL)).toEqual({ reason });
  });

  it('reports the refusal of a supported suite before an unsupported suite', () => {
    expect(chooseCrypto([`1 F8_128_HMAC_SHA1_80 inline:${CM_INLINE}`, cm80(2, '|1:4')], ALL)).toEqual({ reason: 'MKI not supported' });
    expect(chooseCrypto([cm80(1)], ['AEAD_AES_128_GCM'])).toEqual({ reason: 'no supported crypto suite' });
  });
});
