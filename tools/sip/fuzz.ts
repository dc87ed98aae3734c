/**
 * Mutation fuzzing of everything that parses bytes from the network in the telephony layer:
 * the SIP parser (datagram and TCP framing), SDP + offer/answer, SIPREC multipart + metadata XML,
 * RTP, RTCP, telephone-events and the receive pipeline. Deterministic (seeded PRNG) so a failure
 * is reproducible from its seed and index. Used by the unit test and `make bench-sip-fuzz`.
 *
 * The oracle: parsers return a failure or throw an EdgeVoxError with their own code — any other
 * exception is a bug; a parsed SIP message must serialize and parse again to the same message.
 */
import { isEdgeVoxError, type ErrorCode } from '../../appliance/errors.js';
import { encodeTelephoneEvent, DtmfDecoder } from '../../appliance/rtp/dtmf.js';
import { parseRtp, writeRtp } from '../../appliance/rtp/packet.js';
import { RtpReceiver } from '../../appliance/rtp/receiver.js';
import { buildRtcpReport, parseRtcp } from '../../appliance/rtp/rtcp.js';
import { selectStreams } from '../../appliance/sdp/offer-answer.js';
import { parseSdp } from '../../appliance/sdp/sdp.js';
import { SipStreamFramer } from '../../appliance/sip/framer.js';
import { SipHeaders, type SipRequest } from '../../appliance/sip/message.js';
import { DEFAULT_SIP_LIMITS, parseSipMessage } from '../../appliance/sip/parser.js';
import { serializeSipMessage } from '../../appliance/sip/serialize.js';
import { parseSiprecOffer } from '../../appliance/sip/siprec.js';

/** xorshift32: small, fast, reproducible. */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return this.next() % n;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
}

const SDP = [
  'v=0',
  'o=alice 2890844526 2890844526 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 49170 RTP/AVP 9 8 0 101',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=sendrecv',
  'm=video 0 RTP/AVP 31',
  '',
].join('\r\n');

const METADATA =
  "<?xml version='1.0'?><recording xmlns='urn:ietf:params:xml:ns:recording:1'><datamode>complete</datamode>" +
  '<session session_id="S"/><participant participant_id="P1"><nameID aor="sip:a@b"><name>A &amp; B</name></nameID></participant>' +
  '<participant participant_id="P2"/><stream stream_id="X" session_id="S"><label>1</label></stream>' +
  '<participantstreamassoc participant_id="P2"><send>X</send></participantstreamassoc></recording>';

const MULTIPART = `--b1\r\nContent-Type: application/sdp\r\n\r\n${SDP.replace('a=ptime:20', 'a=label:1')}\r\n--b1\r\nContent-Type: application/rs-metadata+xml\r\n\r\n${METADATA}\r\n--b1--\r\n`;

function msg(start: string, headers: string[], body = ''): string {
  return [start, ...headers, `Content-Length: ${Buffer.byteLength(body)}`].join('\r\n') + '\r\n\r\n' + body;
}

const COMMON = [
  'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK776asdhds;rport',
  'Max-Forwards: 70',
  'From: "Alice, A." <sip:+15550100@127.0.0.1:5070>;tag=1928301774',
  'To: <sip:edgevox@127.0.0.1>',
  'Call-ID: a84b4c76e66710@127.0.0.1',
];

/** Valid seed messages covering the request and response shapes the server handles. */
export const SIP_SEEDS: readonly string[] = [
  msg(
    'INVITE sip:edgevox@127.0.0.1 SIP/2.0',
    [
      ...COMMON,
      'CSeq: 314159 INVITE',
      'Contact: <sip:alice@127.0.0.1:5070>',
      'Supported: timer, replaces',
      'Session-Expires: 1800;refresher=uac',
      'Content-Type: application/sdp',
    ],
    SDP,
  ),
  msg('OPTIONS sip:edgevox@127.0.0.1 SIP/2.0', [...COMMON, 'CSeq: 1 OPTIONS', 'Accept: application/sdp']),
  msg('BYE sip:edgevox@127.0.0.1 SIP/2.0', [
    ...COMMON.slice(0, 3),
    't: <sip:edgevox@127.0.0.1>;tag=abc',
    'i: a84b4c76e66710@127.0.0.1',
    'CSeq: 2 BYE',
  ]),
  msg('SIP/2.0 200 OK', [
    ...COMMON.slice(0, 1),
    'From: <sip:a@b>;tag=1',
    'To: <sip:c@d>;tag=2',
    'Call-ID: x',
    'CSeq: 7 REFER',
    'Contact: <sip:c@d>',
  ]),
  msg(
    'INVITE sip:srs@127.0.0.1 SIP/2.0',
    [...COMMON, 'CSeq: 1 INVITE', 'Contact: <sip:src@127.0.0.1>;+sip.src', 'Require: siprec', 'Content-Type: multipart/mixed;boundary=b1'],
    MULTIPART,
  ),
  msg('REFER sip:edgevox@127.0.0.1 SIP/2.0', [
    ...COMMON,
    'CSeq: 3 REFER',
    'Contact: <sip:a@b>',
    'Refer-To: <sip:agent@127.0.0.1?Replaces=abc>',
    'Referred-By: <sip:a@b>',
  ]),
  msg(
    'NOTIFY sip:edgevox@127.0.0.1 SIP/2.0',
    [...COMMON, 'CSeq: 4 NOTIFY', 'Event: refer', 'Subscription-State: terminated', 'Content-Type: message/sipfrag;version=2.0'],
    'SIP/2.0 200 OK\r\n',
  ),
  msg(
    'INVITE sip:edgevox@127.0.0.1 SIP/2.0',
    [
      ...COMMON,
      'CSeq: 5 INVITE',
      'Contact: <sip:a@b>',
      'Authorization: Digest username="trunk", realm="edgevox", nonce="abc.def", uri="sip:edgevox@127.0.0.1", response="0123456789abcdef0123456789abcdef", algorithm=MD5, qop=auth, nc=00000001, cnonce="x"',
      'Content-Type: application/sdp',
    ],
    SDP,
  ),
];

const INTERESTING = [
  0x00, 0xff, 0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x3b, 0x2c, 0x3c, 0x3e, 0x22, 0x5c, 0x3d, 0x40, 0x2d, 0x30, 0x39, 0x7f, 0x80,
];
const TOKENS = [
  '\r\n',
  '\r\n\r\n',
  ';',
  ',',
  ':',
  '<',
  '>',
  '"',
  '\\',
  ' ',
  '\t',
  '%00',
  '99999999999',
  '-1',
  '0',
  'SIP/2.0',
  'sip:',
  'Content-Length: 0\r\n',
  'Via: SIP/2.0/UDP x\r\n',
  '--b1',
  '<!DOCTYPE a>',
  '<a>',
  ']]>',
  '&amp;',
  'm=audio 0 RTP/AVP 0\r\n',
];

/** One random mutation (or a stack of up to 4) of `input`. */
export function mutate(input: Uint8Array, rng: Prng, donors: readonly Uint8Array[] = []): Uint8Array {
  let b = Buffer.from(input);
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds; r++) {
    const pos = b.length === 0 ? 0 : rng.int(b.length);
    switch (rng.int(10)) {
      case 0: // bit flip
        if (b.length > 0) b[pos] = b[pos]! ^ (1 << rng.int(8));
        break;
      case 1: // interesting byte
        if (b.length > 0) b[pos] = rng.pick(INTERESTING);
        break;
      case 2: {
        // delete a range
        const len = 1 + rng.int(Math.min(64, Math.max(1, b.length - pos)));
        b = Buffer.concat([b.subarray(0, pos), b.subarray(pos + len)]);
        break;
      }
      case 3: {
        // duplicate a range (header repetition, long lines)
        const len = 1 + rng.int(Math.min(128, Math.max(1, b.length - pos)));
        const times = 1 + rng.int(rng.int(10) === 0 ? 400 : 3);
        const chunk = b.subarray(pos, pos + len);
        b = Buffer.concat([b.subarray(0, pos), ...Array.from({ length: times }, () => chunk), b.subarray(pos)]);
        break;
      }
      case 4: // insert a token
        b = Buffer.concat([b.subarray(0, pos), Buffer.from(rng.pick(TOKENS), 'latin1'), b.subarray(pos)]);
        break;
      case 5: {
        // random bytes
        const n = 1 + rng.int(16);
        const rnd = Buffer.alloc(n);
        for (let i = 0; i < n; i++) rnd[i] = rng.int(256);
        b = Buffer.concat([b.subarray(0, pos), rnd, b.subarray(pos)]);
        break;
      }
      case 6: // truncate
        b = b.subarray(0, pos);
        break;
      case 7: {
        // replace a number with an extreme one
        const text = b.toString('latin1');
        const nums = [...text.matchAll(/[0-9]+/g)];
        if (nums.length > 0) {
          const m = rng.pick(nums);
          const rep = rng.pick(['0', '4294967296', '99999999999999999999', '-5', '65536', '1e9', '']);
          b = Buffer.from(text.slice(0, m.index) + rep + text.slice(m.index + m[0].length), 'latin1');
        }
        break;
      }
      case 8: {
        // splice a line from another input
        if (donors.length > 0) {
          const d = Buffer.from(rng.pick(donors)).toString('latin1').split('\r\n');
          const line = rng.pick(d);
          const lines = b.toString('latin1').split('\r\n');
          lines.splice(rng.int(lines.length + 1), 0, line);
          b = Buffer.from(lines.join('\r\n'), 'latin1');
        }
        break;
      }
      default: {
        // swap two lines
        const lines = b.toString('latin1').split('\r\n');
        if (lines.length > 2) {
          const i = rng.int(lines.length);
          const j = rng.int(lines.length);
          [lines[i], lines[j]] = [lines[j]!, lines[i]!];
          b = Buffer.from(lines.join('\r\n'), 'latin1');
        }
      }
    }
  }
  return b.length > 200_000 ? b.subarray(0, 200_000) : b;
}

export interface FuzzCounts {
  inputs: number;
  parsed: number;
  rejected: number;
  /** Unexpected exceptions: must stay 0. */
  crashes: number;
  firstCrash: string | undefined;
}

function newCounts(): FuzzCounts {
  return { inputs: 0, parsed: 0, rejected: 0, crashes: 0, firstCrash: undefined };
}

function crash(c: FuzzCounts, target: string, i: number, err: unknown): void {
  c.crashes++;
  c.firstCrash ??= `${target} #${i}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
}

function expectedError(err: unknown, codes: readonly ErrorCode[]): boolean {
  return isEdgeVoxError(err) && codes.includes(err.code);
}

/** SIP parser on datagrams + serializer round trip + TCP framing of the same bytes. */
export function fuzzSip(n: number, seed: number): FuzzCounts {
  const rng = new Prng(seed);
  const seeds = SIP_SEEDS.map((s) => Buffer.from(s, 'latin1'));
  const c = newCounts();
  const framer = { f: new SipStreamFramer(DEFAULT_SIP_LIMITS) };
  for (let i = 0; i < n; i++) {
    const input = mutate(rng.pick(seeds), rng, seeds);
    c.inputs++;
    try {
      const r = parseSipMessage(Buffer.from(input));
      if (r.ok) {
        c.parsed++;
        // the serializer always writes Content-Length: one header line more than a datagram may have had
        const again = parseSipMessage(serializeSipMessage(r.message), {
          ...DEFAULT_SIP_LIMITS,
          maxHeaderCount: DEFAULT_SIP_LIMITS.maxHeaderCount + 1,
        });
        if (!again.ok) throw new Error(`re-parse of a serialized message failed: ${again.reason}`);
      } else c.rejected++;
      // the same bytes as a stream chunk, split at a random point
      const cut = rng.int(input.length + 1);
      for (const part of [input.subarray(0, cut), input.subarray(cut)]) {
        for (const fr of framer.f.push(Buffer.from(part))) {
          if (fr.type === 'message') parseSipMessage(fr.bytes, DEFAULT_SIP_LIMITS, false);
          else if (fr.type === 'error') framer.f = new SipStreamFramer(DEFAULT_SIP_LIMITS);
        }
      }
      if (framer.f.bufferedBytes > DEFAULT_SIP_LIMITS.maxHeaderBytes + DEFAULT_SIP_LIMITS.maxBodyBytes + 4) {
        throw new Error('framer buffer exceeded its bound');
      }
    } catch (err) {
      crash(c, 'sip', i, err);
    }
  }
  return c;
}

/** SDP parse + offer/answer selection, and SIPREC multipart + metadata. */
export function fuzzSdp(n: number, seed: number): FuzzCounts {
  const rng = new Prng(seed);
  const sdpSeed = Buffer.from(SDP);
  const mpSeed = Buffer.from(MULTIPART);
  const c = newCounts();
  for (let i = 0; i < n; i++) {
    const siprec = rng.int(3) === 0;
    const input = mutate(siprec ? mpSeed : sdpSeed, rng, [sdpSeed, mpSeed]);
    c.inputs++;
    try {
      if (siprec) {
        const headers = new SipHeaders().set('content-type', 'multipart/mixed;boundary=b1');
        const req: SipRequest = { kind: 'request', method: 'INVITE', uri: 'sip:srs@127.0.0.1', headers, body: Buffer.from(input) };
        const o = parseSiprecOffer(req);
        selectStreams(o.sdp);
      } else {
        selectStreams(parseSdp(Buffer.from(input)));
      }
      c.parsed++;
    } catch (err) {
      if (
        expectedError(err, [
          'EVX_ERR_SDP_PARSE',
          'EVX_ERR_SDP_NO_COMMON_CODEC',
          'EVX_ERR_SDP_ADDRESS',
          'EVX_ERR_SDP_SRTP',
          'EVX_ERR_SIPREC_METADATA',
        ])
      )
        c.rejected++;
      else crash(c, siprec ? 'siprec' : 'sdp', i, err);
    }
  }
  return c;
}

/** RTP / RTCP / telephone-event parsing and the whole receive pipeline. */
export function fuzzRtp(n: number, seed: number): FuzzCounts {
  const rng = new Prng(seed);
  const audio = new Uint8Array(172);
  writeRtp(audio, { marker: true, payloadType: 0, sequence: 1, timestamp: 160, ssrc: 1 }, new Uint8Array(160).fill(0x55));
  const g722 = new Uint8Array(172);
  writeRtp(g722, { marker: false, payloadType: 9, sequence: 2, timestamp: 320, ssrc: 1 }, new Uint8Array(160).fill(0x3a));
  const ev = new Uint8Array(16);
  writeRtp(ev, { marker: false, payloadType: 101, sequence: 3, timestamp: 480, ssrc: 1 }, encodeTelephoneEvent(5, true, 10, 800));
  const rtcp = buildRtcpReport(
    1,
    'cname',
    [{ ssrc: 2, fractionLost: 3, cumulativeLost: 4, extendedHighestSeq: 5, jitter: 6, lastSr: 7, delaySinceLastSr: 8 }],
    { ntpSec: 1, ntpFrac: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 5 },
  );
  const seeds = [audio, g722, ev, new Uint8Array(rtcp)];
  const c = newCounts();
  const sink = { frames: 0 };
  const rxPcmu = new RtpReceiver({
    codec: 'PCMU',
    payloadType: 0,
    telephoneEventPt: 101,
    frameMs: 20,
    onFrame: () => sink.frames++,
    onDtmf: () => {},
  });
  const rxG722 = new RtpReceiver({
    codec: 'G722',
    payloadType: 9,
    telephoneEventPt: 101,
    frameMs: 20,
    onFrame: () => sink.frames++,
    onDtmf: () => {},
  });
  const dtmf = new DtmfDecoder(8000, () => {});
  let t = 0;
  for (let i = 0; i < n; i++) {
    const input = mutate(rng.pick(seeds), rng, seeds);
    c.inputs++;
    try {
      const p = parseRtp(input);
      const r = parseRtcp(input);
      if (typeof p !== 'string') {
        c.parsed++;
        rxPcmu.push(p, (t += 20));
        rxG722.push(p, t);
        dtmf.push(p.payload, p.timestamp);
      } else c.rejected++;
      if (r !== undefined) c.parsed++;
      if (i % 500 === 0) {
        rxPcmu.tick(t + 1000);
        rxG722.tick(t + 1000);
      }
    } catch (err) {
      crash(c, 'rtp', i, err);
    }
  }
  rxPcmu.flush();
  rxG722.flush();
  return c;
}
