/**
 * The caller's customer on the softphones' presence sockets: pushed right after an offer to the
 * sockets it rings only (never to another agent), on request only for a call ringing the agent or
 * answered by them (deny by default), never after the offer ended unanswered; a failing read sends
 * nothing and does not touch the ring.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TypedEmitter } from '../../../appliance/events/typedEmitter.js';
import { evxError } from '../../../appliance/errors.js';
import type { SoftphoneCustomer } from '../../../appliance/customers/softphoneCustomer.js';
import type { ServerMessage } from '../../../appliance/webrtc/protocol.js';
import { WebRtcSoftphones } from '../../../appliance/webrtc/softphones.js';
import type { WebRtcCallsEvents } from '../../../appliance/webrtc/webrtcCalls.js';

const tick = () => new Promise((r) => setImmediate(r));
const CUSTOMER: SoftphoneCustomer = {
  customerId: 'cust-1',
  openCases: [
    {
      channel: 'chat',
      conversationId: 'chat-1',
      at: 1,
      state: 'waiting',
      intent: null,
      linkedBy: 'token',
      subject: null,
      lastMessages: [{ from: 'visitor', text: 'my card [CARD]', at: 1 }],
    },
  ],
  timeline: [],
  churnRisk: 0.1,
  tags: [],
};

describe('the caller’s customer on the softphones’ presence sockets', () => {
  const hubs: WebRtcSoftphones[] = [];
  afterEach(() => {
    for (const h of hubs.splice(0)) h.close();
  });

  const make = (customerOf: (callId: string) => SoftphoneCustomer | null) => {
    const events = new TypedEmitter<WebRtcCallsEvents>();
    const warned: unknown[] = [];
    const hub = new WebRtcSoftphones({
      registry: { events, get: () => ({ remove: () => true }) },
      callInfo: () => ({ source: 'sip', agentCodec: 'pcmu' }),
      logger: { info: () => undefined, warn: (o: unknown) => void warned.push(o), debug: () => undefined },
    });
    hubs.push(hub);
    const reads: string[] = [];
    hub.setCustomers((callId) => {
      reads.push(callId);
      return customerOf(callId);
    });
    const connect = (agentId: string) => {
      const sent: ServerMessage[] = [];
      return { sent, conn: hub.connect(agentId, (m) => sent.push(m)) };
    };
    const join = (callId: string, subject: string) =>
      events.emit('participantJoined', { callId, participantId: `p-${subject}`, role: 'agent', subject });
    return { hub, connect, join, reads, warned };
  };

  it('follows the offer on the rung agent’s sockets only, after the offer', async () => {
    const { hub, connect, reads } = make(() => CUSTOMER);
    const alice1 = connect('alice');
    const alice2 = connect('alice');
    const bob = connect('bob');
    const ring = hub.ring('alice', 'call-1', 10_000)!;
    expect(alice1.sent.map((m) => m.type)).toEqual(['offer']); // the read is off the ringing path
    await tick();
    for (const s of [alice1, alice2]) {
      expect(s.sent.map((m) => m.type)).toEqual(['offer', 'customer']);
      expect(s.sent[1]).toEqual({ type: 'customer', callId: 'call-1', customer: CUSTOMER });
    }
    expect(bob.sent).toEqual([]);
    expect(reads).toEqual(['call-1']);
    ring.cancel();
  });

  it('answers a request for a call ringing the agent or answered by them; refuses every other call and agent', async () => {
    const { hub, connect, join } = make(() => CUSTOMER);
    const alice = connect('alice');
    const bob = connect('bob');
    const ring = hub.ring('alice', 'call-1', 10_000)!;
    expect(alice.conn.customer('call-1')).toEqual(CUSTOMER);
    expect(() => bob.conn.customer('call-1')).toThrow(/not offered to you/);
    expect(() => alice.conn.customer('call-never-offered')).toThrow(/not offered to you/);
    join('call-1', 'alice');
    expect((await ring.result).type).toBe('answered');
    expect(alice.conn.customer('call-1')).toEqual(CUSTOMER);
    expect(() => bob.conn.customer('call-1')).toThrow(/not offered to you/);
    hub.callEnded('call-1');
    expect(() => alice.conn.customer('call-1')).toThrow(/not offered to you/);
  });

  it('sends nothing once the offer ended unanswered (declined before the read)', async () => {
    const { hub, connect, reads } = make(() => CUSTOMER);
    const alice = connect('alice');
    const ring = hub.ring('alice', 'call-2', 10_000)!;
    alice.conn.decline('call-2');
    expect((await ring.result).type).toBe('failed');
    await tick();
    expect(alice.sent.map((m) => m.type)).toEqual(['offer', 'offer-cancelled']);
    expect(reads).toEqual([]);
    expect(() => alice.conn.customer('call-2')).toThrow(/not offered to you/);
  });

  it('a failing read is logged by code and sends nothing; the offer still rings', async () => {
    const { hub, connect, warned } = make(() => {
      throw evxError('EVX_ERR_CUSTOMER_NOT_FOUND', 'gone');
    });
    const alice = connect('alice');
    const ring = hub.ring('alice', 'call-3', 10_000)!;
    await tick();
    expect(alice.sent.map((m) => m.type)).toEqual(['offer']);
    expect(warned).toEqual([{ callId: 'call-3', code: 'EVX_ERR_CUSTOMER_NOT_FOUND' }]);
    expect(hub.ringing).toBe(1);
    ring.cancel();
  });

  it('an anonymous caller: the push says so (null)', async () => {
    const { hub, connect } = make(() => null);
    const alice = connect('alice');
    const ring = hub.ring('alice', 'call-4', 10_000)!;
    await tick();
    expect(alice.sent[1]).toEqual({ type: 'customer', callId: 'call-4', customer: null });
    ring.cancel();
  });
});
