/**
 * The signalling socket's `join` against a call registry whose call creation (a mediasoup router)
 * is held open by the test: a socket that closes while the call is being created must not leave a
 * participant behind in it (the call would then never end, and hold a slot of `maxCalls`).
 */
import websocketPlugin from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerWebRtcSignalling } from '../../../appliance/webrtc/signalling.js';
import { mintCallerToken } from '../../../appliance/webrtc/tokens.js';
import type { WebRtcCallRegistry } from '../../../appliance/webrtc/webrtcCalls.js';

const SECRET = 'test-secret-0123456789-abcdefghijklmnop';

/** A call that records who is in it. */
function fakeCall(callId: string) {
  const members = new Set<string>();
  let next = 0;
  return {
    callId,
    members,
    media: { rtpCapabilities: { codecs: [] } },
    join: () => {
      const id = `p${++next}`;
      members.add(id);
      return { id, role: 'caller' };
    },
    leave: (participantId: string) => {
      members.delete(participantId);
    },
    audibleProducers: () => [],
  };
}

describe('WebRTC signalling join', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('a socket closed while its call is being created leaves no participant in the call', async () => {
    const call = fakeCall('c-race');
    let created: (c: typeof call) => void = () => undefined;
    const asked: string[] = [];
    const registry = {
      size: 0,
      get: () => undefined,
      getOrCreate: (callId: string) => {
        asked.push(callId);
        return new Promise<typeof call>((r) => (created = r));
      },
    };
    app = Fastify({ logger: false });
    // registered here, on the root, so the test can inject a WebSocket without a listening port
    await app.register(websocketPlugin);
    await registerWebRtcSignalling(app, {
      calls: registry as unknown as WebRtcCallRegistry,
      callerTokenSecret: SECRET,
      verifyAgentToken: () => undefined,
      callerSessionPath: false,
    });
    await app.ready();
    const ws = await app.injectWS('/api/v1/webrtc/signal');
    const token = mintCallerToken(SECRET, call.callId, { ttlMs: 60_000, nowMs: Date.now() });
    ws.send(JSON.stringify({ type: 'join', id: 1, token }));
    await vi.waitFor(() => expect(asked).toEqual([call.callId]));
    ws.terminate();
    await vi.waitFor(() => expect(app!.websocketServer.clients.size).toBe(0));
    created(call); // the router is ready only now
    await new Promise((r) => setImmediate(r));
    expect([...call.members]).toEqual([]);
  });

  it('a softphone socket closed while its agent token is being checked does not connect to the hub', async () => {
    let verified: (p: { subject: string; role: 'agent' }) => void = () => undefined;
    let checking = 0;
    const connected: string[] = [];
    const hub = {
      connect: (agentId: string) => {
        connected.push(agentId);
        return { close: () => connected.splice(connected.indexOf(agentId), 1) };
      },
    };
    app = Fastify({ logger: false });
    await app.register(websocketPlugin);
    await registerWebRtcSignalling(app, {
      calls: { size: 0 } as unknown as WebRtcCallRegistry,
      callerTokenSecret: SECRET,
      verifyAgentToken: () => {
        checking++;
        return new Promise((r) => (verified = r));
      },
      callerSessionPath: false,
      softphones: hub as unknown as NonNullable<Parameters<typeof registerWebRtcSignalling>[1]['softphones']>,
    });
    await app.ready();
    const ws = await app.injectWS('/api/v1/webrtc/signal');
    ws.send(JSON.stringify({ type: 'ready', id: 1, token: 'agent-token' }));
    await vi.waitFor(() => expect(checking).toBe(1));
    ws.terminate();
    await vi.waitFor(() => expect(app!.websocketServer.clients.size).toBe(0));
    verified({ subject: 'alice', role: 'agent' });
    await new Promise((r) => setImmediate(r));
    expect(connected).toEqual([]);
  });

  it('a caller token minted while there was room does not open a call past maxCalls', async () => {
    const asked: string[] = [];
    const registry = {
      size: 1, // one web call in progress: the cap is reached
      get: () => undefined,
      getOrCreate: (callId: string) => {
        asked.push(callId);
        return Promise.resolve(fakeCall(callId));
      },
    };
    app = Fastify({ logger: false });
    await app.register(websocketPlugin);
    await registerWebRtcSignalling(app, {
      calls: registry as unknown as WebRtcCallRegistry,
      callerTokenSecret: SECRET,
      verifyAgentToken: () => undefined,
      callerSessionPath: false,
      maxCalls: 1,
    });
    await app.ready();
    const ws = await app.injectWS('/api/v1/webrtc/signal');
    const replies: Array<{ ok: boolean; error?: { code: string } }> = [];
    ws.on('message', (d: Buffer) => replies.push(JSON.parse(d.toString('utf8')) as (typeof replies)[number]));
    ws.send(JSON.stringify({ type: 'join', id: 1, token: mintCallerToken(SECRET, 'c-late', { ttlMs: 60_000, nowMs: Date.now() }) }));
    await vi.waitFor(() => expect(replies).toHaveLength(1));
    expect(replies[0]).toMatchObject({ ok: false, error: { code: 'EVX_ERR_NOT_READY' } });
    expect(asked).toEqual([]);
    ws.terminate();
  });
});
