/**
 * The audio codecs every call router offers. Opus is what browsers send by default; PCMU/PCMA
 * (static payload types 0/8) let a WebRTC leg and a SIP leg exchange G.711 without transcoding —
 * mediasoup forwards RTP, it never transcodes, so both legs must agree on one codec.
 */
import type { RtpCodecCapability, RtpCapabilities } from 'mediasoup/types';

export const ROUTER_MEDIA_CODECS: RtpCodecCapability[] = [
  {
    kind: 'audio',
    mimeType: 'audio/opus',
    clockRate: 48000,
    channels: 2,
    preferredPayloadType: 111,
    parameters: { useinbandfec: 1, minptime: 10 },
    rtcpFeedback: [{ type: 'transport-cc' }],
  },
  { kind: 'audio', mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, preferredPayloadType: 0, rtcpFeedback: [] },
  { kind: 'audio', mimeType: 'audio/PCMA', clockRate: 8000, channels: 1, preferredPayloadType: 8, rtcpFeedback: [] },
];

export type AudioCodecName = 'opus' | 'pcmu' | 'pcma';

export const CODEC_MIME: Record<AudioCodecName, string> = { opus: 'audio/opus', pcmu: 'audio/PCMU', pcma: 'audio/PCMA' };

/** RTP capabilities that accept only one codec (used to consume PCMU towards a SIP leg). */
export function capabilitiesFor(routerCaps: RtpCapabilities, codec: AudioCodecName): RtpCapabilities {
  const mime = CODEC_MIME[codec].toLowerCase();
  return {
    codecs: (routerCaps.codecs ?? []).filter((c) => c.mimeType.toLowerCase() === mime),
    headerExtensions: [],
  };
}
