/**
 * The WebRTC probe: places a real call into an appliance with node-webrtc, plays a WAV file as the
 * caller (10 ms frames on a wall clock) and measures what it can from the client side: signalling
 * and ICE/DTLS setup times, RTP packets sent, RTT and loss from mediasoup's RTCP receiver reports,
 * and — when an agent token is given — the one-way caller -> agent audio path through the media
 * plane (onset latency, received energy) and the transcript the appliance pushes to the agent leg
 * live; with a console API token it also reads the stored call back from /api/v1/calls/:id.
 */
import { readFile } from 'node:fs/promises';
import { parseWav } from '../../appliance/audio/wav.js';
import { StreamingResampler } from '../../appliance/audio/resample.js';
import { evxError } from '../../appliance/errors.js';
import { SEND_RATE_HZ, WebRtcPeer, type AudioReceiver } from './client/peer.js';
import type { ProbeCodec } from '../../appliance/webrtc/sdpBridge.js';
import { DEFAULT_CALLER_SESSION_PATH, type CallerSession } from '../../appliance/webrtc/signalling.js';
import { AGENT_TOKEN_PATH } from '../../appliance/webrtc/webrtcService.js';

export interface ProbeOptions {
  readonly wavPath: string;
  /** Base URL of the appliance (http://host:port). */
  readonly target: string;
  readonly codec?: ProbeCodec;
  /** Also join as an agent with this token and measure the caller -> agent path. */
  readonly agentToken?: string;
  /**
   * Console API token (supervisor or above): mints an agent token for the probe's agent leg (when no
   * agentToken is given) and reads the stored call back from /api/v1/calls/:id.
   */
  readonly apiToken?: string;
  readonly timeoutMs?: number;
  /** How long to wait after the audio for the last transcript (default 6000 ms). */
  readonly transcriptWaitMs?: number;
}

/** What the appliance recognised, as the agent saw it live and as it was stored. */
export interface ProbeTranscript {
  /** Finals pushed live to the agent leg (asr.final of the caller leg), joined. */
  live: string;
  finals: number;
  /** Wall-clock ms from the end of playback to the arrival of the last final at the agent. */
  lastFinalAfterPlaybackMs: number | undefined;
  /** The appliance's own per-final latency (end of utterance audio to final), max over finals. */
  applianceLatencyMsMax: number | undefined;
  /** From /api/v1/calls/:id (with apiToken). */
  stored: string | undefined;
  storedSource: string | undefined;
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
  agent?: {
    framesReceived: number;
    rmsMax: number;
    onsetLatencyMs: number | undefined;
    packetsReceived: number;
    packetsLost: number;
    jitterMs: number | undefined;
  };
  transcript?: ProbeTranscript;
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

async function mintAgentTokenVia(target: string, apiToken: string, timeoutMs: number): Promise<string> {
  const res = await fetch(new URL(AGENT_TOKEN_PATH, target), {
    method: 'POST',
    headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ agentId: 'probe', role: 'agent', ttlMs: 600_000 }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (res.status !== 201)
    throw evxError(
      'EVX_ERR_WEBRTC_AUTH',
      `The appliance refused an agent token for the probe (HTTP ${res.status}); the API token needs the supervisor role`,
    );
  return ((await res.json()) as { token: string }).token;
}

/** Reads the stored call (waits until the call layer has ended it, so the last final is stored). */
async function storedCall(
  target: string,
  apiToken: string,
  callId: string,
  timeoutMs: number,
): Promise<{ source: string; text: string } | undefined> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const res = await fetch(new URL(`/api/v1/calls/${encodeURIComponent(callId)}`, target), {
      headers: { authorization: `Bearer ${apiToken}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.status === 200) {
      const call = (await res.json()) as { source: string; state: string; utterances: { speaker: string; text: string }[] };
      if (call.state === 'ended')
        return {
          source: call.source,
          text: call.utterances
            .filter((u) => u.speaker === 'caller')
            .map((u) => u.text)
            .join(' '),
        };
    } else if (res.status !== 404) {
      throw evxError('EVX_ERR_WEBRTC_NEGOTIATION', `Reading the call back failed (HTTP ${res.status})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
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
  const agentToken =
    options.agentToken ??
    (options.apiToken !== undefined ? await mintAgentTokenVia(options.target, options.apiToken, timeoutMs) : undefined);
  const caller = await WebRtcPeer.join({ url, token: session.token, connectTimeoutMs: timeoutMs });
  let agent: WebRtcPeer | undefined;
  const finals: { text: string; atMs: number; latencyMs: number }[] = [];
  let partialPending = false;
  try {
    let receiver: AudioReceiver | undefined;
    if (agentToken !== undefined) {
      agent = await WebRtcPeer.join({ url, token: agentToken, callId: session.callId, connectTimeoutMs: timeoutMs });
      agent.signalling.events.on('callEvent', ({ event }) => {
        if (event.type === 'asr.partial' && event.speaker === 'caller') partialPending = event.text.trim() !== '';
        if (event.type === 'asr.final' && event.speaker === 'caller') {
          partialPending = false;
          if (event.text.trim() !== '') finals.push({ text: event.text, atMs: performance.now(), latencyMs: event.latencyMs });
        }
      });
    }
    const producerId = await caller.startSending(codec);
    if (agent !== undefined)
      receiver = await agent.receive((await agent.waitForProducer(timeoutMs, (p) => p.producerId === producerId)).producerId);
    const sent = await caller.play(samples);
    const playedAt = performance.now();
    await new Promise((r) => setTimeout(r, 500)); // let the last packets and an RTCP report arrive
    if (agent !== undefined) {
      // The last utterance ends at the endpoint (trailing silence) or when the leg closes: keep sending
      // silence until a final has arrived with no partial after it, or the wait is over.
      const waitUntil = playedAt + (options.transcriptWaitMs ?? 6000);
      const silence = new Int16Array(SEND_RATE_HZ / 10);
      while (performance.now() < waitUntil && (finals.length === 0 || partialPending)) await caller.play(silence);
    }
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
      const onset =
        receiver.stats.firstOnsetAtMs !== undefined && sent.firstOnsetAtMs !== undefined
          ? receiver.stats.firstOnsetAtMs - sent.firstOnsetAtMs
          : undefined;
      report.agent = {
        framesReceived: receiver.stats.frames,
        rmsMax: receiver.stats.rmsMax,
        onsetLatencyMs: onset,
        packetsReceived: r.packetsReceived,
        packetsLost: r.packetsLost,
        jitterMs: r.jitterMs,
      };
      const last = finals[finals.length - 1];
      report.transcript = {
        live: finals.map((f) => f.text).join(' '),
        finals: finals.length,
        lastFinalAfterPlaybackMs: last === undefined ? undefined : last.atMs - playedAt,
        applianceLatencyMsMax: finals.length === 0 ? undefined : Math.max(...finals.map((f) => f.latencyMs)),
        stored: undefined,
        storedSource: undefined,
      };
    }
    await caller.hangup();
    if (options.apiToken !== undefined && report.transcript !== undefined) {
      const stored = await storedCall(options.target, options.apiToken, session.callId, timeoutMs);
      report.transcript.stored = stored?.text;
      report.transcript.storedSource = stored?.source;
    }
    return report;
  } finally {
    await caller.hangup();
    agent?.close();
  }
}
