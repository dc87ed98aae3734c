/**
 * Softphone presence sockets over the real signalling route and a real mediasoup worker: `ready`
 * with an agent token, offers pushed to it, `decline`, the answer being the agent's ordinary `join`
 * of the offered call id (resolved before the join's response), joins of other agents refused while
 * the call is offered, a socket gone while ringing, the heartbeat closing a silent socket, and the
 * caller's customer pushed after an offer and refused to anyone but the rung agent.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebRtcPeer } from '../../../tools/webrtc/client/peer.js';
import { SignallingClient } from '../../../tools/webrtc/client/signallingClient.js';
import { MediaPlane } from '../../../appliance/webrtc/mediaPlane.js';
import { registerWebRtcSignalling } from '../../../appliance/webrtc/signalling.js';
import { WebRtcSoftphones } from '../../../appliance/webrtc/softphones.js';
import type { AgentPrincipal } from '../../../appliance/webrtc/tokens.js';
import { WebRtcCallRegistry } from '../../../appliance/webrtc/webrtcCalls.js';
import { SECRET, SKIP_REASON, workerBin } from './harness.js';

const TOKENS: Record<string, AgentPrincipal> = {
  'alice-token': { subject: 'alice', role: 'agent' },
  'bob-token': { subject: 'bob', role: 'agent' },
  'sup-token': { subject: 'sup-1', role: 'supervisor' },
};
/** Valid for 300 ms from its check. */
const EXPIRING = 'expiring-token';
const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined };

interface Rig {
  plane: MediaPlane;
  registry: WebRtcCallRegistry;
  hub: WebRtcSoftphones;
  app: FastifyInstance;
  wsUrl: string;
}

async function startRig(): Promise<Rig> {
  const plane = await MediaPlane.start({ numWorkers: 1, listenIp: '127.0.0.1', rtcMinPort: 40000, rtcMaxPort: 49999 });
  const registry = new WebRtcCallRegistry(plane);
  const hub = new WebRtcSoftphones({ registry, callInfo: () => ({ source: 'web', agentCodec: 'opus' }), logger: quiet });
  const app = Fastify({ logger: false });
  await registerWebRtcSignalling(app, {
    calls: registry,
    callerTokenSecret: SECRET,
    verifyAgentToken: (t) => (t === EXPIRING ? { subject: 'alice', role: 'agent', expiresAtMs: Date.now() + 300 } : TOKENS[t]),
    authorizeJoin: (callId, role, subject) => hub.mayJoin(callId, role, subject),
    softphones: hub,
    heartbeatMs: 150,
    joinTimeoutMs: 2000,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { plane, registry, hub, app, wsUrl: `ws://127.0.0.1:${port}/api/v1/webrtc/signal` };
}

const until = async (cond: () => boolean, timeoutMs = 3000) => {
  const end = Date.now() + timeoutMs;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return cond();
};

describe.skipIf(workerBin === undefined)(
  `softphone offers over signalling (${workerBin === undefined ? SKIP_REASON : 'real worker'})`,
  () => {
    let rig: Rig;
    const clients: SignallingClient[] = [];
    const peers: WebRtcPeer[] = [];
    beforeEach(async () => {
      rig = await startRig();
    });
    afterEach(async () => {
      for (const p of peers.splice(0)) p.close();
      for (const c of clients.splice(0)) c.close();
      rig.hub.close();
      rig.registry.close();
      await rig.app.close();
      await rig.plane.close();
    });
    const presence = async (token: string) => {
      const c = await SignallingClient.connect(rig.wsUrl);
      clients.push(c);
      const ready = await c.request('ready', { token });
      return { c, ready };
    };
    const nextOffer = (c: SignallingClient) => new Promise<{ callId: string; ringTimeoutMs: number }>((r) => c.events.once('offer', r));
    const nextCancel = (c: SignallingClient) => new Promise<{ callId: string; reason: string }>((r) => c.events.once('offer-cancelled', r));

    it('ready makes the agent’s softphone present; an offered call is answered by joining it', async () => {
      const { c, ready } = await presence('alice-token');
      expect(ready).toMatchObject({ agentId: 'alice', protocolVersion: 1 });
      expect(rig.hub.connectedAgents()).toEqual(new Map([['alice', 1]]));
      const offered = nextOffer(c);
      const ring = rig.hub.ring('alice', 'call-a', 5000)!;
      expect(await offered).toMatchObject({ callId: 'call-a', ringTimeoutMs: 5000, source: 'web', agentCodec: 'opus' });
      // another agent cannot take the offered call; a supervisor can listen in
      await expect(WebRtcPeer.join({ url: rig.wsUrl, token: 'bob-token', callId: 'call-a' })).rejects.toThrow(/not offered to you/);
      let answeredBeforeJoinResponse = false;
      void ring.result.then(() => (answeredBeforeJoinResponse = true));
      const agent = await WebRtcPeer.join({ url: rig.wsUrl, token: 'alice-token', callId: 'call-a' });
      peers.push(agent);
      expect(answeredBeforeJoinResponse).toBe(true);
      expect(await ring.result).toEqual({ type: 'answered', agentCallId: null });
      const sup = await WebRtcPeer.join({ url: rig.wsUrl, token: 'sup-token', callId: 'call-a' });
      peers.push(sup);
      // the presence socket closing is a disconnect
      const gone = new Promise((r) => rig.hub.events.once('disconnected', r));
      c.close();
      await gone;
      expect(rig.hub.connectedAgents().size).toBe(0);
    });

    it('decline over the protocol is a no-answer, and every socket of the agent stops ringing', async () => {
      const a = await presence('alice-token');
      const b = await presence('alice-token');
      const offeredA = nextOffer(a.c);
      const offeredB = nextOffer(b.c);
      const ring = rig.hub.ring('alice', 'call-d', 5000)!;
      await Promise.all([offeredA, offeredB]);
      const cancelled = nextCancel(b.c);
      expect(await a.c.request('decline', { callId: 'call-d' })).toEqual({});
      expect(await ring.result).toEqual({ type: 'failed', noAnswer: true });
      expect(await cancelled).toEqual({ type: 'offer-cancelled', callId: 'call-d', reason: 'declined' });
      // the declined call stays guarded until it ends
      await expect(WebRtcPeer.join({ url: rig.wsUrl, token: 'alice-token', callId: 'call-d' })).rejects.toThrow(/not offered/);
    });

    it('the caller’s customer follows the offer; a request is answered for the agent’s own call only', async () => {
      const customer = { customerId: 'cust-1', openCases: [], timeline: [], churnRisk: 0.2, tags: [] };
      rig.hub.setCustomers(() => customer);
      const a = await presence('alice-token');
      const b = await presence('bob-token');
      const pushed = new Promise((r) => a.c.events.once('customer', r));
      let bobGot = false;
      b.c.events.once('customer', () => (bobGot = true));
      const ring = rig.hub.ring('alice', 'call-p', 5000)!;
      expect(await pushed).toEqual({ type: 'customer', callId: 'call-p', customer });
      expect(await a.c.request('customer', { callId: 'call-p' })).toEqual({ customer });
      await expect(b.c.request('customer', { callId: 'call-p' })).rejects.toMatchObject({ code: 'EVX_ERR_WEBRTC_AUTH' });
      await expect(a.c.request('customer', { callId: 'call-other' })).rejects.toMatchObject({ code: 'EVX_ERR_WEBRTC_AUTH' });
      const bare = await SignallingClient.connect(rig.wsUrl);
      clients.push(bare);
      await expect(bare.request('customer', { callId: 'call-p' })).rejects.toMatchObject({ code: 'EVX_ERR_WEBRTC_SIGNALLING' });
      expect(bobGot).toBe(false);
      ring.cancel();
      expect(await ring.result).toEqual({ type: 'failed', noAnswer: false });
    });

    it('the presence socket going away while ringing fails the ring (not reachable)', async () => {
      const { c } = await presence('alice-token');
      const offered = nextOffer(c);
      const ring = rig.hub.ring('alice', 'call-c', 5000)!;
      await offered;
      c.close();
      expect(await ring.result).toEqual({ type: 'failed', noAnswer: false });
    });

    it('refuses supervisors, a second ready, join on a presence socket, and decline before ready', async () => {
      const sup = await SignallingClient.connect(rig.wsUrl);
      clients.push(sup);
      await expect(sup.request('ready', { token: 'sup-token' })).rejects.toMatchObject({ code: 'EVX_ERR_WEBRTC_AUTH' });
      expect(await until(() => sup.closed)).toBe(true);

      const { c } = await presence('alice-token');
      await expect(c.request('ready', { token: 'alice-token' })).rejects.toMatchObject({ code: 'EVX_ERR_WEBRTC_SIGNALLING' });
      await expect(c.request('join', { token: 'alice-token', callId: 'x' })).rejects.toMatchObject({ code: 'EVX_ERR_WEBRTC_SIGNALLING' });

      const fresh = await SignallingClient.connect(rig.wsUrl);
      clients.push(fresh);
      await expect(fresh.request('decline', { callId: 'x' })).rejects.toMatchObject({ code: 'EVX_ERR_WEBRTC_SIGNALLING' });

      // hangup on a presence socket closes it
      await c.request('hangup', {});
      expect(await until(() => c.closed && rig.hub.connectedAgents().size === 0)).toBe(true);
    });

    it('hold and transfer over the protocol reach the control as the socket’s agent; refusals come back as errors; none before ready', async () => {
      const asked: string[] = [];
      rig.hub.setControl({
        hold: (agentId, callId, held) =>
          callId === 'mine'
            ? (asked.push(`hold ${agentId} ${callId} ${held}`), { ok: true, status: 200 })
            : { ok: false, status: 481, message: 'You are not on that call' },
        transfer: async (agentId, callId, target) => {
          asked.push(`transfer ${agentId} ${callId} ${JSON.stringify(target)}`);
          return target.kind === 'group' ? { ok: true, status: 200 } : { ok: false, status: 404, message: 'No such agent or queue' };
        },
      });
      const fresh = await SignallingClient.connect(rig.wsUrl);
      clients.push(fresh);
      await expect(fresh.request('hold', { callId: 'mine', held: true })).rejects.toMatchObject({ code: 'EVX_ERR_WEBRTC_SIGNALLING' });
      const { c } = await presence('alice-token');
      expect(await c.request('hold', { callId: 'mine', held: true })).toEqual({ held: true });
      await expect(c.request('hold', { callId: 'other', held: true })).rejects.toThrow(/not on that call/);
      expect(await c.request('transfer', { callId: 'mine', target: { kind: 'group', groupId: 'billing' } })).toEqual({ status: 200 });
      await expect(c.request('transfer', { callId: 'mine', target: { kind: 'agent', agentId: 'zed' } })).rejects.toThrow(/No such agent/);
      // a target of another shape is malformed: never reaches the control
      await expect(c.request('transfer', { callId: 'mine', target: { kind: 'uri', uri: 'sip:x@y' } as never })).rejects.toMatchObject({
        code: 'EVX_ERR_WEBRTC_SIGNALLING',
      });
      expect(asked).toEqual([
        'hold alice mine true',
        'transfer alice mine {"kind":"group","groupId":"billing"}',
        'transfer alice mine {"kind":"agent","agentId":"zed"}',
      ]);
    });

    it('closes a presence socket at its token’s expiry and one that stops answering pings', async () => {
      const { c } = await presence(EXPIRING);
      expect(rig.hub.connectedAgents().size).toBe(1);
      expect(await until(() => c.closed, 3000)).toBe(true);
      expect(rig.hub.connectedAgents().size).toBe(0);

      // a client that never answers pings (a browser gone without a close)
      const WebSocket = createRequire(import.meta.url)('ws') as new (
        url: string,
        opts: { autoPong: boolean },
      ) => {
        on(e: string, l: (...a: unknown[]) => void): void;
        send(d: string): void;
        close(): void;
        readyState: number;
      };
      const ws = new WebSocket(rig.wsUrl, { autoPong: false });
      await new Promise((r) => ws.on('open', r));
      const closed = new Promise<number>((r) => ws.on('close', (code) => r(code as number)));
      ws.send(JSON.stringify({ type: 'ready', id: 1, token: 'alice-token' }));
      expect(await until(() => rig.hub.connectedAgents().size === 1)).toBe(true);
      await closed;
      expect(await until(() => rig.hub.connectedAgents().size === 0)).toBe(true);
    });
  },
);
