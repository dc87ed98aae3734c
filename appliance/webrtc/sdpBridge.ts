/**
 * Audio-only translation between a standard RTCPeerConnection (SDP offer/answer) and mediasoup's
 * parameters (ICE-lite server, DTLS, RTP parameters). Pure functions, no Node APIs: the same code can
 * run in a browser page.
 *
 * Model (as mediasoup-client does it): one PeerConnection per direction.
 *   send: local offer (sendonly) -> produce(rtpParameters from the offer) ; remote answer built here
 *   recv: remote offer built here from the consumer's rtpParameters -> local answer
 * The client is always the DTLS client (a=setup:active), mediasoup the DTLS server.
 */
import type {
  DtlsParameters,
  FingerprintAlgorithm,
  RtpCapabilities,
  RtpCodecParameters,
  RtpHeaderExtensionParameters,
  RtpParameters,
} from 'mediasoup/types';
import type { ResponseData } from './protocol.js';

export type ProbeCodec = 'opus' | 'pcmu';

export interface SdpAudioSection {
  readonly mid: string;
  readonly rtpmap: Map<number, { name: string; clockRate: number; channels: number }>;
  readonly fmtp: Map<number, string>;
  readonly extmap: { id: number; uri: string }[];
  readonly ssrc: number | undefined;
  readonly cname: string | undefined;
  readonly fingerprint: { algorithm: string; value: string } | undefined;
  readonly setup: string | undefined;
}

type TransportInfo = ResponseData['createTransport'];

const SUPPORTED_EXTENSIONS = new Set(['urn:ietf:params:rtp-hdrext:sdes:mid', 'urn:ietf:params:rtp-hdrext:ssrc-audio-level']);

/** Reads the (first) audio m-section of an SDP, plus session-level fingerprint/setup. */
export function parseAudioSection(sdp: string): SdpAudioSection {
  const lines = sdp.split(/\r?\n/);
  let inAudio = false;
  let seenAudio = false;
  let mid = '';
  const rtpmap = new Map<number, { name: string; clockRate: number; channels: number }>();
  const fmtp = new Map<number, string>();
  const extmap: { id: number; uri: string }[] = [];
  let ssrc: number | undefined;
  let cname: string | undefined;
  let fingerprint: { algorithm: string; value: string } | undefined;
  let setup: string | undefined;
  for (const line of lines) {
    if (line.startsWith('m=')) {
      inAudio = !seenAudio && line.startsWith('m=audio');
      if (inAudio) seenAudio = true;
      continue;
    }
    const fp = /^a=fingerprint:(\S+) (\S+)/.exec(line);
    if (fp !== null && (inAudio || !seenAudio)) fingerprint ??= { algorithm: fp[1]!.toLowerCase(), value: fp[2]! };
    const st = /^a=setup:(\S+)/.exec(line);
    if (st !== null && (inAudio || !seenAudio)) setup ??= st[1];
    if (!inAudio) continue;
    let m: RegExpExecArray | null;
    if ((m = /^a=mid:(\S+)/.exec(line)) !== null) mid = m[1]!;
    else if ((m = /^a=rtpmap:(\d+) ([^/]+)\/(\d+)(?:\/(\d+))?/.exec(line)) !== null) {
      rtpmap.set(Number(m[1]), { name: m[2]!, clockRate: Number(m[3]), channels: m[4] === undefined ? 1 : Number(m[4]) });
    } else if ((m = /^a=fmtp:(\d+) (.*)$/.exec(line)) !== null) fmtp.set(Number(m[1]), m[2]!);
    else if ((m = /^a=extmap:(\d+)(?:\/\S+)? (\S+)/.exec(line)) !== null) extmap.push({ id: Number(m[1]), uri: m[2]! });
    else if ((m = /^a=ssrc:(\d+) cname:(\S+)/.exec(line)) !== null) {
      ssrc ??= Number(m[1]);
      cname ??= m[2];
    }
  }
  if (!seenAudio) throw new Error('SDP has no audio m-section');
  return { mid, rtpmap, fmtp, extmap, ssrc, cname, fingerprint, setup };
}

function parseFmtp(text: string | undefined): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  if (text === undefined) return out;
  for (const pair of text.split(';')) {
    const [k, v] = pair.split('=');
    if (k === undefined || v === undefined) continue;
    const n = Number(v);
    out[k.trim()] = Number.isFinite(n) && v.trim() !== '' ? n : v.trim();
  }
  return out;
}

function findCodec(section: SdpAudioSection, codec: ProbeCodec): number {
  const want = codec === 'opus' ? 'opus' : 'pcmu';
  for (const [pt, c] of section.rtpmap) if (c.name.toLowerCase() === want) return pt;
  throw new Error(`the local SDP offers no ${want}`);
}

/** The producer's RTP parameters for the codec we choose to send (the remote answer pins it). */
export function producerRtpParameters(local: SdpAudioSection, codec: ProbeCodec): RtpParameters {
  if (local.ssrc === undefined) throw new Error('the local offer has no a=ssrc');
  const pt = findCodec(local, codec);
  const c: RtpCodecParameters =
    codec === 'opus'
      ? {
          mimeType: 'audio/opus',
          payloadType: pt,
          clockRate: 48000,
          channels: 2,
          parameters: parseFmtp(local.fmtp.get(pt)),
          rtcpFeedback: [],
        }
      : { mimeType: 'audio/PCMU', payloadType: pt, clockRate: 8000, channels: 1, parameters: {}, rtcpFeedback: [] };
  const headerExtensions: RtpHeaderExtensionParameters[] = local.extmap
    .filter((e) => SUPPORTED_EXTENSIONS.has(e.uri))
    .map((e) => ({ uri: e.uri as RtpHeaderExtensionParameters['uri'], id: e.id, encrypt: false, parameters: {} }));
  return {
    mid: local.mid,
    codecs: [c],
    headerExtensions,
    encodings: [{ ssrc: local.ssrc }],
    rtcp: { cname: local.cname ?? 'edgevox-probe', reducedSize: true },
  };
}

/** DTLS parameters of our side, read from our local SDP. */
export function localDtlsParameters(local: SdpAudioSection): DtlsParameters {
  if (local.fingerprint === undefined) throw new Error('the local SDP has no a=fingerprint');
  return {
    role: 'client',
    fingerprints: [{ algorithm: local.fingerprint.algorithm as FingerprintAlgorithm, value: local.fingerprint.value }],
  };
}

function transportLines(t: TransportInfo, setup: 'passive' | 'actpass' | 'active'): string[] {
  const fp = t.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256') ?? t.dtlsParameters.fingerprints[0];
  if (fp === undefined) throw new Error('the transport has no DTLS fingerprint');
  const lines = [
    `a=ice-ufrag:${t.iceParameters.usernameFragment}`,
    `a=ice-pwd:${t.iceParameters.password}`,
    `a=fingerprint:${fp.algorithm} ${fp.value}`,
    `a=setup:${setup}`,
  ];
  for (const c of t.iceCandidates) {
    const tcp = c.protocol === 'tcp' ? ` tcptype ${c.tcpType ?? 'passive'}` : '';
    lines.push(`a=candidate:${c.foundation} 1 ${c.protocol} ${c.priority} ${c.address ?? c.ip} ${c.port} typ ${c.type}${tcp}`);
  }
  lines.push('a=end-of-candidates', 'a=ice-options:renomination');
  return lines;
}

function sessionHeader(mid: string): string[] {
  return ['v=0', `o=- ${Date.now()} 2 IN IP4 127.0.0.1`, 's=-', 't=0 0', 'a=ice-lite', `a=group:BUNDLE ${mid}`, 'a=msid-semantic: WMS *'];
}

function codecLines(c: RtpCodecParameters): string[] {
  const [, name] = c.mimeType.split('/');
  const channels = c.channels !== undefined && c.channels > 1 ? `/${c.channels}` : '';
  const lines = [`a=rtpmap:${c.payloadType} ${name}/${c.clockRate}${channels}`];
  const params = Object.entries((c.parameters ?? {}) as Record<string, unknown>);
  if (params.length > 0) lines.push(`a=fmtp:${c.payloadType} ${params.map(([k, v]) => `${k}=${String(v)}`).join(';')}`);
  for (const fb of c.rtcpFeedback ?? []) lines.push(`a=rtcp-fb:${c.payloadType} ${fb.type}${fb.parameter ? ` ${fb.parameter}` : ''}`);
  return lines;
}

function mediaLine(t: TransportInfo, payloadTypes: number[]): string[] {
  const first = t.iceCandidates[0];
  const ip = first?.address ?? first?.ip ?? '127.0.0.1';
  const family = ip.includes(':') ? 'IP6' : 'IP4';
  return [`m=audio ${first?.port ?? 9} UDP/TLS/RTP/SAVPF ${payloadTypes.join(' ')}`, `c=IN ${family} ${ip}`];
}

/** The remote answer to our send-side offer: mediasoup receives exactly the produced codec. */
export function remoteAnswerForSend(local: SdpAudioSection, produced: RtpParameters, transport: TransportInfo): string {
  const codec = produced.codecs[0];
  if (codec === undefined) throw new Error('no produced codec');
  const lines = [
    ...sessionHeader(local.mid),
    ...mediaLine(transport, [codec.payloadType]),
    `a=mid:${local.mid}`,
    'a=recvonly',
    ...transportLines(transport, 'passive'),
    'a=rtcp-mux',
    'a=rtcp-rsize',
    ...codecLines(codec),
    ...(produced.headerExtensions ?? []).map((e) => `a=extmap:${e.id} ${e.uri}`),
  ];
  return lines.join('\r\n') + '\r\n';
}

/** The remote offer that makes our receive-side PeerConnection accept one consumer. */
export function remoteOfferForConsumer(consumer: RtpParameters, transport: TransportInfo, streamId: string): string {
  const codec = consumer.codecs[0];
  const encoding = consumer.encodings?.[0];
  if (codec === undefined || encoding?.ssrc === undefined) throw new Error('the consumer has no codec or ssrc');
  const mid = consumer.mid ?? '0';
  const cname = consumer.rtcp?.cname ?? 'edgevox';
  const lines = [
    ...sessionHeader(mid),
    ...mediaLine(transport, [codec.payloadType]),
    `a=mid:${mid}`,
    'a=sendonly',
    ...transportLines(transport, 'actpass'),
    'a=rtcp-mux',
    'a=rtcp-rsize',
    ...codecLines(codec),
    ...(consumer.headerExtensions ?? []).filter((e) => SUPPORTED_EXTENSIONS.has(e.uri)).map((e) => `a=extmap:${e.id} ${e.uri}`),
    `a=msid:${streamId} ${streamId}-audio`,
    `a=ssrc:${encoding.ssrc} cname:${cname}`,
    `a=ssrc:${encoding.ssrc} msid:${streamId} ${streamId}-audio`,
  ];
  return lines.join('\r\n') + '\r\n';
}

/** What our client can receive: the router's audio codecs we decode, and the extensions we parse. */
export function clientRtpCapabilities(routerCaps: RtpCapabilities): RtpCapabilities {
  const codecs = (routerCaps.codecs ?? []).filter(
    (c) => c.kind === 'audio' && ['audio/opus', 'audio/pcmu', 'audio/pcma'].includes(c.mimeType.toLowerCase()),
  );
  const headerExtensions = (routerCaps.headerExtensions ?? []).filter((e) => e.kind === 'audio' && SUPPORTED_EXTENSIONS.has(e.uri));
  return { codecs, headerExtensions };
}
