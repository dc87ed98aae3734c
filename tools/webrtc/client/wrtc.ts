/**
 * Typed access to @roamhq/wrtc (node-webrtc), our own WebRTC endpoint for probes, tests and the
 * load bench. Its bundled typings lean on the DOM lib, which this Node project does not load, so the
 * small surface we use is declared here.
 *
 * Note: the native module can crash (SIGSEGV) while Node tears down at a natural process exit. The
 * CLI therefore ends with an explicit process.exit() after a probe; see commands/probe.ts.
 */
import { createRequire } from 'node:module';

export interface SessionDescriptionInit {
  type: 'offer' | 'answer' | 'pranswer' | 'rollback';
  sdp: string;
}

export interface WrtcMediaStreamTrack {
  readonly id: string;
  readonly kind: string;
  stop(): void;
}

export interface WrtcStatsReport {
  forEach(callback: (stat: Record<string, unknown> & { type: string; id: string }) => void): void;
}

export interface WrtcTrackEvent {
  readonly track: WrtcMediaStreamTrack;
}

export interface WrtcPeerConnection {
  readonly connectionState: string;
  readonly iceConnectionState: string;
  readonly localDescription: SessionDescriptionInit | null;
  onconnectionstatechange: (() => void) | null;
  oniceconnectionstatechange: (() => void) | null;
  ontrack: ((event: WrtcTrackEvent) => void) | null;
  addTransceiver(trackOrKind: WrtcMediaStreamTrack | 'audio', init?: { direction?: 'sendonly' | 'recvonly' | 'sendrecv' }): unknown;
  createOffer(): Promise<SessionDescriptionInit>;
  createAnswer(): Promise<SessionDescriptionInit>;
  setLocalDescription(description: SessionDescriptionInit): Promise<void>;
  setRemoteDescription(description: SessionDescriptionInit): Promise<void>;
  getStats(): Promise<WrtcStatsReport>;
  close(): void;
}

export interface WrtcAudioData {
  samples: Int16Array;
  sampleRate: number;
  bitsPerSample?: number;
  channelCount?: number;
  numberOfFrames?: number;
}

export interface WrtcAudioSource {
  createTrack(): WrtcMediaStreamTrack;
  onData(data: WrtcAudioData): void;
}

export interface WrtcAudioSink {
  ondata: ((data: WrtcAudioData) => void) | null;
  stop(): void;
}

export interface WrtcModule {
  RTCPeerConnection: new (config?: {
    iceServers?: unknown[];
    bundlePolicy?: 'max-bundle' | 'balanced' | 'max-compat';
    rtcpMuxPolicy?: 'require';
    iceTransportPolicy?: 'all' | 'relay';
  }) => WrtcPeerConnection;
  nonstandard: {
    RTCAudioSource: new () => WrtcAudioSource;
    RTCAudioSink: new (track: WrtcMediaStreamTrack) => WrtcAudioSink;
  };
}

let wrtc: WrtcModule | undefined;

/** Loads the native module once. */
export function loadWrtc(): WrtcModule {
  wrtc ??= createRequire(import.meta.url)('@roamhq/wrtc') as WrtcModule;
  return wrtc;
}
