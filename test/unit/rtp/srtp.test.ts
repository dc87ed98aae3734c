import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deriveSessionKeys,
  estimateIndex,
  generateMasterKey,
  SRTP_SUITES,
  SrtpSession,
  type SrtpSessionKeys,
  type SrtpSuite,
} from '../../../appliance/rtp/srtp.js';
import { REPO_ROOT, scratchDir } from '../../helpers/paths.js';

const SUITES = Object.keys(SRTP_SUITES) as SrtpSuite[];

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

/** An RTP packet with two CSRCs, a one-word-header extension of two words and a 160-byte payload. */
function rtpPacket(seq: number, ssrc: number, opts: { csrcs?: boolean; payloadBytes?: number } = {}): Buffer {
  const csrcs = opts.csrcs ?? true;
  const payload = Buffer.alloc(opts.payloadBytes ?? 160);
  for (let i = 0; i < payload.length; i++) payload[i] = (seq * 7 + i) & 0xff;
  const header = csrcs ? Buffer.alloc(12 + 8 + 4 + 8) : Buffer.alloc(12);
  header[0] = csrcs ? 0x92 : 0x80; // V=2, X=1, CC=2
  header[1] = 0x00;
  header.writeUInt16BE(seq & 0xffff, 2);
  header.writeUInt32BE((seq * 160) >>> 0, 4);
  header.writeUInt32BE(ssrc >>> 0, 8);
  if (csrcs) {
    header.writeUInt32BE(0x11111111, 12);
    header.writeUInt32BE(0x22222222, 16);
    header.writeUInt16BE(0xbede, 20);
    header.writeUInt16BE(2, 22);
    header.writeUInt32BE(0x10ff0000, 24);
    header.writeUInt32BE(0x21abcd00, 28);
  }
  return Buffer.concat([header, payload]);
}

/** An RTCP receiver report with one report block, from `ssrc`. */
function rtcpPacket(ssrc: number, salt = 0): Buffer {
  const p = Buffer.alloc(32);
  p[0] = 0x81;
  p[1] = 201;
  p.writeUInt16BE(7, 2);
  p.writeUInt32BE(ssrc >>> 0, 4);
  for (let i = 8; i < 32; i++) p[i] = (i * 13 + salt) & 0xff;
  return p;
}

function pair(suite: SrtpSuite): { tx: SrtpSession; rx: SrtpSession } {
  const { key, salt } = generateMasterKey(suite);
  return { tx: new SrtpSession(suite, key, salt), rx: new SrtpSession(suite, key, salt) };
}

function expectBuffer(v: Buffer | string): Buffer {
  if (typeof v === 'string') throw new Error(`expected a packet, got ${v}`);
  return v;
}

describe('RFC 3711 Appendix B', () => {
  const cmKeys = (rtpKey: Buffer, rtpSalt: Buffer): SrtpSessionKeys => ({
    rtpKey,
    rtpSalt,
    rtpAuthKey: Buffer.alloc(20),
    rtcpKey: rtpKey,
    rtcpSalt: rtpSalt,
    rtcpAuthKey: Buffer.alloc(20),
  });

  it('B.2: the AES-CM keystream for SSRC 0 and index 0 is the published one, start and end of the segment', () => {
    const session = SrtpSession.fromSessionKeys(
      'AES_CM_128_HMAC_SHA1_80',
      cmKeys(hex('2B7E151628AED2A6ABF7158809CF4F3C'), hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD')),
    );
    // A zero payload encrypts to the keystream itself; 65282 blocks is the RFC's segment.
    const packet = Buffer.alloc(12 + 65282 * 16);
    packet[0] = 0x80;
    const out = session.protectRtp(packet);
    const keystream = out.subarray(12, 12 + 65282 * 16);
    expect(keystream.subarray(0, 48).toString('hex').toUpperCase()).toBe(
      'E03EAD0935C95E80E166B16DD92B4EB4' + 'D23513162B02D0F72A43A2FE4A5F97AB' + '41E95B3BB0A2E8DD477901E4FCA894C0',
    );
    expect(
      keystream
        .subarray(keystream.length - 48)
        .toString('hex')
        .toUpperCase(),
    ).toBe('EC8CDF7398607CB0F2D21675EA9EA1E4' + '362B7C3C6773516318A077D7FC5073AE' + '6A2CC3787889374FBEB4C81B17BA6C44');
  });

  it('B.3: key derivation gives the published cipher key, cipher salt and auth key', () => {
    const keys = deriveSessionKeys('AES_CM_128_HMAC_SHA1_80', hex('E1F97A0D3E018BE0D64FA32C06DE4139'), hex('0EC675AD498AFEEBB6960B3AABE6'));
    expect(keys.rtpKey.toString('hex').toUpperCase()).toBe('C61E7A93744F39EE10734AFE3FF7A087');
    expect(keys.rtpSalt.toString('hex').toUpperCase()).toBe('30CBBC08863D8C85D49DB34A9AE1');
    // The RFC lists 94 bytes of auth key; HMAC-SHA1 uses the first 20.
    expect(keys.rtpAuthKey.toString('hex').toUpperCase()).toBe('CEBE321F6FF7716B6FD4AB49AF256A15' + '6D38BAA4');
  });
});

describe('RFC 7714 sections 16 and 17 (AES-GCM)', () => {
  const key128 = hex('000102030405060708090a0b0c0d0e0f');
  const key256 = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
  const salt = Buffer.from('Quid pro quo', 'ascii');
  const gcm = (suite: SrtpSuite, key: Buffer) =>
    SrtpSession.fromSessionKeys(suite, {
      rtpKey: key,
      rtpSalt: salt,
      rtpAuthKey: Buffer.alloc(0),
      rtcpKey: key,
      rtcpSalt: salt,
      rtcpAuthKey: Buffer.alloc(0),
    });
  const rtpPlain = hex(`8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976
    69736120 696e2070 61727465 73207472 6573`);
  const rtp128 = hex(`8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5
    0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce`);
  const rtp256 = hex(`8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa 332e33aa b1801238
    9a58e2f3 b50b2a02 76ffae0f 1ba63799 b87b7aa3 db36dfff d6b0f9bb 7878d7a7 6c13`);
  const rtcpPlain = hex(`81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61
    deadbeef deadbeef deadbeef deadbeef deadbeef`);

  it('16.1.1 / 16.1.2: AEAD_AES_128_GCM SRTP encryption and decryption', () => {
    expect(gcm('AEAD_AES_128_GCM', key128).protectRtp(rtpPlain).toString('hex')).toBe(rtp128.toString('hex'));
    expect(expectBuffer(gcm('AEAD_AES_128_GCM', key128).unprotectRtp(rtp128)).toString('hex')).toBe(rtpPlain.toString('hex'));
  });

  it('16.2.1 / 16.2.2: AEAD_AES_256_GCM SRTP encryption and decryption', () => {
    expect(gcm('AEAD_AES_256_GCM', key256).protectRtp(rtpPlain).toString('hex')).toBe(rtp256.toString('hex'));
    expect(expectBuffer(gcm('AEAD_AES_256_GCM', key256).unprotectRtp(rtp256)).toString('hex')).toBe(rtpPlain.toString('hex'));
  });

  it('17.1: AEAD_AES_128_GCM SRTCP encryption at SRTCP index 0x5d4', () => {
    const session = gcm('AEAD_AES_128_GCM', key128);
    for (let i = 0; i < 0x5d4; i++) session.protectRtcp(rtcpPlain);
    expect(session.protectRtcp(rtcpPlain).toString('hex')).toBe(
      hex(`81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d c676a5f1 730d6fda
        4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade 800005d4`).toString('hex'),
    );
  });

  it('17.2: AEAD_AES_256_GCM SRTCP verification and decryption', () => {
    const protectedPacket = hex(`81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d bffe0a50
      a2eaa5c1 110555be 8415f658 c61de047 6f1b6fad 1d1eb30c 4446839f 57ff6f6c b26ac3be 800005d4`);
    expect(expectBuffer(gcm('AEAD_AES_256_GCM', key256).unprotectRtcp(protectedPacket)).toString('hex')).toBe(rtcpPlain.toString('hex'));
  });

  it('17.3 / 17.4: unencrypted (E = 0) SRTCP verifies under both key sizes', () => {
    const tagged128 = hex(`81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61
      deadbeef deadbeef deadbeef deadbeef deadbeef 841dd968 3dd78ec9 2ae58790 125f62b3 000005d4`);
    const tagged256 = hex(`81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61
      deadbeef deadbeef deadbeef deadbeef deadbeef 91db4afb feee5a97 8fab4393 ed2615fe 000005d4`);
    expect(expectBuffer(gcm('AEAD_AES_128_GCM', key128).unprotectRtcp(tagged128)).toString('hex')).toBe(rtcpPlain.toString('hex'));
    expect(expectBuffer(gcm('AEAD_AES_256_GCM', key256).unprotectRtcp(tagged256)).toString('hex')).toBe(rtcpPlain.toString('hex'));
    const forged = Buffer.from(tagged128);
    forged[20]! ^= 1;
    expect(gcm('AEAD_AES_128_GCM', key128).unprotectRtcp(forged)).toBe('auth');
  });
});

describe('SRTP sessions', () => {
  it('estimates the index across a rollover in both directions (RFC 3711 Appendix A)', () => {
    expect(estimateIndex(65535, 0)).toBe(65536);
    expect(estimateIndex(65536 + 2, 65535)).toBe(65535);
    expect(estimateIndex(100, 65500)).toBeLessThan(0);
    expect(estimateIndex(3 * 65536 + 40000, 100)).toBe(4 * 65536 + 100);
    expect(estimateIndex(3 * 65536 + 40000, 39000)).toBe(3 * 65536 + 39000);
  });

  it.each(SUITES)('%s: round-trips packets with CSRCs and a header extension, header in the clear', (suite) => {
    const { tx, rx } = pair(suite);
    const spec = SRTP_SUITES[suite];
    for (let seq = 1000; seq < 1010; seq++) {
      const plain = rtpPacket(seq, 0xcafe0001);
      const sent = tx.protectRtp(plain);
      expect(sent.length).toBe(plain.length + spec.rtpTagBytes);
      // 12 + 2 CSRCs + extension header + 2 words = 32 bytes authenticated but not encrypted.
      expect(sent.subarray(0, 32).equals(plain.subarray(0, 32))).toBe(true);
      expect(sent.subarray(32, plain.length).equals(plain.subarray(32))).toBe(false);
      expect(expectBuffer(rx.unprotectRtp(sent)).equals(plain)).toBe(true);
    }
    const bare = rtpPacket(5, 7, { csrcs: false, payloadBytes: 0 });
    expect(expectBuffer(rx.unprotectRtp(tx.protectRtp(bare))).equals(bare)).toBe(true);
  });

  it.each(SUITES)('%s: follows the ROC across 65535 -> 0, reordered across the wrap', (suite) => {
    const { tx, rx } = pair(suite);
    const sent: Buffer[] = [];
    for (let i = 0; i < 20; i++) sent.push(tx.protectRtp(rtpPacket((65526 + i) & 0xffff, 42)));
    // 65526..65535 then 0..9; deliver 0 and 1 (ROC 1) before 65534 and 65535 (ROC 0).
    const order = [...Array(8).keys(), 10, 11, 8, 9, ...Array.from({ length: 8 }, (_, i) => 12 + i)];
    for (const i of order) {
      expect(expectBuffer(rx.unprotectRtp(sent[i]!)).equals(rtpPacket((65526 + i) & 0xffff, 42))).toBe(true);
    }
    // A receiver that has not seen the wrap rejects a ROC-1 packet it cannot place: the keys differ.
    const late = pair(suite);
    expect(late.rx.unprotectRtp(sent[19]!)).not.toBeInstanceOf(Buffer);
  });

  it.each(SUITES)('%s: any flipped bit fails authentication and leaves the state alone', (suite) => {
    const { tx, rx } = pair(suite);
    const plain = rtpPacket(300, 99);
    const sent = tx.protectRtp(plain);
    for (let byte = 0; byte < sent.length; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const forged = Buffer.from(sent);
        forged[byte]! ^= 1 << bit;
        const result = rx.unprotectRtp(forged);
        // Byte 0 (version, X, CC) and the extension length can make the header unparseable.
        if (byte === 0 || byte === 22 || byte === 23) expect(['auth', 'malformed']).toContain(result);
        else expect(result).toBe('auth');
      }
    }
    expect(rx.receivedStreams.rtp).toBe(0);
    expect(expectBuffer(rx.unprotectRtp(sent)).equals(plain)).toBe(true);
  });

  it.each(SUITES)('%s: rejects replays and packets older than the window', (suite) => {
    const { tx, rx } = pair(suite);
    const sent = new Map<number, Buffer>();
    for (let seq = 1; seq <= 1000; seq++) sent.set(seq, tx.protectRtp(rtpPacket(seq, 5, { csrcs: false })));
    for (const seq of [1, 2, 3, 1000]) expect(rx.unprotectRtp(sent.get(seq)!)).toBeInstanceOf(Buffer);
    expect(rx.unprotectRtp(sent.get(1000)!)).toBe('replay');
    expect(rx.unprotectRtp(sent.get(1000 - 128)!)).toBe('too_old');
    expect(rx.unprotectRtp(sent.get(1000 - 64)!)).toBeInstanceOf(Buffer);
    expect(rx.unprotectRtp(sent.get(1000 - 64)!)).toBe('replay');
    expect(rx.unprotectRtp(sent.get(1000 - 127)!)).toBeInstanceOf(Buffer);
    expect(rx.unprotectRtp(Buffer.alloc(8))).toBe('malformed');
  });

  it('forgets the least recently used SSRC beyond maxStreams, and only after authentication', () => {
    const { key, salt } = generateMasterKey('AES_CM_128_HMAC_SHA1_80');
    const tx = new SrtpSession('AES_CM_128_HMAC_SHA1_80', key, salt);
    const rx = new SrtpSession('AES_CM_128_HMAC_SHA1_80', key, salt, { maxStreams: 4 });
    const first = tx.protectRtp(rtpPacket(10, 1));
    expect(rx.unprotectRtp(first)).toBeInstanceOf(Buffer);
    for (let ssrc = 2; ssrc <= 5; ssrc++) expect(rx.unprotectRtp(tx.protectRtp(rtpPacket(10, ssrc)))).toBeInstanceOf(Buffer);
    expect(rx.receivedStreams.rtp).toBe(4);
    // SSRC 1 was the least recently used: its replay state is gone.
    expect(rx.unprotectRtp(first)).toBeInstanceOf(Buffer);
    const forged = tx.protectRtp(rtpPacket(10, 6));
    forged[forged.length - 1]! ^= 1;
    expect(rx.unprotectRtp(forged)).toBe('auth');
    expect(rx.receivedStreams.rtp).toBe(4);
  });

  it.each(SUITES)('%s: SRTCP round trip (always encrypted), replay and tamper', (suite) => {
    const { tx, rx } = pair(suite);
    const spec = SRTP_SUITES[suite];
    const sent: Buffer[] = [];
    for (let i = 0; i < 5; i++) {
      const plain = rtcpPacket(0xabc, i);
      const out = tx.protectRtcp(plain);
      expect(out.length).toBe(plain.length + 4 + spec.rtcpTagBytes);
      expect(out.subarray(8, plain.length).equals(plain.subarray(8))).toBe(false);
      const word = spec.aead ? out.readUInt32BE(out.length - 4) : out.readUInt32BE(plain.length);
      expect(word).toBe((0x80000000 | i) >>> 0);
      sent.push(out);
      expect(expectBuffer(rx.unprotectRtcp(out)).equals(plain)).toBe(true);
    }
    expect(rx.unprotectRtcp(sent[2]!)).toBe('replay');
    const next = tx.protectRtcp(rtcpPacket(0xabc, 9));
    const forged = Buffer.from(next);
    forged[9]! ^= 0x40;
    expect(rx.unprotectRtcp(forged)).toBe('auth');
    expect(rx.unprotectRtcp(next)).toBeInstanceOf(Buffer);
    expect(rx.unprotectRtcp(Buffer.alloc(10))).toBe('malformed');
    // 200 more from the same sender: the first of them is beyond the window once the last arrived.
    const more = Array.from({ length: 200 }, (_, i) => tx.protectRtcp(rtcpPacket(0xabc, i)));
    expect(rx.unprotectRtcp(more[199]!)).toBeInstanceOf(Buffer);
    expect(rx.unprotectRtcp(more[0]!)).toBe('too_old');
    expect(rx.unprotectRtcp(more[150]!)).toBeInstanceOf(Buffer);
  });

  it('refuses master keys and salts of the wrong length', () => {
    expect(() => new SrtpSession('AES_CM_128_HMAC_SHA1_80', Buffer.alloc(16), Buffer.alloc(12))).toThrow(
      expect.objectContaining({ code: 'EVX_ERR_SRTP_KEY' }),
    );
    expect(() => new SrtpSession('AEAD_AES_256_GCM', Buffer.alloc(16), Buffer.alloc(12))).toThrow(
      expect.objectContaining({ code: 'EVX_ERR_SRTP_KEY' }),
    );
    for (const suite of SUITES) {
      const { key, salt } = generateMasterKey(suite);
      expect([key.length, salt.length]).toEqual([SRTP_SUITES[suite].masterKeyBytes, SRTP_SUITES[suite].masterSaltBytes]);
    }
  });
});

const PEER_SOURCE = join(REPO_ROOT, 'test', 'fixtures', 'srtp', 'libsrtp-peer.c');
const LIBSRTP_HEADER = '/usr/include/srtp2/srtp.h';

function hasCompiler(): boolean {
  try {
    execFileSync('cc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const interopMissing = !existsSync(LIBSRTP_HEADER)
  ? `${LIBSRTP_HEADER} is missing (apt libsrtp2-dev)`
  : !hasCompiler()
    ? 'no C compiler (cc)'
    : '';
if (interopMissing !== '') console.warn(`libsrtp interop tests skipped: ${interopMissing}`);

describe.skipIf(interopMissing !== '')('interop with libsrtp2', () => {
  let dir = '';
  let peer = '';

  beforeAll(() => {
    dir = scratchDir('srtp-peer');
    peer = join(dir, 'libsrtp-peer');
    execFileSync('cc', ['-O2', '-Wall', '-o', peer, PEER_SOURCE, '-lsrtp2'], { stdio: 'pipe' });
  });

  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  function libsrtp(suite: SrtpSuite, key: Buffer, salt: Buffer, mode: 'protect' | 'unprotect', kind: 'rtp' | 'rtcp', packets: Buffer[]) {
    const input = packets.map((p) => p.toString('hex')).join('\n') + '\n';
    const out = execFileSync(peer, [suite, Buffer.concat([key, salt]).toString('base64'), mode, kind], { input, encoding: 'utf8' });
    return out.trimEnd().split('\n');
  }

  /** Two SSRCs: one plain run, one that wraps its sequence number (ROC 0 -> 1). */
  function rtpTraffic(): Buffer[] {
    const packets: Buffer[] = [];
    for (let i = 0; i < 12; i++) {
      packets.push(rtpPacket(200 + i, 0x1234, { csrcs: i % 2 === 0 }));
      packets.push(rtpPacket((65530 + i) & 0xffff, 0x5678, { csrcs: i % 3 === 0, payloadBytes: 160 + i }));
    }
    return packets;
  }

  it.each(SUITES)('%s: SRTP we protect is byte-identical to libsrtp, and each side unprotects the other', (suite) => {
    const { key, salt } = generateMasterKey(suite);
    const plain = rtpTraffic();
    const ours = new SrtpSession(suite, key, salt);
    const ourPackets = plain.map((p) => ours.protectRtp(p));
    const theirPackets = libsrtp(suite, key, salt, 'protect', 'rtp', plain);
    expect(theirPackets).toEqual(ourPackets.map((p) => p.toString('hex')));
    expect(libsrtp(suite, key, salt, 'unprotect', 'rtp', ourPackets)).toEqual(plain.map((p) => p.toString('hex')));
    const rx = new SrtpSession(suite, key, salt);
    for (let i = 0; i < plain.length; i++) {
      expect(expectBuffer(rx.unprotectRtp(Buffer.from(theirPackets[i]!, 'hex'))).equals(plain[i]!)).toBe(true);
    }
  });

  it.each(SUITES)('%s: SRTCP both ways', (suite) => {
    const { key, salt } = generateMasterKey(suite);
    const plain = Array.from({ length: 6 }, (_, i) => rtcpPacket(i % 2 === 0 ? 0x1234 : 0x5678, i));
    const ours = new SrtpSession(suite, key, salt);
    const ourPackets = plain.map((p) => ours.protectRtcp(p));
    expect(libsrtp(suite, key, salt, 'unprotect', 'rtcp', ourPackets)).toEqual(plain.map((p) => p.toString('hex')));
    const theirPackets = libsrtp(suite, key, salt, 'protect', 'rtcp', plain);
    const rx = new SrtpSession(suite, key, salt);
    for (let i = 0; i < plain.length; i++) {
      expect(expectBuffer(rx.unprotectRtcp(Buffer.from(theirPackets[i]!, 'hex'))).equals(plain[i]!)).toBe(true);
    }
    expect(rx.unprotectRtcp(Buffer.from(theirPackets[0]!, 'hex'))).toBe('replay');
  });
});
