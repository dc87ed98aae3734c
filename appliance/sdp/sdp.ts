/**
 * SDP (RFC 4566 / RFC 8866) parser and serializer, strict about structure, tolerant of LF-only lines.
 * Only what media termination needs is interpreted (c=, m=, rtpmap, fmtp, ptime, direction, label,
 * rtcp); everything else is kept as opaque attributes and serialized back unchanged.
 */
import { evxError } from '../errors.js';

export interface SdpConnection {
  readonly netType: string;
  readonly addrType: string;
  readonly address: string;
}

export interface SdpOrigin {
  readonly username: string;
  readonly sessionId: string;
  readonly sessionVersion: string;
  readonly netType: string;
  readonly addrType: string;
  readonly address: string;
}

export interface SdpAttribute {
  readonly name: string;
  readonly value: string | undefined;
}

export interface SdpMedia {
  readonly type: string;
  readonly port: number;
  readonly proto: string;
  readonly formats: readonly string[];
  readonly connection: SdpConnection | undefined;
  readonly bandwidth: readonly string[];
  readonly attributes: readonly SdpAttribute[];
}

export interface SdpSession {
  readonly origin: SdpOrigin;
  readonly name: string;
  readonly connection: SdpConnection | undefined;
  readonly bandwidth: readonly string[];
  readonly timing: readonly string[];
  readonly attributes: readonly SdpAttribute[];
  readonly media: readonly SdpMedia[];
}

export type SdpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface RtpMap {
  readonly payloadType: number;
  readonly encoding: string;
  readonly clockRateHz: number;
  readonly channels: number;
}

const MAX_LINES = 512;
const MAX_MEDIA = 16;

function bad(reason: string): never {
  throw evxError('EVX_ERR_SDP_PARSE', `SDP: ${reason}`, { details: { reason } });
}

function parseConnection(v: string): SdpConnection {
  const p = v.split(' ');
  if (p.length !== 3 || p[0] !== 'IN' || (p[1] !== 'IP4' && p[1] !== 'IP6')) bad('bad c= line');
  const addr = p[2]!.split('/')[0]!;
  if (p[1] === 'IP4' && !/^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(addr) && !/^[A-Za-z0-9.-]+$/.test(addr)) bad('bad c= address');
  if (p[1] === 'IP6' && !/^[0-9A-Fa-f:.]+$/.test(addr)) bad('bad c= address');
  return { netType: p[0], addrType: p[1], address: addr };
}

function parseAttribute(v: string): SdpAttribute {
  const c = v.indexOf(':');
  const name = c < 0 ? v : v.slice(0, c);
  if (!/^[A-Za-z0-9\-._]+$/.test(name)) bad('bad attribute name');
  return { name, value: c < 0 ? undefined : v.slice(c + 1) };
}

/** Parse an SDP body; throws EVX_ERR_SDP_PARSE. */
export function parseSdp(text: string | Buffer): SdpSession {
  const s = typeof text === 'string' ? text : text.toString('utf8');
  const lines = s.split(/\r?\n/);
  if (lines.length > MAX_LINES) bad('too many lines');
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines[0] !== 'v=0') bad('first line must be v=0');
  let origin: SdpOrigin | undefined;
  let name: string | undefined;
  let connection: SdpConnection | undefined;
  const bandwidth: string[] = [];
  const timing: string[] = [];
  const attributes: SdpAttribute[] = [];
  const media: SdpMedia[] = [];
  let cur:
    | {
        type: string;
        port: number;
        proto: string;
        formats: string[];
        connection: SdpConnection | undefined;
        bandwidth: string[];
        attributes: SdpAttribute[];
      }
    | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (!/^[a-z]=/.test(line)) bad(`bad line ${i + 1}`);
    const type = line[0]!;
    const v = line.slice(2);
    if (cur === undefined) {
      switch (type) {
        case 'o': {
          const p = v.split(' ');
          if (p.length !== 6 || origin !== undefined) bad('bad o= line');
          origin = { username: p[0]!, sessionId: p[1]!, sessionVersion: p[2]!, netType: p[3]!, addrType: p[4]!, address: p[5]! };
          break;
        }
        case 's':
          name = v;
          break;
        case 'c':
          connection = parseConnection(v);
          break;
        case 'b':
          bandwidth.push(v);
          break;
        case 't':
          timing.push(v);
          break;
        case 'a':
          attributes.push(parseAttribute(v));
          break;
        case 'm':
          break;
        default:
          break; // i=, u=, e=, p=, r=, z=, k=: ignored
      }
    } else if (type === 'c') cur.connection = parseConnection(v);
    else if (type === 'b') cur.bandwidth.push(v);
    else if (type === 'a') cur.attributes.push(parseAttribute(v));
    if (type === 'm') {
      if (origin === undefined || name === undefined) bad('m= before o= and s=');
      if (media.length >= MAX_MEDIA) bad('too many m= lines');
      const m = /^([a-z]+) ([0-9]{1,5})(?:\/[0-9]+)? ([A-Za-z0-9/]+)((?: [A-Za-z0-9\-._]+)+)$/.exec(v);
      if (m === null) bad('bad m= line');
      const port = Number(m[2]);
      if (port > 65535) bad('bad m= port');
      cur = { type: m[1]!, port, proto: m[3]!, formats: m[4]!.trim().split(' '), connection: undefined, bandwidth: [], attributes: [] };
      media.push(cur);
    }
  }
  if (origin === undefined) bad('missing o= line');
  if (name === undefined) bad('missing s= line');
  for (const m of media) {
    if (m.port !== 0 && m.connection === undefined && connection === undefined) bad('media without connection address');
  }
  return { origin, name, connection, bandwidth, timing, attributes, media };
}

/** Serialize to CRLF-terminated text. */
export function serializeSdp(s: SdpSession): string {
  const o = s.origin;
  const out = ['v=0', `o=${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addrType} ${o.address}`, `s=${s.name}`];
  if (s.connection !== undefined) out.push(`c=${s.connection.netType} ${s.connection.addrType} ${s.connection.address}`);
  for (const b of s.bandwidth) out.push(`b=${b}`);
  for (const t of s.timing.length > 0 ? s.timing : ['0 0']) out.push(`t=${t}`);
  for (const a of s.attributes) out.push(a.value === undefined ? `a=${a.name}` : `a=${a.name}:${a.value}`);
  for (const m of s.media) {
    out.push(`m=${m.type} ${m.port} ${m.proto} ${m.formats.join(' ')}`);
    if (m.connection !== undefined) out.push(`c=${m.connection.netType} ${m.connection.addrType} ${m.connection.address}`);
    for (const b of m.bandwidth) out.push(`b=${b}`);
    for (const a of m.attributes) out.push(a.value === undefined ? `a=${a.name}` : `a=${a.name}:${a.value}`);
  }
  return out.join('\r\n') + '\r\n';
}

/** Payload types an RTP parser must take for RTCP (RFC 5761 §4): never negotiated. */
const RTCP_CONFLICT_PT_MIN = 72;
const RTCP_CONFLICT_PT_MAX = 76;

const STATIC_PT: Readonly<Record<number, RtpMap>> = {
  0: { payloadType: 0, encoding: 'PCMU', clockRateHz: 8000, channels: 1 },
  8: { payloadType: 8, encoding: 'PCMA', clockRateHz: 8000, channels: 1 },
  9: { payloadType: 9, encoding: 'G722', clockRateHz: 8000, channels: 1 },
};

/**
 * rtpmap entries of a media section, with static payload types filled in: one per payload type, in
 * the order of the m= line (a type listed again, or a second rtpmap for it, is ignored; 72-76 are
 * left out). Linear in the section's size: thousands of formats cost no search of every attribute each.
 */
export function rtpMaps(m: SdpMedia): RtpMap[] {
  const mapped = new Map<number, string>();
  for (const a of m.attributes) {
    if (a.name !== 'rtpmap' || a.value === undefined) continue;
    const pt = /^([0-9]{1,3}) /.exec(a.value)?.[1];
    if (pt !== undefined && !mapped.has(Number(pt))) mapped.set(Number(pt), a.value);
  }
  const out: RtpMap[] = [];
  const seen = new Set<number>();
  for (const f of m.formats) {
    if (!/^[0-9]{1,3}$/.test(f)) continue;
    const pt = Number(f);
    // 72-76 are reserved (RFC 3551 §6): with the marker bit they read as RTCP 200-204, and our RTP
    // parser drops them as such (RFC 5761 §4), so a stream on one would be silent
    if (pt > 127 || (pt >= RTCP_CONFLICT_PT_MIN && pt <= RTCP_CONFLICT_PT_MAX) || seen.has(pt)) continue;
    seen.add(pt);
    const value = mapped.get(pt);
    if (value !== undefined) {
      const mm = /^[0-9]+ ([A-Za-z0-9\-_.]+)\/([0-9]+)(?:\/([0-9]+))?$/.exec(value.trim());
      if (mm === null) continue;
      out.push({
        payloadType: pt,
        encoding: mm[1]!.toUpperCase(),
        clockRateHz: Number(mm[2]),
        channels: mm[3] === undefined ? 1 : Number(mm[3]),
      });
    } else if (STATIC_PT[pt] !== undefined) out.push(STATIC_PT[pt]);
  }
  return out;
}

export function attribute(m: SdpMedia | SdpSession, name: string): string | undefined {
  const a = m.attributes.find((x) => x.name === name);
  return a === undefined ? undefined : (a.value ?? '');
}

/** Media direction (media-level overrides session-level; default sendrecv). */
export function direction(s: SdpSession, m: SdpMedia): SdpDirection {
  for (const list of [m.attributes, s.attributes]) {
    for (const a of list) {
      if (a.name === 'sendrecv' || a.name === 'sendonly' || a.name === 'recvonly' || a.name === 'inactive') return a.name;
    }
  }
  return 'sendrecv';
}

/** Connection address that applies to a media section. */
export function mediaAddress(s: SdpSession, m: SdpMedia): string | undefined {
  return (m.connection ?? s.connection)?.address;
}
