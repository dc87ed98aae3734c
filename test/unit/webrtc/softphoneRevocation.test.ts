/**
 * A softphone's presence socket lasts no longer than its agent's place on the roster (the hub's
 * admission): once the agent is removed, the caller's customer of a call still ringing them is not
 * given out, no further offer reaches them, and the socket closes (CREDENTIAL_ENDED). The signalling
 * route is the real one; the call registry is a stand-in (presence sockets join no call).
 */
import websocketPlugin from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SoftphoneCustomer } from '../../../appliance/customers/softphoneCustomer.js';
import { registerWebRtcSignalling } from '../../../appliance/webrtc/signalling.js';
import { CREDENTIAL_ENDED } from '../../../appliance/auth/socketClose.js';
import { WebRtcSoftphones } from '../../../appliance/webrtc/softphones.js';
import type { WebRtcCallRegistry } from '../../../appliance/webrtc/webrtcCalls.js';

const SECRET = 'test-secret-0123456789-abcdefghijklmnop';
const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined };
const CUSTOMER: SoftphoneCustomer = { customerId: 'cust-1', openCases: [], timeline: [], churnRisk: 0.2, tags: ['vip'] };

type Sock = Awaited<ReturnType<FastifyInstance['injectWS']>>;

/** A presence socket: what it got, and its close code once closed. */
async function presence(app: FastifyInstance, token: string) {
  const ws: Sock = await app.injectWS('/api/v1/webrtc/signal');
  const got: { type: string; id?: number; ok?: boolean; data?: unknown }[] = [];
  let closedWith: number | null = null;
  const waiters: (() => void)[] = [];
  ws.on('message', (d: Buffer) => {
    got.push(JSON.parse(d.toString('utf8')) as (typeof got)[number]);
    for (const w of waiters.splice(0)) w();
  });
  ws.on('close', (code: number) => {
    closedWith = code;
    for (const w of waiters.splice(0)) w();
  });
  /** Resolves with the first of: a message matching `pred` (`got ...`), or the close (`closed <code>`). */
  const next = async (pred: (m: (typeof got)[number]) => boolean): Promise<string> => {
    for (;;) {
      const m = got.find(pred);
      if (m !== undefined) return `got ${m.type}`;
      if (closedWith !== null) return `closed ${closedWith}`;
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  ws.send(JSON.stringify({ type: 'ready', id: 1, token }));
  expect(await next((m) => m.type === 'response' && m.id === 1 && m.ok === true)).toBe('got response');
  return { ws, got, next };
}

describe('softphone presence socket of an agent removed from the roster', () => {
  let app: FastifyInstance;
  let hub: WebRtcSoftphones;
  const roster = new Set<string>();

  beforeEach(async () => {
    roster.clear();
    roster.add('alice');
    roster.add('bob');
    hub = new WebRtcSoftphones({
      registry: { events: { on: () => () => undefined }, get: () => undefined },
      callInfo: () => ({ source: 'web', agentCodec: 'opus' }),
      logger: quiet,
    });
    hub.setAdmission((agentId) => roster.has(agentId));
    hub.setCustomers(() => CUSTOMER);
    app = Fastify({ logger: false });
    await app.register(websocketPlugin);
    await registerWebRtcSignalling(app, {
      calls: { size: 0, get: () => undefined } as unknown as WebRtcCallRegistry,
      callerTokenSecret: SECRET,
      verifyAgentToken: (t) => (t.startsWith('token-') ? { subject: t.slice(6), role: 'agent' } : undefined),
      callerSessionPath: false,
      softphones: hub,
    });
    await app.ready();
  });
  afterEach(async () => {
    hub.close();
    await app.close();
  });

  it('is refused the customer of a call still ringing it, and closed', async () => {
    const alice = await presence(app, 'token-alice');
    hub.ring('alice', 'call-1', 60_000);
    expect(await alice.next((m) => m.type === 'customer')).toBe('got customer');
    roster.delete('alice');
    alice.ws.send(JSON.stringify({ type: 'customer', id: 2, callId: 'call-1' }));
    expect(await alice.next((m) => m.type === 'response' && m.id === 2 && m.ok === true)).toBe(`closed ${CREDENTIAL_ENDED}`);
    expect(hub.connectedAgents().has('alice')).toBe(false);
  });

  it('gets no further offer, and is closed', async () => {
    const alice = await presence(app, 'token-alice');
    roster.delete('alice');
    hub.ring('alice', 'call-2', 60_000);
    expect(await alice.next((m) => m.type === 'offer')).toBe(`closed ${CREDENTIAL_ENDED}`);
  });

  it('an agent still on the roster goes on', async () => {
    const bob = await presence(app, 'token-bob');
    roster.delete('somebody-else');
    hub.ring('bob', 'call-3', 60_000);
    expect(await bob.next((m) => m.type === 'offer')).toBe('got offer');
    bob.ws.send(JSON.stringify({ type: 'customer', id: 2, callId: 'call-3' }));
    expect(await bob.next((m) => m.type === 'response' && m.id === 2 && m.ok === true)).toBe('got response');
  });
});
