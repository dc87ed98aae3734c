/**
 * SIPREC recording-server side (RFC 7866 / RFC 7865): split the multipart INVITE body into SDP and
 * rs-metadata, parse the metadata, and tie each SDP media stream (by `a=label`) to the participant
 * who sends it, with a role: caller or agent.
 *
 * RFC 7865 has no role field. Roles are resolved in this order: an `agentAor` pattern from the
 * configuration matched against the participant's AOR; otherwise metadata order (the first
 * participant is the caller, the next one the agent), which is what the common SRCs emit.
 */
import { evxError } from '../errors.js';
import { multipartBoundary, parseMultipart } from '../sdp/multipart.js';
import { attribute, parseSdp, type SdpSession } from '../sdp/sdp.js';
import type { SipRequest } from './message.js';
import { childText, childrenNamed, parseXml } from './xml.js';

export type ParticipantRole = 'caller' | 'agent' | 'unknown';

export interface RecordingParticipant {
  readonly participantId: string;
  /** Address of record (a phone number or SIP URI): PII. */
  readonly aor: string | undefined;
  /** Display name: PII. */
  readonly name: string | undefined;
  /** stream_ids this participant sends. */
  readonly sends: readonly string[];
}

export interface RecordingMetadata {
  readonly sessionIds: readonly string[];
  readonly participants: readonly RecordingParticipant[];
  /** stream_id -> SDP label. */
  readonly streamLabels: ReadonlyMap<string, string>;
}

export interface LabelledStream {
  readonly mediaIndex: number;
  readonly label: string | undefined;
  readonly participantId: string | undefined;
  readonly role: ParticipantRole;
  /** PII. */
  readonly aor: string | undefined;
}

export interface SiprecOffer {
  readonly sdp: SdpSession;
  readonly metadata: RecordingMetadata;
  readonly streams: readonly LabelledStream[];
}

/** True when the request is a SIPREC INVITE (Require/Supported: siprec or a metadata part). */
export function isSiprecRequest(req: SipRequest): boolean {
  const ct = req.headers.get('content-type') ?? '';
  if (!ct.toLowerCase().startsWith('multipart/mixed')) return false;
  const tags = [...req.headers.getAll('require'), ...req.headers.getAll('supported')].map((t) => t.toLowerCase());
  return tags.includes('siprec') || req.body.includes('rs-metadata');
}

/**
 * The SDP of a request's body: the body itself, or its application/sdp part when it is multipart
 * (a SIPREC INVITE or re-INVITE also carries metadata). Throws EVX_ERR_SIPREC_METADATA when a
 * multipart body is malformed or has no SDP part.
 */
export function sdpBodyOf(req: SipRequest): Buffer {
  const boundary = multipartBoundary(req.headers.get('content-type') ?? '');
  if (boundary === undefined) return req.body;
  const sdp = parseMultipart(req.body, boundary).find((p) => p.contentType === 'application/sdp');
  if (sdp === undefined) throw evxError('EVX_ERR_SIPREC_METADATA', 'multipart body has no SDP part');
  return sdp.body;
}

/** Parse rs-metadata XML. */
export function parseRecordingMetadata(xml: string): RecordingMetadata {
  const root = parseXml(xml);
  if (root.name !== 'recording') {
    throw evxError('EVX_ERR_SIPREC_METADATA', 'metadata root element is not <recording>');
  }
  const sessionIds = childrenNamed(root, 'session').map((s) => s.attributes.get('session_id') ?? '');
  const sends = new Map<string, string[]>();
  for (const a of childrenNamed(root, 'participantstreamassoc')) {
    const pid = a.attributes.get('participant_id');
    if (pid === undefined) continue;
    const list = sends.get(pid) ?? [];
    for (const s of childrenNamed(a, 'send')) list.push(s.text.trim());
    sends.set(pid, list);
  }
  const participants: RecordingParticipant[] = childrenNamed(root, 'participant').map((p) => {
    const id = p.attributes.get('participant_id') ?? p.attributes.get('id');
    if (id === undefined) throw evxError('EVX_ERR_SIPREC_METADATA', 'participant without participant_id');
    const nameId = childrenNamed(p, 'nameID')[0];
    // RFC 7865 also allows <send> directly under <participant> (older drafts)
    const direct = childrenNamed(p, 'send').map((s) => s.text.trim());
    return {
      participantId: id,
      aor: nameId?.attributes.get('aor'),
      name: nameId === undefined ? undefined : childText(nameId, 'name'),
      sends: [...(sends.get(id) ?? []), ...direct],
    };
  });
  const streamLabels = new Map<string, string>();
  for (const s of childrenNamed(root, 'stream')) {
    const id = s.attributes.get('stream_id');
    const label = childText(s, 'label');
    if (id !== undefined && label !== undefined) streamLabels.set(id, label);
  }
  return { sessionIds, participants, streamLabels };
}

export interface RoleOptions {
  /** Participants whose AOR matches are agents. */
  readonly agentAor?: RegExp;
}

/** Split a SIPREC INVITE body and label its audio streams; throws EVX_ERR_SIPREC_METADATA / SDP_PARSE. */
export function parseSiprecOffer(req: SipRequest, opts: RoleOptions = {}): SiprecOffer {
  const boundary = multipartBoundary(req.headers.get('content-type') ?? '');
  if (boundary === undefined) throw evxError('EVX_ERR_SIPREC_METADATA', 'SIPREC body is not multipart');
  const parts = parseMultipart(req.body, boundary);
  const sdpPart = parts.find((p) => p.contentType === 'application/sdp');
  const metaPart = parts.find((p) => p.contentType === 'application/rs-metadata+xml');
  if (sdpPart === undefined) throw evxError('EVX_ERR_SIPREC_METADATA', 'SIPREC body has no SDP part');
  if (metaPart === undefined) throw evxError('EVX_ERR_SIPREC_METADATA', 'SIPREC body has no rs-metadata part');
  const sdp = parseSdp(sdpPart.body);
  const metadata = parseRecordingMetadata(metaPart.body.toString('utf8'));
  return { sdp, metadata, streams: labelStreams(sdp, metadata, opts) };
}

function roleOf(p: RecordingParticipant, index: number, opts: RoleOptions, anyAgentMatch: boolean): ParticipantRole {
  if (opts.agentAor !== undefined && anyAgentMatch) {
    return p.aor !== undefined && opts.agentAor.test(p.aor) ? 'agent' : 'caller';
  }
  if (index === 0) return 'caller';
  if (index === 1) return 'agent';
  return 'unknown';
}

/** Tie audio m= lines to participants through stream labels. */
export function labelStreams(sdp: SdpSession, meta: RecordingMetadata, opts: RoleOptions = {}): LabelledStream[] {
  const labelToParticipant = new Map<string, { p: RecordingParticipant; index: number }>();
  meta.participants.forEach((p, index) => {
    for (const sid of p.sends) {
      const label = meta.streamLabels.get(sid);
      if (label !== undefined) labelToParticipant.set(label, { p, index });
    }
  });
  const anyAgentMatch = opts.agentAor !== undefined && meta.participants.some((p) => p.aor !== undefined && opts.agentAor!.test(p.aor));
  const out: LabelledStream[] = [];
  let audioOrdinal = 0;
  sdp.media.forEach((m, mediaIndex) => {
    if (m.type !== 'audio') return;
    const label = attribute(m, 'label');
    let hit = label === undefined ? undefined : labelToParticipant.get(label);
    // no association in the metadata: fall back to stream order
    if (hit === undefined && labelToParticipant.size === 0) {
      const p = meta.participants[audioOrdinal];
      if (p !== undefined) hit = { p, index: audioOrdinal };
    }
    audioOrdinal++;
    out.push({
      mediaIndex,
      label,
      participantId: hit?.p.participantId,
      role: hit === undefined ? 'unknown' : roleOf(hit.p, hit.index, opts, anyAgentMatch),
      aor: hit?.p.aor,
    });
  });
  return out;
}
