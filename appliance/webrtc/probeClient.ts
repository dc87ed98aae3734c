/**
 * The WebRTC probe: places a real call into an appliance with node-webrtc, plays a WAV file as the
 * caller (10 ms frames on a wall clock) and measures what it can from the client side: signalling
 * and ICE/DTLS setup times, RTP packets sent, RTT and loss from mediasoup's RTCP receiver reports,
 * and — when an agent token is given — the one-way caller -> agent audio path through the media
 * plane (onset latency, received energy). The transcript check is wired by the owner of the ASR.
 */
import { readFile } from 'node:fs/promises';
import { parseWav } from '../audio/wav.js';
import { StreamingResampler } from '../audio/resample.js';
import { evxError } from '../errors.js';
import { SEND_RATE_HZ, WebRtcPeer, type AudioReceiver } from './client/peer.js';
import type { ProbeCodec } from './client/sdpBridge.js';
import { DEFAULT_CALLER_SESSION_PATH, type CallerSession } from './signalling.js';

export interface ProbeOptions {
  readonly wavPath: string;
  /** Base URL of the appliance (http://host:port). */
  readonly target: string;
  readonly codec?: ProbeCodec;
  /** Also join as an agent with this token and measure the caller -> agent path. */
  readonly agentToken?: string;
  readonly timeoutMs?: number;
}

export interface ProbeReport {
  callId: string;
  codec: ProbeCodec;
  audioMs: number;
  timingsMs: Record<string, number>;
  framesSent: number;
  maxClockLagMs: number;
  packetsSent: number;
  bytesSent: number;
  rttMs: number | undefined;
  packetsLostReported: number | undefined;
  agent?: { framesReceived: number; rmsMax: number; onsetLatencyMs: number | undefined; packetsReceived: number; packetsLost: number; jitterMs: number | undefined };
}

/** Reads a WAV file and returns mono 16-bit samples at 48 kHz. */
export async function loadWav48k(path: string): Promise<Int16Array> {
  const wav = parseWav(new Uint8Array(await readFile(path)), path.split('/').pop() ?? 'input');
  const input = Float32Array.from(wav.samples, (v) => v / 32768);
  const resampler = new StreamingResampler(wav.sampleRateHz, SEND_RATE_HZ);
  const out = new Float32Array(resampler.maxOutput(input.length) + 4096);
  let n = resampler.process(input, out);
  n += resampler.flush(out.subarray(n));
  return Int16Array.from(out.subarray(0, n), (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32768))));
}

function wsUrl(target: string, path: string): string {
  const u = new URL(path, target);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.toString();
}

export async function runProbe(options: ProbeOptions): Promise<ProbeReport> {
  const codec = options.codec ?? 'opus';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const samples = await loadWav48k(options.wavPath);
  const t0 = performance.now();
  const res = await fetch(new URL(DEFAULT_CALLER_SESSION_PATH, options.target), { method: 'POST', signal: AbortSignal.timeout(timeoutMs) });
  if (res.status !== 201) throw evxError('EVX_ERR_WEBRTC_NEGOTIATION', `The appliance refused a caller session (HTTP ${res.status})`);
  const session = (await res.json()) as CallerSession;
  const sessionMs = performance.now() - t0;
  const url = wsUrl(options.target, session.signallingPath);
  const caller = await WebRtcPeer.join({ url, token: session.token, connectTimeoutMs: timeoutMs });
  let agent: WebRtcPeer | undefined;
  try {
    let receiver: AudioReceiver | undefined;
    if (options.agentToken !== undefined) agent = await WebRtcPeer.join({ url, token: options.agentToken, callId: session.callId, connectTimeoutMs: timeoutMs });
    const producerId = await caller.startSending(codec);
    if (agent !== undefined) receiver = await agent.receive((await agent.waitForProducer(timeoutMs, (p) => p.producerId === producerId)).producerId);
    const sent = await caller.play(samples);
    await new Promise((r) => setTimeout(r, 500)); // let the last packets and an RTCP report arrive
    const stats = await caller.sendStats();
    const report: ProbeReport = {
      callId: session.callId,
      codec,
      audioMs: Math.round((samples.length / SEND_RATE_HZ) * 1000),
      timingsMs: { callerSession: sessionMs, ...caller.timings },
      framesSent: sent.framesSent,
      maxClockLagMs: sent.maxClockLagMs,
      packetsSent: stats.packetsSent,
      bytesSent: stats.bytesSent,
      rttMs: stats.roundTripTimeMs,
      packetsLostReported: stats.packetsLostReported,
    };
    if (agent !== undefined && receiver !== undefined) {
      const r = await agent.receiveStats();
      const onset = receiver.stats.firstOnsetAtMs !== undefined && sent.firstOnsetAtMs !== undefined ? receiver.stats.firstOnsetAtMs - sent.firstOnsetAtMs : undefined;
      report.agent = { framesReceived: receiver.stats.frames, rmsMax: receiver.stats.rmsMax, onsetLatencyMs: onset, packetsReceived: r.packetsReceived, packetsLost: r.packetsLost, jitterMs: r.jitterMs };
    }
    return report;
  } finally {
    await caller.hangup();
    agent?.close();
  }
}
