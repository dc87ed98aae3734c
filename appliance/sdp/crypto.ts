/**
 * SDES `a=crypto` (RFC 4568 §9.1, §9.2 for SRTP): parse and format the attribute, and choose the
 * offered line to answer. Key lengths of the registered suites come from RFC 4568 §6.2, RFC 6188
 * and RFC 7714 §12. We key SRTP with one inline key per line: lines with an MKI (or several keys,
 * which need one) are refused, as are session parameters that change how SRTP runs.
 */
import { evxError } from '../errors.js';
import { isSrtpSuite, SRTP_SUITES, type SrtpSuite } from './srtpSuites.js';

export interface CryptoKeyParam {
  readonly key: Buffer;
  /** Empty for a suite whose key and salt lengths we do not know (the whole inline value is `key`). */
  readonly salt: Buffer;
  /** Master key lifetime in packets (`|2^31` or `|1024`). */
  readonly lifetime?: number;
  /** Master key identifier (`|1:4`): its value and length in bytes. */
  readonly mki?: { readonly value: number; readonly length: number };
}

export interface CryptoAttribute {
  readonly tag: number;
  readonly suite: string;
  readonly keyParams: readonly CryptoKeyParam[];
  readonly sessionParams: readonly string[];
}

export interface ChosenCrypto {
  readonly tag: number;
  readonly suite: SrtpSuite;
  readonly key: Buffer;
  readonly salt: Buffer;
}

/** Master key and salt bytes of every registered SRTP suite, so a bad inline length is malformed. */
const KEY_SALT_BYTES: Readonly<Record<string, readonly [number, number]>> = {
  AES_CM_128_HMAC_SHA1_80: [16, 14],
  AES_CM_128_HMAC_SHA1_32: [16, 14],
  F8_128_HMAC_SHA1_80: [16, 14],
  AES_192_CM_HMAC_SHA1_80: [24, 14],
  AES_192_CM_HMAC_SHA1_32: [24, 14],
  AES_256_CM_HMAC_SHA1_80: [32, 14],
  AES_256_CM_HMAC_SHA1_32: [32, 14],
  SEED_CTR_128_HMAC_SHA1_80: [16, 14],
  SEED_128_CCM_80: [16, 14],
  SEED_128_GCM_96: [16, 14],
  AEAD_AES_128_GCM: [16, 12],
  AEAD_AES_256_GCM: [32, 12],
};

const MAX_TAG = 999_999_999;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** The longest lifetime SRTP can use: 2^48 packets (RFC 3711 §9.2). */
const MAX_LIFETIME_EXPONENT = 48;

function parseTag(text: string): number | undefined {
  if (!/^[0-9]{1,9}$/.test(text)) return undefined;
  const tag = Number(text);
  return tag >= 1 && tag <= MAX_TAG ? tag : undefined;
}

/** Strict base64: the canonical encoding of what it decodes to (padding optional). */
function decodeBase64(text: string): Buffer | undefined {
  if (!BASE64.test(text) || text.replace(/=+$/, '').length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64').replace(/=+$/, '') === text.replace(/=+$/, '') ? bytes : undefined;
}

/** `2^n` or a decimal packet count. */
function parseLifetime(text: string): number | undefined {
  const power = /^2\^([0-9]{1,2})$/.exec(text);
  if (power !== null) {
    const exponent = Number(power[1]);
    return exponent <= MAX_LIFETIME_EXPONENT ? 2 ** exponent : undefined;
  }
  if (!/^[0-9]{1,15}$/.test(text)) return undefined;
  const packets = Number(text);
  return packets > 0 ? packets : undefined;
}

/** `value:length`, length 1..128 bytes (RFC 4568 §9.2). */
function parseMki(text: string): { value: number; length: number } | undefined {
  const m = /^([0-9]{1,15}):([0-9]{1,3})$/.exec(text);
  if (m === null) return undefined;
  const length = Number(m[2]);
  return length >= 1 && length <= 128 ? { value: Number(m[1]), length } : undefined;
}

/** `inline:<key||salt>[|lifetime][|mki:length]` */
function parseKeyParam(text: string, suite: string): CryptoKeyParam | undefined {
  const colon = text.indexOf(':');
  if (colon < 0 || text.slice(0, colon).toLowerCase() !== 'inline') return undefined;
  const [keySalt = '', ...extras] = text.slice(colon + 1).split('|');
  if (extras.length > 2) return undefined;
  const material = decodeBase64(keySalt);
  if (material === undefined) return undefined;
  let lifetime: number | undefined;
  let mki: { value: number; length: number } | undefined;
  for (const [i, extra] of extras.entries()) {
    if (extra.includes(':')) {
      if (i !== extras.length - 1) return undefined; // the MKI comes last
      mki = parseMki(extra);
      if (mki === undefined) return undefined;
    } else {
      if (i !== 0) return undefined; // the lifetime comes first
      lifetime = parseLifetime(extra);
      if (lifetime === undefined) return undefined;
    }
  }
  const lengths = KEY_SALT_BYTES[suite];
  if (lengths !== undefined && material.length !== lengths[0] + lengths[1]) return undefined;
  const keyBytes = lengths?.[0] ?? material.length;
  return {
    key: material.subarray(0, keyBytes),
    salt: material.subarray(keyBytes),
    ...(lifetime === undefined ? {} : { lifetime }),
    ...(mki === undefined ? {} : { mki }),
  };
}

/** The value of an `a=crypto:` attribute (the text after the colon); undefined when malformed. */
export function parseCryptoAttribute(value: string): CryptoAttribute | undefined {
  const fields = value.trim().split(/[ \t]+/);
  if (fields.length < 3) return undefined;
  const [tagText = '', suiteText = '', keyParamsText = '', ...sessionParams] = fields;
  const tag = parseTag(tagText);
  if (tag === undefined || !/^[A-Za-z0-9_]+$/.test(suiteText)) return undefined;
  const suite = KEY_SALT_BYTES[suiteText.toUpperCase()] === undefined ? suiteText : suiteText.toUpperCase();
  const keyParams: CryptoKeyParam[] = [];
  for (const text of keyParamsText.split(';')) {
    const param = parseKeyParam(text, suite);
    if (param === undefined) return undefined;
    keyParams.push(param);
  }
  return { tag, suite, keyParams, sessionParams };
}

/** `<tag> <suite> inline:<base64 key||salt>`, the value of our `a=crypto:` attribute. */
export function formatCryptoAttribute(tag: number, suite: SrtpSuite, key: Buffer, salt: Buffer): string {
  const spec = SRTP_SUITES[suite];
  if (key.length !== spec.masterKeyBytes || salt.length !== spec.masterSaltBytes) {
    throw evxError('EVX_ERR_SRTP_KEY', `${suite} needs a ${spec.masterKeyBytes}-byte master key and a ${spec.masterSaltBytes}-byte salt`, {
      details: { suite, keyBytes: key.length, saltBytes: salt.length },
    });
  }
  if (!Number.isInteger(tag) || tag < 1 || tag > MAX_TAG) {
    throw evxError('EVX_ERR_BAD_REQUEST', 'crypto attribute tag must be an integer in 1..999999999', { details: { tag } });
  }
  return `${tag} ${suite} inline:${Buffer.concat([key, salt]).toString('base64')}`;
}

/** Why a session parameter keeps us from using a line, or undefined when we can ignore it. */
function sessionParamRefusal(param: string): string | undefined {
  const eq = param.indexOf('=');
  const name = (eq < 0 ? param : param.slice(0, eq)).toUpperCase();
  const value = eq < 0 ? '' : param.slice(eq + 1);
  switch (name) {
    case 'KDR':
      return value === '0' ? undefined : 'KDR not supported';
    case 'UNENCRYPTED_SRTP':
      return 'unencrypted SRTP not allowed';
    case 'UNENCRYPTED_SRTCP':
      return 'unencrypted SRTCP not allowed';
    case 'UNAUTHENTICATED_SRTP':
      return 'unauthenticated SRTP not allowed';
    case 'WSH': // window size hint: ours is fixed
    case 'FEC_ORDER': // both only concern an FEC stream, which we never negotiate
    case 'FEC_KEY':
      return undefined;
    default:
      // RFC 4568 §6.3.7: an unknown parameter is mandatory unless it starts with '-'
      return param.startsWith('-') ? undefined : 'unknown SRTP session parameter';
  }
}

/** Why we cannot key SRTP as one parsed line asks, or undefined when we can. */
function lineRefusal(line: CryptoAttribute): string | undefined {
  if (line.keyParams.length !== 1 || line.keyParams[0]!.mki !== undefined) return 'MKI not supported';
  for (const param of line.sessionParams) {
    const refusal = sessionParamRefusal(param);
    if (refusal !== undefined) return refusal;
  }
  return undefined;
}

/**
 * Choose the `a=crypto` line of one m= section to answer: the first, in the offerer's order
 * (RFC 4568 §7.1.2 has the offerer list its preferred line first), whose suite is in
 * `preference` and which we can key as offered. Otherwise a short reason for a SIP Warning.
 */
export function chooseCrypto(offered: readonly string[], preference: readonly SrtpSuite[]): ChosenCrypto | { reason: string } {
  if (offered.length === 0) return { reason: 'no crypto attribute' };
  let refusal: string | undefined;
  let anyParsed = false;
  for (const value of offered) {
    const line = parseCryptoAttribute(value);
    if (line === undefined) continue;
    anyParsed = true;
    if (!isSrtpSuite(line.suite) || !preference.includes(line.suite)) continue;
    const reason = lineRefusal(line);
    if (reason === undefined) {
      const { key, salt } = line.keyParams[0]!;
      return { tag: line.tag, suite: line.suite, key: Buffer.from(key), salt: Buffer.from(salt) };
    }
    refusal ??= reason;
  }
  return { reason: refusal ?? (anyParsed ? 'no supported crypto suite' : 'malformed crypto attribute') };
}
