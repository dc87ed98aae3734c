/**
 * A supervisor listening in on a call (live transcripts and audio on their signalling socket) stops
 * with their token: at its expiry the socket is closed (4401) and they leave the call, which goes
 * on. The signalling route is the real one; the call is a stand-in that records who is in it.
 */
import websocketPlugin from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { registerWebRtcSignalling } from '../../../appliance/webrtc/signalling.js';
import type { ServerMessage } from '../../../appliance/webrtc/protocol.js';
import type { WebRtcCallRegistry } from '../../../appliance/webrtc/webrtcCalls.js';

const SECRET = 'test-secret-0123456789-abcdefghijklmnop';

/** A call that records who is in it and lets the test send to them. */
function fakeCall(callId: string) {
  const members = new Map<string, (m: ServerMessage) => void>();
  let next = 0;
  return {
    callId,
    members,
    media: { rtpCapabilities: { codecs: [] } },
    join: (role: string, _subject: string | undefined, send: (m: ServerMessage) => void) => {
      const id = `p${++next}`;
      members.set(id, send);
      return { id, role };
    },
    leave: (participantId: string) => {
      members.delete(participantId);
    },
    audibleProducers: () => [],
  };
}

describe('a supervisor joined to a call', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function rig(expiresInMs: number) {
    const call = fakeCall('c-listen');
    app = Fastify({ logger: false });
    await app.register(websocketPlugin);
    await registerWebRtcSignalling(app, {
      calls: { size: 1, get: () => call, getOrCreate: () => Promise.resolve(call) } as unknown as WebRtcCallRegistry,
      callerTokenSecret: SECRET,
      verifyAgentToken: (t) =>
        t === 'sup-token' ? { subject: 'sup-1', role: 'supervisor', expiresAtMs: Date.now() + expiresInMs } : undefined,
      callerSessionPath: false,
    });
    await app.ready();
    const ws = await app.injectWS('/api/v1/webrtc/signal');
    const got: { type: string; id?: number; ok?: boolean }[] = [];
    const joined = new Promise<void>((resolve) =>
      ws.on('message', (d: Buffer) => {
        const m = JSON.parse(d.toString('utf8')) as (typeof got)[number];
        got.push(m);
        if (m.type === 'response' && m.id === 1 && m.ok === true) resolve();
      }),
    );
    const closed = new Promise<number>((resolve) => ws.on('close', (code: number) => resolve(code)));
    ws.send(JSON.stringify({ type: 'join', id: 1, token: 'sup-token', callId: call.callId }));
    await joined;
    return { call, ws, got, closed };
  }

  it('is closed at the expiry of its token, and leaves the call', { timeout: 5000 }, async () => {
    const { call, closed } = await rig(200);
    expect(call.members.size).toBe(1);
    expect(await closed).toBe(4401);
    expect(call.members.size).toBe(0);
  });

  it('stays while its token is valid', async () => {
    const { call, ws, got } = await rig(3_600_000);
    const seen = new Promise<void>((resolve) => ws.on('message', () => resolve()));
    for (const send of call.members.values()) send({ type: 'producerClosed', producerId: 'x' });
    await seen;
    expect(got.at(-1)?.type).toBe('producerClosed');
    ws.terminate();
  });
});
