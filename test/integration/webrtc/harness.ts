/**
 * Test harness for the WebRTC integration tests: a real mediasoup worker (one per test file's
 * plane), the call registry, and the signalling plugin on a standalone fastify instance bound to an
 * ephemeral loopback port.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { MediaPlane } from '../../../appliance/webrtc/mediaPlane.js';
import { registerWebRtcSignalling } from '../../../appliance/webrtc/signalling.js';
import type { AgentPrincipal } from '../../../appliance/webrtc/tokens.js';
import { WebRtcCallRegistry } from '../../../appliance/webrtc/webrtcCalls.js';
import { findWorkerBin } from '../../../appliance/webrtc/workerBin.js';

export const workerBin = findWorkerBin();
export const SKIP_REASON =
  'mediasoup worker binary not built: run `make setup` or native/mediasoup/build.sh (WebRTC integration tests skipped)';
if (workerBin === undefined) console.warn(SKIP_REASON);

export const SECRET = 'test-secret-0123456789-abcdefghijklmnop';
export const AGENT_TOKENS: Record<string, AgentPrincipal> = {
  'agent-token-1': { subject: 'agent-1', role: 'agent' },
  'supervisor-token-1': { subject: 'sup-1', role: 'supervisor' },
};

export interface Harness {
  plane: MediaPlane;
  calls: WebRtcCallRegistry;
  app: FastifyInstance;
  httpUrl: string;
  wsUrl: string;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const plane = await MediaPlane.start({ numWorkers: 1, listenIp: '127.0.0.1', rtcMinPort: 40000, rtcMaxPort: 49999 });
  const calls = new WebRtcCallRegistry(plane);
  const app = Fastify({ logger: false });
  await registerWebRtcSignalling(app, {
    calls,
    callerTokenSecret: SECRET,
    verifyAgentToken: (token) => AGENT_TOKENS[token],
    joinTimeoutMs: 2000,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    plane,
    calls,
    app,
    httpUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/api/v1/webrtc/signal`,
    async close() {
      calls.close();
      await app.close();
      await plane.close();
    },
  };
}

/** A deterministic "speech-like" test signal at 48 kHz: 300 ms tone bursts (two partials) with gaps. */
export function testSignal48k(durationMs: number, leadSilenceMs = 200): Int16Array {
  const n = Math.round((durationMs * 48000) / 1000);
  const out = new Int16Array(n);
  const lead = Math.round((leadSilenceMs * 48000) / 1000);
  for (let i = lead; i < n; i++) {
    const t = (i - lead) / 48000;
    const burst = Math.floor(t / 0.3) % 2 === 0;
    if (!burst) continue;
    out[i] = Math.round(6000 * Math.sin(2 * Math.PI * 440 * t) + 3000 * Math.sin(2 * Math.PI * 1230 * t));
  }
  return out;
}
