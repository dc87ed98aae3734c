/**
 * When the box makes the SDP offer (a late-offer INVITE's 200, an outbound INVITE): build the
 * offer under the peer's media-encryption policy, then read the peer's answer to it. SDES: one
 * `a=crypto` line (and key) per suite offered; `RTP/SAVP` when SRTP is required, best-effort on
 * `RTP/AVP` when optional, none when off. The answer must pick one of our lines with its suite.
 */
import { evxError } from '../errors.js';
import { generateMasterKey } from '../rtp/srtp.js';
import { buildOffer, selectStreams, type CodecName, type MediaSecurity, type NegotiatedStream } from '../sdp/offer-answer.js';
import { parseSdp, type SdpSession } from '../sdp/sdp.js';
import type { SrtpSuite } from '../sdp/srtpSuites.js';
import type { SrtpMasterKey } from './leg.js';

/** SDES suites of our own offers: the two every SDES peer has (RFC 4568 §6.2), HMAC-SHA1 80 first. */
const OFFER_SUITES = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'] as const;

interface OfferedCrypto extends SrtpMasterKey {
  readonly tag: number;
  readonly suite: SrtpSuite;
}

export interface LocalOffer {
  readonly sdp: SdpSession;
  readonly codecs: readonly CodecName[];
  readonly security: MediaSecurity;
  readonly offered: readonly OfferedCrypto[];
}

/** What the answer settled: the stream to run and our key for it (when encrypted). */
export interface AcceptedAnswer {
  readonly stream: NegotiatedStream;
  readonly localCrypto: Map<number, SrtpMasterKey>;
}

/** Our offer: one sendrecv audio stream on `localPort` with `codecs` and telephone-event. */
export function createLocalOffer(opts: {
  readonly localAddress: string;
  readonly localPort: number;
  readonly codecs: readonly CodecName[];
  readonly security: MediaSecurity;
}): LocalOffer {
  const { security } = opts;
  const offered =
    security.policy === 'off'
      ? []
      : OFFER_SUITES.filter((suite) => security.suites.includes(suite)).map((suite, i) => ({
          tag: i + 1,
          suite,
          ...generateMasterKey(suite),
        }));
  const sdp = buildOffer({
    localAddress: opts.localAddress,
    localPort: opts.localPort,
    sessionId: String(Date.now()),
    sessionVersion: 1,
    codecs: opts.codecs,
    crypto: offered,
    requireSrtp: security.policy === 'required',
  });
  return { sdp, codecs: opts.codecs, security, offered };
}

/**
 * Read the answer to `offer` (the body and Content-Type of a 2xx or ACK). Throws EVX_ERR_SDP_PARSE
 * (no SDP, malformed, crypto we did not offer), EVX_ERR_SDP_NO_COMMON_CODEC, EVX_ERR_SDP_ADDRESS or EVX_ERR_SDP_SRTP.
 */
export function readAnswer(offer: LocalOffer, contentType: string | undefined, body: Buffer): AcceptedAnswer {
  if ((contentType ?? '').split(';')[0]!.trim().toLowerCase() !== 'application/sdp' || body.length === 0) {
    throw evxError('EVX_ERR_SDP_PARSE', 'the answer carries no SDP');
  }
  const stream = selectStreams(parseSdp(body), offer.codecs, offer.security)[0]!;
  const answered = stream.crypto;
  const ours = answered === undefined ? undefined : offer.offered.find((o) => o.tag === answered.tag && o.suite === answered.suite);
  if (answered !== undefined && ours === undefined)
    throw evxError('EVX_ERR_SDP_PARSE', 'the answer picked an a=crypto line we did not offer');
  const localCrypto = new Map<number, SrtpMasterKey>();
  if (ours !== undefined) localCrypto.set(stream.mediaIndex, { key: ours.key, salt: ours.salt });
  return { stream, localCrypto };
}
