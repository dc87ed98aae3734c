/**
 * SDP offer/answer (RFC 3264) for a media-terminating endpoint: per audio m= line (IPv4) pick the first
 * offered codec we support (PCMU, PCMA, G722), keep telephone-event (RFC 4733) when offered,
 * mirror the direction, reject every other stream with port 0. Media encryption is SDES (RFC 4568)
 * under a policy: `RTP/SAVP` needs a usable `a=crypto`; `RTP/AVP` with `a=crypto` (best-effort
 * SRTP, as baresip and FreeSWITCH offer it) is answered encrypted unless SRTP is off; plain RTP is
 * refused when SRTP is required.
 */
import { isIPv4 } from 'node:net';
import { evxError } from '../errors.js';
import type { SrtpSuite } from './srtpSuites.js';
import { chooseCrypto, formatCryptoAttribute } from './crypto.js';
import {
  attribute,
  direction,
  mediaAddress,
  rtpMaps,
  type SdpAttribute,
  type SdpDirection,
  type SdpMedia,
  type SdpSession,
  type RtpMap,
} from './sdp.js';

export type CodecName = 'PCMU' | 'PCMA' | 'G722';

/** Media encryption per trunk: never, when the peer offers it, or always. */
export type SrtpPolicy = 'off' | 'optional' | 'required';

export interface MediaSecurity {
  readonly policy: SrtpPolicy;
  /** Suites we accept, best first. */
  readonly suites: readonly SrtpSuite[];
}

/** Every suite we implement, strongest first. */
export const SRTP_SUITE_PREFERENCE: readonly SrtpSuite[] = [
  'AEAD_AES_256_GCM',
  'AEAD_AES_128_GCM',
  'AES_CM_128_HMAC_SHA1_80',
  'AES_CM_128_HMAC_SHA1_32',
];

export const DEFAULT_MEDIA_SECURITY: MediaSecurity = { policy: 'optional', suites: SRTP_SUITE_PREFERENCE };

/** The offerer's SDES line we accepted: its tag, suite and the key it sends with. */
export interface AcceptedCrypto {
  readonly tag: number;
  readonly suite: SrtpSuite;
  readonly key: Buffer;
  readonly salt: Buffer;
}
export const SUPPORTED_CODECS: readonly CodecName[] = ['PCMU', 'PCMA', 'G722'];

/** What was agreed for one audio stream. */
export interface NegotiatedStream {
  /** Index of the m= line in the offer. */
  readonly mediaIndex: number;
  readonly codec: CodecName;
  readonly payloadType: number;
  /** RTP clock (G.722 uses 8000 on the wire, RFC 3551 §4.5.2). */
  readonly rtpClockHz: number;
  /** Sample rate of decoded PCM. */
  readonly sampleRateHz: number;
  readonly telephoneEventPt: number | undefined;
  /** Comfort noise (RFC 3389 CN/8000) when offered. */
  readonly comfortNoisePt: number | undefined;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Offerer's direction, from its point of view. */
  readonly offerDirection: SdpDirection;
  /** `a=label` of the stream (SIPREC participants are tied to streams by label). */
  readonly label: string | undefined;
  readonly ptimeMs: number;
  /** RTP and RTCP share the RTP port (RFC 5761 `a=rtcp-mux` offered). */
  readonly rtcpMux: boolean;
  /** Where the peer takes RTCP when its `a=rtcp` (RFC 3605) names it; undefined: RTP port + 1 (or the RTP port with mux). */
  readonly remoteRtcp: { readonly address: string; readonly port: number } | undefined;
  /** Transport profile of the offer's m= line (answered with the same). */
  readonly proto: string;
  /** SRTP agreed for this stream (the peer's crypto line); undefined = plain RTP. */
  readonly crypto: AcceptedCrypto | undefined;
}

export interface AnswerOptions {
  readonly localAddress: string;
  /** Local RTP port for each accepted audio stream, by offer m= index. */
  readonly localPorts: ReadonlyMap<number, number>;
  readonly sessionId: string;
  readonly sessionVersion: number;
  readonly codecPreference?: readonly CodecName[];
  /** Force our direction (SIPREC recorder answers recvonly). */
  readonly directionOverride?: SdpDirection;
  /** Keep CN in the answer when offered (we send comfort noise while idle). */
  readonly comfortNoise?: boolean;
  /** Our SRTP master key and salt for each encrypted stream, by offer m= index. */
  readonly localCrypto?: ReadonlyMap<number, { readonly key: Buffer; readonly salt: Buffer }>;
}

function isCodec(e: string): e is CodecName {
  return e === 'PCMU' || e === 'PCMA' || e === 'G722';
}

function answerDirection(offer: SdpDirection): SdpDirection {
  switch (offer) {
    case 'sendonly':
      return 'recvonly';
    case 'recvonly':
      return 'sendonly';
    default:
      return offer;
  }
}

/**
 * The peer's RTCP destination from `a=rtcp:<port> [IN IP4 <address>]` (RFC 3605 §2.1); without an
 * address it is the stream's connection address. Unusable (no port, port 0 or past 65535, an IPv6
 * or non-literal address our IPv4 sockets cannot reach without a lookup, multicast or broadcast):
 * undefined, the default.
 */
function remoteRtcpOf(m: SdpMedia, rtpAddress: string): { address: string; port: number } | undefined {
  const v = attribute(m, 'rtcp');
  if (v === undefined) return undefined;
  const r = /^([0-9]{1,5})(?:\s+IN\s+IP4\s+(\S+))?\s*$/.exec(v);
  if (r === null || (r[2] !== undefined && (!isIPv4(r[2]) || multicastOrBroadcast(r[2])))) return undefined;
  const port = Number(r[1]);
  if (port < 1 || port > 65535) return undefined;
  return { address: r[2] ?? rtpAddress, port };
}

/** 224.0.0.0/4 (RFC 5771) or the limited broadcast address; `address` is an IPv4 literal. */
function multicastOrBroadcast(address: string): boolean {
  const first = Number(address.slice(0, address.indexOf('.')));
  return (first >= 224 && first <= 239) || address === '255.255.255.255';
}

/** Decide a stream's encryption under the policy: the accepted crypto, undefined for plain RTP, or why not. */
function streamSecurity(m: SdpMedia, security: MediaSecurity): { crypto: AcceptedCrypto | undefined } | { reason: string } {
  const lines = m.attributes.filter((a) => a.name === 'crypto' && a.value !== undefined).map((a) => a.value!);
  if (m.proto === 'RTP/SAVP') {
    if (security.policy === 'off') return { reason: 'SRTP is disabled for this trunk' };
    if (lines.length === 0) return { reason: 'RTP/SAVP offer without a=crypto (DTLS-SRTP is not supported)' };
  } else if (m.proto !== 'RTP/AVP') {
    return { reason: `transport ${m.proto} not supported` };
  }
  if (security.policy === 'off' || lines.length === 0) {
    return security.policy === 'required' ? { reason: 'SRTP required: the offer has no a=crypto' } : { crypto: undefined };
  }
  const chosen = chooseCrypto(lines, security.suites);
  if ('reason' in chosen) {
    // best-effort SRTP on RTP/AVP falls back to plain RTP unless SRTP is required
    return m.proto === 'RTP/AVP' && security.policy === 'optional' ? { crypto: undefined } : { reason: chosen.reason };
  }
  return { crypto: { tag: chosen.tag, suite: chosen.suite, key: chosen.key, salt: chosen.salt } };
}

/** Choose codecs (and encryption) for every acceptable audio stream (no ports needed yet). */
export function selectStreams(
  offer: SdpSession,
  preference: readonly CodecName[] = SUPPORTED_CODECS,
  security: MediaSecurity = DEFAULT_MEDIA_SECURITY,
): NegotiatedStream[] {
  const out: NegotiatedStream[] = [];
  let securityProblem: string | undefined;
  let addressProblem: string | undefined;
  offer.media.forEach((m, idx) => {
    if (m.type !== 'audio' || m.port === 0) return;
    const sec = streamSecurity(m, security);
    if ('reason' in sec) {
      securityProblem ??= sec.reason;
      return;
    }
    const maps = rtpMaps(m);
    let chosen: RtpMap | undefined;
    for (const map of maps) {
      if (!isCodec(map.encoding) || !preference.includes(map.encoding) || map.channels !== 1 || map.clockRateHz !== 8000) continue;
      chosen = map;
      break;
    }
    if (chosen === undefined) return;
    const te = maps.find((x) => x.encoding === 'TELEPHONE-EVENT' && x.clockRateHz === 8000);
    const cn = maps.find((x) => x.encoding === 'CN' && x.clockRateHz === 8000);
    const address = mediaAddress(offer, m);
    if (address === undefined) return;
    // our answer and our RTP sockets are IPv4: an IPv6 peer would get a 200 and a silent call
    if ((m.connection ?? offer.connection)?.addrType !== 'IP4') return;
    // a host name (RFC 8866 allows one) is refused rather than resolved: sent to, it costs a DNS
    // lookup per RTP packet until latching (dgram resolves every send), and resolved once it would
    // still hang call setup on the resolver and let any caller make the box look names up
    if (!isIPv4(address)) {
      addressProblem ??= 'connection address is a host name, not an IPv4 address';
      return;
    }
    // we terminate unicast media: a multicast group or the broadcast address would spray the
    // call's audio (the agent's voice, bridged) over the appliance's network at the offerer's word
    if (multicastOrBroadcast(address)) {
      addressProblem ??= 'connection address is multicast or broadcast';
      return;
    }
    const ptime = Number(attribute(m, 'ptime') ?? '20');
    const rtcpMux = m.attributes.some((a) => a.name === 'rtcp-mux');
    out.push({
      mediaIndex: idx,
      codec: chosen.encoding as CodecName,
      payloadType: chosen.payloadType,
      rtpClockHz: 8000,
      sampleRateHz: chosen.encoding === 'G722' ? 16000 : 8000,
      telephoneEventPt: te?.payloadType,
      comfortNoisePt: cn?.payloadType,
      remoteAddress: address,
      remotePort: m.port,
      offerDirection: direction(offer, m),
      label: attribute(m, 'label'),
      ptimeMs: Number.isFinite(ptime) && ptime >= 10 && ptime <= 60 ? ptime : 20,
      rtcpMux,
      remoteRtcp: rtcpMux ? undefined : remoteRtcpOf(m, address),
      proto: m.proto,
      crypto: sec.crypto,
    });
  });
  if (out.length === 0 && securityProblem !== undefined) {
    throw evxError('EVX_ERR_SDP_SRTP', securityProblem, { details: { reason: securityProblem } });
  }
  if (out.length === 0 && addressProblem !== undefined) {
    throw evxError('EVX_ERR_SDP_ADDRESS', addressProblem, { details: { reason: addressProblem } });
  }
  if (out.length === 0) {
    throw evxError('EVX_ERR_SDP_NO_COMMON_CODEC', 'no acceptable audio stream in the SDP offer');
  }
  return out;
}

const CODEC_RTPMAP: Readonly<Record<CodecName, string>> = { PCMU: 'PCMU/8000', PCMA: 'PCMA/8000', G722: 'G722/8000' };

/** Build the answer SDP for `offer` given the streams chosen by `selectStreams`. */
export function buildAnswer(offer: SdpSession, streams: readonly NegotiatedStream[], opts: AnswerOptions): SdpSession {
  const media: SdpMedia[] = offer.media.map((m, idx) => {
    const s = streams.find((x) => x.mediaIndex === idx);
    const port = opts.localPorts.get(idx);
    if (s === undefined || port === undefined) {
      return { type: m.type, port: 0, proto: m.proto, formats: m.formats, connection: undefined, bandwidth: [], attributes: [] };
    }
    const formats = [String(s.payloadType)];
    const attributes: SdpAttribute[] = [{ name: 'rtpmap', value: `${s.payloadType} ${CODEC_RTPMAP[s.codec]}` }];
    if (s.telephoneEventPt !== undefined) {
      formats.push(String(s.telephoneEventPt));
      attributes.push({ name: 'rtpmap', value: `${s.telephoneEventPt} telephone-event/8000` });
      attributes.push({ name: 'fmtp', value: `${s.telephoneEventPt} 0-16` });
    }
    if (opts.comfortNoise === true && s.comfortNoisePt !== undefined) {
      formats.push(String(s.comfortNoisePt));
      attributes.push({ name: 'rtpmap', value: `${s.comfortNoisePt} CN/8000` });
    }
    attributes.push({ name: 'ptime', value: String(s.ptimeMs) });
    if (s.label !== undefined) attributes.push({ name: 'label', value: s.label });
    const ours = opts.localCrypto?.get(idx);
    if (s.crypto !== undefined && ours !== undefined) {
      attributes.push({ name: 'crypto', value: formatCryptoAttribute(s.crypto.tag, s.crypto.suite, ours.key, ours.salt) });
    }
    if (s.rtcpMux) attributes.push({ name: 'rtcp-mux', value: undefined });
    else attributes.push({ name: 'rtcp', value: String(port + 1) });
    const dir = opts.directionOverride ?? answerDirection(s.offerDirection);
    return {
      type: 'audio',
      port,
      proto: m.proto,
      formats,
      connection: undefined,
      bandwidth: [],
      attributes: [...attributes, { name: dir, value: undefined }],
    };
  });
  return {
    origin: {
      username: 'edgevox',
      sessionId: opts.sessionId,
      sessionVersion: String(opts.sessionVersion),
      netType: 'IN',
      addrType: 'IP4',
      address: opts.localAddress,
    },
    name: 'EdgeVox',
    connection: { netType: 'IN', addrType: 'IP4', address: opts.localAddress },
    bandwidth: [],
    timing: ['0 0'],
    attributes: [],
    media,
  };
}

export interface OfferOptions {
  readonly localAddress: string;
  readonly localPort: number;
  readonly sessionId: string;
  readonly sessionVersion: number;
  /** In order of preference. */
  readonly codecs: readonly CodecName[];
  /** SDES lines to offer (tag, suite, our key); RTP/SAVP when `requireSrtp`, else best-effort on RTP/AVP. */
  readonly crypto?: readonly { readonly tag: number; readonly suite: SrtpSuite; readonly key: Buffer; readonly salt: Buffer }[];
  readonly requireSrtp?: boolean;
}

/** Static payload types of our codecs (RFC 3551). */
const STATIC_PT: Readonly<Record<CodecName, number>> = { PCMU: 0, PCMA: 8, G722: 9 };
const OFFER_TELEPHONE_EVENT_PT = 101;

/** Our own offer (late offer: the INVITE had none): one sendrecv audio stream with our codecs and DTMF. */
export function buildOffer(opts: OfferOptions): SdpSession {
  const pts = opts.codecs.map((c) => STATIC_PT[c]);
  const attributes: SdpAttribute[] = [
    ...opts.codecs.map((c) => ({ name: 'rtpmap', value: `${STATIC_PT[c]} ${CODEC_RTPMAP[c]}` })),
    { name: 'rtpmap', value: `${OFFER_TELEPHONE_EVENT_PT} telephone-event/8000` },
    { name: 'fmtp', value: `${OFFER_TELEPHONE_EVENT_PT} 0-16` },
    { name: 'ptime', value: '20' },
    ...(opts.crypto ?? []).map((c) => ({ name: 'crypto', value: formatCryptoAttribute(c.tag, c.suite, c.key, c.salt) })),
    { name: 'rtcp', value: String(opts.localPort + 1) },
    { name: 'sendrecv', value: undefined },
  ];
  return {
    origin: {
      username: 'edgevox',
      sessionId: opts.sessionId,
      sessionVersion: String(opts.sessionVersion),
      netType: 'IN',
      addrType: 'IP4',
      address: opts.localAddress,
    },
    name: 'EdgeVox',
    connection: { netType: 'IN', addrType: 'IP4', address: opts.localAddress },
    bandwidth: [],
    timing: ['0 0'],
    attributes: [],
    media: [
      {
        type: 'audio',
        port: opts.localPort,
        proto: opts.requireSrtp === true && (opts.crypto ?? []).length > 0 ? 'RTP/SAVP' : 'RTP/AVP',
        formats: [...pts.map(String), String(OFFER_TELEPHONE_EVENT_PT)],
        connection: undefined,
        bandwidth: [],
        attributes,
      },
    ],
  };
}

/** Whether our answer lets us send on a stream (sendrecv or sendonly). */
export function answerSends(offerDirection: SdpDirection, override?: SdpDirection): boolean {
  const d = override ?? answerDirection(offerDirection);
  return d === 'sendrecv' || d === 'sendonly';
}

/** True when an SDP (re-)offer puts the call on hold (RFC 3264 §8.4; legacy c=0.0.0.0). */
export function isHoldOffer(offer: SdpSession): boolean {
  const audio = offer.media.filter((m) => m.type === 'audio' && m.port !== 0);
  if (audio.length === 0) return false;
  return audio.every((m) => {
    const d = direction(offer, m);
    return d === 'sendonly' || d === 'inactive' || mediaAddress(offer, m) === '0.0.0.0';
  });
}
