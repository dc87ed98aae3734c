/**
 * SRTP and SRTCP (RFC 3711) for SIP legs keyed by SDES, on node:crypto.
 *
 * Suites: AES_CM_128_HMAC_SHA1_80/_32 (RFC 3711 §4.1.1, §4.2.1; tag lengths per RFC 4568 §6.2) and
 * AEAD_AES_128_GCM / AEAD_AES_256_GCM (RFC 7714 §8, §9). Session keys come from the AES-CM PRF
 * (RFC 3711 §4.3, key_derivation_rate 0); the GCM suites use the same KDF keyed with the master
 * key's AES size and the 96-bit master salt padded to 112 bits on the right (RFC 7714 §11 and
 * its errata 4938, as libsrtp does).
 *
 * One SrtpSession per direction: one protects what we send, one unprotects what we receive.
 * Receiving: ROC estimation (RFC 3711 §3.3.1, Appendix A), a replay window per SSRC for SRTP and
 * SRTCP (§3.3.2), state changed only once a packet authenticates, at most `maxStreams` SSRCs
 * (the least recently authenticated is forgotten). SRTCP is always encrypted on send (E = 1);
 * unencrypted SRTCP (E = 0) is accepted on receive. Not supported: MKI, other key derivation
 * rates, encrypted header extensions (RFC 6904).
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual, type Cipher } from 'node:crypto';
import { evxError } from '../errors.js';

import { isSrtpSuite, SRTP_SUITES, type SrtpSuite, type SrtpSuiteSpec } from '../sdp/srtpSuites.js';

export { isSrtpSuite, SRTP_SUITES, type SrtpSuite, type SrtpSuiteSpec };

/** Why a packet was dropped on receive. */
export type SrtpFailure = 'malformed' | 'auth' | 'replay' | 'too_old';

/** Session keys of one direction (RFC 3711 §4.3.1 labels 0..5); the auth keys are empty for AEAD. */
export interface SrtpSessionKeys {
  readonly rtpKey: Buffer;
  readonly rtpSalt: Buffer;
  readonly rtpAuthKey: Buffer;
  readonly rtcpKey: Buffer;
  readonly rtcpSalt: Buffer;
  readonly rtcpAuthKey: Buffer;
}

export interface SrtpSessionOptions {
  /** Replay window in packets, per SSRC (default 128, at least 64). */
  readonly replayWindow?: number;
  /** SSRCs a receiving session remembers (default 16). */
  readonly maxStreams?: number;
}

const HMAC_SHA1_KEY_BYTES = 20;
const PRF_SALT_BYTES = 14;
const SRTCP_E_BIT = 0x80000000;
const SRTCP_MAX_INDEX = 0x7fffffff;
const MAX_ROC = 0xffffffff;
const RTP_HEADER_BYTES = 12;
const RTCP_HEADER_BYTES = 8;
const ESRTCP_WORD_BYTES = 4;
const DEFAULT_REPLAY_WINDOW = 128;
const MIN_REPLAY_WINDOW = 64;
const DEFAULT_MAX_STREAMS = 16;

/** A fresh master key and salt for `suite`, for our side of an SDES exchange. */
export function generateMasterKey(suite: SrtpSuite): { key: Buffer; salt: Buffer } {
  const spec = SRTP_SUITES[suite];
  return { key: randomBytes(spec.masterKeyBytes), salt: randomBytes(spec.masterSaltBytes) };
}

/** RFC 3711 §4.3.1-4.3.3: AES-CM PRF over (master salt XOR label << 48) * 2^16, n bytes. */
function deriveKey(masterKey: Buffer, masterSalt: Buffer, label: number, bytes: number): Buffer {
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv, 0, 0, PRF_SALT_BYTES); // a 12-byte GCM salt stays zero-padded on the right
  iv[7]! ^= label;
  const prf = createCipheriv(`aes-${masterKey.length * 8}-ctr`, masterKey, iv);
  return prf.update(Buffer.alloc(bytes));
}

function checkMasterKey(suite: SrtpSuite, masterKey: Buffer, masterSalt: Buffer): void {
  const spec = SRTP_SUITES[suite];
  if (masterKey.length !== spec.masterKeyBytes || masterSalt.length !== spec.masterSaltBytes) {
    throw evxError('EVX_ERR_SRTP_KEY', `${suite} needs a ${spec.masterKeyBytes}-byte master key and a ${spec.masterSaltBytes}-byte salt`, {
      details: { suite, keyBytes: masterKey.length, saltBytes: masterSalt.length },
    });
  }
}

/** The six session keys of RFC 3711 §4.3 (key_derivation_rate 0) for `suite`. */
export function deriveSessionKeys(suite: SrtpSuite, masterKey: Buffer, masterSalt: Buffer): SrtpSessionKeys {
  checkMasterKey(suite, masterKey, masterSalt);
  const spec = SRTP_SUITES[suite];
  const authBytes = spec.aead ? 0 : HMAC_SHA1_KEY_BYTES;
  const k = (label: number, bytes: number) => (bytes === 0 ? Buffer.alloc(0) : deriveKey(masterKey, masterSalt, label, bytes));
  return {
    rtpKey: k(0, spec.masterKeyBytes),
    rtpAuthKey: k(1, authBytes),
    rtpSalt: k(2, spec.masterSaltBytes),
    rtcpKey: k(3, spec.masterKeyBytes),
    rtcpAuthKey: k(4, authBytes),
    rtcpSalt: k(5, spec.masterSaltBytes),
  };
}

/** Length of the RTP header with CSRCs and extension, or -1 when it does not fit in `limit` bytes. */
export function rtpHeaderLength(packet: Buffer, limit = packet.length): number {
  if (limit < RTP_HEADER_BYTES || packet[0]! >> 6 !== 2) return -1;
  let end = RTP_HEADER_BYTES + (packet[0]! & 0x0f) * 4;
  if ((packet[0]! & 0x10) !== 0) {
    if (end + 4 > limit) return -1;
    end += 4 + packet.readUInt16BE(end + 2) * 4;
  }
  return end <= limit ? end : -1;
}

/**
 * RFC 3711 §3.3.1 / Appendix A: the index of `seq` relative to the highest index seen so far.
 * Negative when the packet would belong before ROC 0.
 */
export function estimateIndex(highest: number, seq: number): number {
  const roc = Math.floor(highest / 0x10000);
  const sl = highest % 0x10000;
  let v = roc;
  if (sl < 0x8000) {
    if (seq - sl > 0x8000) v = roc - 1;
  } else if (sl - 0x8000 > seq) {
    v = roc + 1;
  }
  return v * 0x10000 + seq;
}

/** Replay list of RFC 3711 §3.3.2: the highest index and which of the last `size` were seen. */
class ReplayWindow {
  highest = -1;
  lastUse = 0;
  private readonly seen: Float64Array;

  constructor(private readonly size: number) {
    this.seen = new Float64Array(size).fill(-1);
  }

  check(index: number): 'replay' | 'too_old' | undefined {
    if (this.highest - index >= this.size) return 'too_old';
    return this.seen[index % this.size] === index ? 'replay' : undefined;
  }

  accept(index: number): void {
    if (index > this.highest) this.highest = index;
    this.seen[index % this.size] = index;
  }
}

/** Receive state per SSRC, bounded: adding past capacity forgets the least recently used. */
class StreamTable {
  private readonly streams = new Map<number, ReplayWindow>();
  private clock = 0;

  constructor(
    private readonly capacity: number,
    private readonly windowSize: number,
  ) {}

  get(ssrc: number): ReplayWindow | undefined {
    return this.streams.get(ssrc);
  }

  accept(ssrc: number, stream: ReplayWindow | undefined, index: number): void {
    let s = stream;
    if (s === undefined) {
      if (this.streams.size >= this.capacity) this.forgetLeastRecent();
      s = new ReplayWindow(this.windowSize);
      this.streams.set(ssrc, s);
    }
    s.accept(index);
    s.lastUse = ++this.clock;
  }

  get size(): number {
    return this.streams.size;
  }

  private forgetLeastRecent(): void {
    let oldest: number | undefined;
    let oldestUse = Infinity;
    for (const [ssrc, s] of this.streams) {
      if (s.lastUse < oldestUse) {
        oldestUse = s.lastUse;
        oldest = ssrc;
      }
    }
    if (oldest !== undefined) this.streams.delete(oldest);
  }
}

/** AES-CM keystream (RFC 3711 §4.1.1) from a reused AES-ECB cipher over the counter blocks. */
class CounterModeCipher {
  private readonly ecb: Cipher;
  /** Counter blocks; each block's low 16 bits hold its number, written once. */
  private counters = Buffer.alloc(0);
  private counterWords = new Uint16Array(0);

  constructor(
    key: Buffer,
    private readonly salt: Buffer,
  ) {
    this.ecb = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
    this.ecb.setAutoPadding(false);
  }

  /** out[outAt..] = input[inAt..inAt+length] XOR keystream(IV(ssrc, index)); index is 48-bit (RTP) or 31-bit (RTCP). */
  xor(out: Buffer, outAt: number, input: Buffer, inAt: number, length: number, ssrc: number, index: number): void {
    if (length === 0) return;
    const blocks = Math.ceil(length / 16);
    if (this.counters.length < blocks * 16) this.growCounters(blocks);
    const c = this.counters;
    const s = this.salt;
    // IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16): block 0 carries it, the others copy it.
    const high = Math.floor(index / 0x100000000);
    c[0] = s[0]!;
    c[1] = s[1]!;
    c[2] = s[2]!;
    c[3] = s[3]!;
    c[4] = s[4]! ^ (ssrc >>> 24);
    c[5] = s[5]! ^ ((ssrc >>> 16) & 0xff);
    c[6] = s[6]! ^ ((ssrc >>> 8) & 0xff);
    c[7] = s[7]! ^ (ssrc & 0xff);
    c[8] = s[8]! ^ (high >>> 8);
    c[9] = s[9]! ^ (high & 0xff);
    c[10] = s[10]! ^ ((index >>> 24) & 0xff);
    c[11] = s[11]! ^ ((index >>> 16) & 0xff);
    c[12] = s[12]! ^ ((index >>> 8) & 0xff);
    c[13] = s[13]! ^ (index & 0xff);
    const w = this.counterWords;
    for (let b = 8; b < blocks * 8; b += 8) {
      for (let k = 0; k < 7; k++) w[b + k] = w[k]!;
    }
    const keystream = this.ecb.update(c.length === blocks * 16 ? c : c.subarray(0, blocks * 16));
    for (let i = 0; i < length; i++) out[outAt + i] = input[inAt + i]! ^ keystream[i]!;
  }

  private growCounters(blocks: number): void {
    const n = Math.max(blocks, 2 * (this.counters.length / 16));
    this.counters = Buffer.alloc(n * 16); // never pooled: offset 0, so the 16-bit view is aligned
    this.counterWords = new Uint16Array(this.counters.buffer, this.counters.byteOffset, n * 8);
    for (let b = 0; b < n; b++) this.counters.writeUInt16BE(b & 0xffff, b * 16 + 14);
  }
}

/** The keys of one of RTP or RTCP, prepared for per-packet use. */
interface PacketKeys {
  readonly key: Buffer;
  readonly salt: Buffer;
  readonly authKey: Buffer;
  /** AES-CM suites only. */
  readonly counterMode: CounterModeCipher | undefined;
  /** AEAD suites only: aes-128-gcm / aes-256-gcm. */
  readonly gcmAlgorithm: 'aes-128-gcm' | 'aes-256-gcm';
}

function packetKeys(aead: boolean, key: Buffer, salt: Buffer, authKey: Buffer): PacketKeys {
  return {
    key,
    salt,
    authKey,
    counterMode: aead ? undefined : new CounterModeCipher(key, salt),
    gcmAlgorithm: key.length === 32 ? 'aes-256-gcm' : 'aes-128-gcm',
  };
}

/** RFC 7714 §8.1: the SRTP IV is the salt XOR (00 00 || SSRC || ROC || SEQ). */
function rtpGcmIv(salt: Buffer, ssrc: number, roc: number, seq: number): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(ssrc, 2);
  iv.writeUInt32BE(roc, 6);
  iv.writeUInt16BE(seq, 10);
  for (let i = 0; i < 12; i++) iv[i]! ^= salt[i]!;
  return iv;
}

/** RFC 7714 §9.1: the SRTCP IV is the salt XOR (00 00 || SSRC || 00 00 || 0 + 31-bit index). */
function rtcpGcmIv(salt: Buffer, ssrc: number, index: number): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(ssrc, 2);
  iv.writeUInt32BE(index, 8);
  for (let i = 0; i < 12; i++) iv[i]! ^= salt[i]!;
  return iv;
}

function hmacTag(authKey: Buffer, data: Buffer, trailer: Buffer | undefined): Buffer {
  const h = createHmac('sha1', authKey).update(data);
  if (trailer !== undefined) h.update(trailer);
  return h.digest();
}

function tagsMatch(expected: Buffer, received: Buffer): boolean {
  return expected.length === received.length && timingSafeEqual(expected, received);
}

function gcmSeal(keys: PacketKeys, iv: Buffer, aad: Buffer, plaintext: Buffer, out: Buffer, at: number): void {
  const c = createCipheriv(keys.gcmAlgorithm, keys.key, iv, { authTagLength: 16 });
  c.setAAD(aad);
  const body = c.update(plaintext);
  body.copy(out, at);
  const tail = c.final();
  tail.copy(out, at + body.length);
  c.getAuthTag().copy(out, at + body.length + tail.length);
}

/** Decrypts and verifies; undefined when the tag does not verify. */
function gcmOpen(keys: PacketKeys, iv: Buffer, aad: Buffer, ciphertext: Buffer, tag: Buffer): Buffer | undefined {
  const d = createDecipheriv(keys.gcmAlgorithm, keys.key, iv, { authTagLength: 16 });
  d.setAAD(aad);
  d.setAuthTag(tag);
  const body = d.update(ciphertext);
  try {
    const tail = d.final();
    return tail.length === 0 ? body : Buffer.concat([body, tail]);
  } catch {
    return undefined;
  }
}

/** One direction of an SRTP session: protect what we send, or unprotect what we receive. */
export class SrtpSession {
  readonly suite: SrtpSuite;
  private readonly spec: SrtpSuiteSpec;
  private rtp: PacketKeys;
  private rtcp: PacketKeys;
  /** Highest RTP index sent per SSRC. Never forgotten: a reset ROC would repeat keystream. */
  private readonly sentRtp = new Map<number, number>();
  /** One SRTCP index for every SSRC we send, so (SSRC, index) never repeats. */
  private nextRtcpIndex = 0;
  private readonly receivedRtp: StreamTable;
  private readonly receivedRtcp: StreamTable;
  private readonly rocScratch = Buffer.alloc(4);

  constructor(suite: SrtpSuite, masterKey: Buffer, masterSalt: Buffer, options: SrtpSessionOptions = {}) {
    this.suite = suite;
    this.spec = SRTP_SUITES[suite];
    const keys = deriveSessionKeys(suite, masterKey, masterSalt);
    this.rtp = packetKeys(this.spec.aead, keys.rtpKey, keys.rtpSalt, keys.rtpAuthKey);
    this.rtcp = packetKeys(this.spec.aead, keys.rtcpKey, keys.rtcpSalt, keys.rtcpAuthKey);
    const window = Math.max(MIN_REPLAY_WINDOW, Math.floor(options.replayWindow ?? DEFAULT_REPLAY_WINDOW));
    const streams = Math.max(1, Math.floor(options.maxStreams ?? DEFAULT_MAX_STREAMS));
    this.receivedRtp = new StreamTable(streams, window);
    this.receivedRtcp = new StreamTable(streams, window);
  }

  /** For known-answer tests: a session over given session keys, key derivation skipped. */
  static fromSessionKeys(suite: SrtpSuite, keys: SrtpSessionKeys, options: SrtpSessionOptions = {}): SrtpSession {
    const spec = SRTP_SUITES[suite];
    const session = new SrtpSession(suite, Buffer.alloc(spec.masterKeyBytes), Buffer.alloc(spec.masterSaltBytes), options);
    session.rtp = packetKeys(spec.aead, keys.rtpKey, keys.rtpSalt, keys.rtpAuthKey);
    session.rtcp = packetKeys(spec.aead, keys.rtcpKey, keys.rtcpSalt, keys.rtcpAuthKey);
    return session;
  }

  /** SSRCs whose SRTP / SRTCP receive state is held. */
  get receivedStreams(): { rtp: number; rtcp: number } {
    return { rtp: this.receivedRtp.size, rtcp: this.receivedRtcp.size };
  }

  protectRtp(packet: Buffer): Buffer {
    const headerBytes = rtpHeaderLength(packet);
    if (headerBytes < 0) throw evxError('EVX_ERR_RTP_PARSE', 'RTP packet to protect is malformed');
    const ssrc = packet.readUInt32BE(8);
    const index = this.nextSendIndex(ssrc, packet.readUInt16BE(2));
    const roc = Math.floor(index / 0x10000);
    const tagBytes = this.spec.rtpTagBytes;
    const out = Buffer.allocUnsafe(packet.length + tagBytes);
    packet.copy(out, 0, 0, headerBytes);
    if (this.spec.aead) {
      const iv = rtpGcmIv(this.rtp.salt, ssrc, roc, index & 0xffff);
      gcmSeal(this.rtp, iv, packet.subarray(0, headerBytes), packet.subarray(headerBytes), out, headerBytes);
    } else {
      this.rtp.counterMode!.xor(out, headerBytes, packet, headerBytes, packet.length - headerBytes, ssrc, index);
      // The tag is over packet || ROC; the ROC goes where the tag will be (every tag is >= 4 bytes).
      out.writeUInt32BE(roc, packet.length);
      hmacTag(this.rtp.authKey, out.subarray(0, packet.length + 4), undefined).copy(out, packet.length, 0, tagBytes);
    }
    return out;
  }

  unprotectRtp(packet: Buffer): Buffer | SrtpFailure {
    const tagBytes = this.spec.rtpTagBytes;
    const bodyEnd = packet.length - tagBytes;
    const headerBytes = rtpHeaderLength(packet, bodyEnd);
    if (headerBytes < 0) return 'malformed';
    const ssrc = packet.readUInt32BE(8);
    const seq = packet.readUInt16BE(2);
    const stream = this.receivedRtp.get(ssrc);
    // RFC 3711 §3.3.1: the first packet of an SSRC has ROC 0.
    const index = stream === undefined ? seq : estimateIndex(stream.highest, seq);
    if (index < 0) return 'too_old';
    const roc = Math.floor(index / 0x10000);
    if (roc > MAX_ROC) return 'malformed';
    const replay = stream?.check(index);
    if (replay !== undefined) return replay;
    const tag = packet.subarray(bodyEnd);
    let out: Buffer;
    if (this.spec.aead) {
      const iv = rtpGcmIv(this.rtp.salt, ssrc, roc, seq);
      const plain = gcmOpen(this.rtp, iv, packet.subarray(0, headerBytes), packet.subarray(headerBytes, bodyEnd), tag);
      if (plain === undefined) return 'auth';
      out = Buffer.allocUnsafe(headerBytes + plain.length);
      packet.copy(out, 0, 0, headerBytes);
      plain.copy(out, headerBytes);
    } else {
      this.rocScratch.writeUInt32BE(roc, 0);
      const expected = hmacTag(this.rtp.authKey, packet.subarray(0, bodyEnd), this.rocScratch).subarray(0, tagBytes);
      if (!tagsMatch(expected, tag)) return 'auth';
      out = Buffer.allocUnsafe(bodyEnd);
      packet.copy(out, 0, 0, headerBytes);
      this.rtp.counterMode!.xor(out, headerBytes, packet, headerBytes, bodyEnd - headerBytes, ssrc, index);
    }
    this.receivedRtp.accept(ssrc, stream, index);
    return out;
  }

  protectRtcp(packet: Buffer): Buffer {
    if (packet.length < RTCP_HEADER_BYTES || packet[0]! >> 6 !== 2) {
      throw evxError('EVX_ERR_RTP_PARSE', 'RTCP packet to protect is malformed');
    }
    if (this.nextRtcpIndex > SRTCP_MAX_INDEX) {
      throw evxError('EVX_ERR_SRTP_KEY', 'SRTCP index exhausted: the master key must be replaced', { details: { suite: this.suite } });
    }
    const index = this.nextRtcpIndex++;
    const ssrc = packet.readUInt32BE(4);
    const tagBytes = this.spec.rtcpTagBytes;
    const out = Buffer.allocUnsafe(packet.length + ESRTCP_WORD_BYTES + tagBytes);
    packet.copy(out, 0, 0, RTCP_HEADER_BYTES);
    const word = (SRTCP_E_BIT | index) >>> 0;
    if (this.spec.aead) {
      // RFC 7714 §9.2: header || ciphertext || tag || E+index; AAD = header || E+index.
      const aad = Buffer.allocUnsafe(RTCP_HEADER_BYTES + ESRTCP_WORD_BYTES);
      packet.copy(aad, 0, 0, RTCP_HEADER_BYTES);
      aad.writeUInt32BE(word, RTCP_HEADER_BYTES);
      const iv = rtcpGcmIv(this.rtcp.salt, ssrc, index);
      gcmSeal(this.rtcp, iv, aad, packet.subarray(RTCP_HEADER_BYTES), out, RTCP_HEADER_BYTES);
      out.writeUInt32BE(word, packet.length + tagBytes);
    } else {
      // RFC 3711 §3.4: header || ciphertext || E+index || tag, the tag over everything before it.
      this.rtcp.counterMode!.xor(out, RTCP_HEADER_BYTES, packet, RTCP_HEADER_BYTES, packet.length - RTCP_HEADER_BYTES, ssrc, index);
      out.writeUInt32BE(word, packet.length);
      const authEnd = packet.length + ESRTCP_WORD_BYTES;
      hmacTag(this.rtcp.authKey, out.subarray(0, authEnd), undefined).copy(out, authEnd, 0, tagBytes);
    }
    return out;
  }

  unprotectRtcp(packet: Buffer): Buffer | SrtpFailure {
    const tagBytes = this.spec.rtcpTagBytes;
    if (packet.length < RTCP_HEADER_BYTES + ESRTCP_WORD_BYTES + tagBytes || packet[0]! >> 6 !== 2) return 'malformed';
    const aead = this.spec.aead;
    // AEAD puts the E+index word last, HMAC suites put the tag last.
    const wordAt = aead ? packet.length - ESRTCP_WORD_BYTES : packet.length - tagBytes - ESRTCP_WORD_BYTES;
    const word = packet.readUInt32BE(wordAt);
    const encrypted = (word & SRTCP_E_BIT) !== 0;
    const index = word & SRTCP_MAX_INDEX;
    const ssrc = packet.readUInt32BE(4);
    const stream = this.receivedRtcp.get(ssrc);
    const replay = stream?.check(index);
    if (replay !== undefined) return replay;
    let out: Buffer;
    if (aead) {
      const bodyEnd = wordAt - tagBytes;
      const tag = packet.subarray(bodyEnd, wordAt);
      const iv = rtcpGcmIv(this.rtcp.salt, ssrc, index);
      if (encrypted) {
        const aad = Buffer.allocUnsafe(RTCP_HEADER_BYTES + ESRTCP_WORD_BYTES);
        packet.copy(aad, 0, 0, RTCP_HEADER_BYTES);
        aad.writeUInt32BE(word, RTCP_HEADER_BYTES);
        const plain = gcmOpen(this.rtcp, iv, aad, packet.subarray(RTCP_HEADER_BYTES, bodyEnd), tag);
        if (plain === undefined) return 'auth';
        out = Buffer.allocUnsafe(RTCP_HEADER_BYTES + plain.length);
        packet.copy(out, 0, 0, RTCP_HEADER_BYTES);
        plain.copy(out, RTCP_HEADER_BYTES);
      } else {
        // RFC 7714 §9.3: the whole packet and the E+index word are AAD, the cipher is just the tag.
        const aad = Buffer.concat([packet.subarray(0, bodyEnd), packet.subarray(wordAt)]);
        if (gcmOpen(this.rtcp, iv, aad, Buffer.alloc(0), tag) === undefined) return 'auth';
        out = Buffer.from(packet.subarray(0, bodyEnd));
      }
    } else {
      const authEnd = wordAt + ESRTCP_WORD_BYTES;
      const expected = hmacTag(this.rtcp.authKey, packet.subarray(0, authEnd), undefined).subarray(0, tagBytes);
      if (!tagsMatch(expected, packet.subarray(authEnd))) return 'auth';
      out = Buffer.allocUnsafe(wordAt);
      packet.copy(out, 0, 0, RTCP_HEADER_BYTES);
      if (encrypted) {
        this.rtcp.counterMode!.xor(out, RTCP_HEADER_BYTES, packet, RTCP_HEADER_BYTES, wordAt - RTCP_HEADER_BYTES, ssrc, index);
      } else {
        packet.copy(out, RTCP_HEADER_BYTES, RTCP_HEADER_BYTES, wordAt);
      }
    }
    this.receivedRtcp.accept(ssrc, stream, index);
    return out;
  }

  /** The sender's packet index: its ROC follows the sequence numbers it sends (wrap 65535 -> 0). */
  private nextSendIndex(ssrc: number, seq: number): number {
    const highest = this.sentRtp.get(ssrc);
    if (highest === undefined) {
      this.sentRtp.set(ssrc, seq);
      return seq;
    }
    const index = estimateIndex(highest, seq);
    if (index < 0) {
      throw evxError('EVX_ERR_RTP_PARSE', 'RTP sequence number is more than 2^15 behind the first one sent', { details: { ssrc } });
    }
    if (index / 0x10000 > MAX_ROC) {
      throw evxError('EVX_ERR_SRTP_KEY', 'SRTP index exhausted: the master key must be replaced', { details: { suite: this.suite } });
    }
    if (index > highest) this.sentRtp.set(ssrc, index);
    return index;
  }
}
