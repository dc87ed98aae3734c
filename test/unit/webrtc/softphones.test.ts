import { afterEach, describe, expect, it } from 'vitest';
import { TypedEmitter } from '../../../appliance/events/typedEmitter.js';
import type { RingOutcome } from '../../../appliance/acd/agentRing.js';
import type { ServerMessage } from '../../../appliance/webrtc/protocol.js';
import { WebRtcSoftphones } from '../../../appliance/webrtc/softphones.js';
import type { WebRtcCallsEvents } from '../../../appliance/webrtc/webrtcCalls.js';

const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined };
const tick = () => new Promise((r) => setImmediate(r));

/** A registry with calls that record who was taken out of them. */
function setup(opts: { callInfo?: (callId: string) => { source: 'sip' | 'web'; agentCodec: 'opus' | 'pcmu' | 'pcma' } | undefined } = {}) {
  const events = new TypedEmitter<WebRtcCallsEvents>();
  const removed: { callId: string; participantId: string; reason: string }[] = [];
  const registry = {
    events,
    get: (callId: string) => ({
      remove: (participantId: string, reason: string) => {
        removed.push({ callId, participantId, reason });
        return true;
      },
    }),
  };
  const hub = new WebRtcSoftphones({
    registry,
    callInfo: opts.callInfo ?? (() => ({ source: 'sip', agentCodec: 'pcmu' })),
    logger: quiet,
  });
  const sockets: { agentId: string; sent: ServerMessage[]; conn: ReturnType<WebRtcSoftphones['connect']> }[] = [];
  const connect = (agentId: string) => {
    const sent: ServerMessage[] = [];
    const conn = hub.connect(agentId, (m) => sent.push(m));
    const s = { agentId, sent, conn };
    sockets.push(s);
    return s;
  };
  let n = 0;
  const join = (callId: string, subject: string, role: 'agent' | 'supervisor' = 'agent') => {
    const participantId = `p${++n}`;
    events.emit('participantJoined', { callId, participantId, role, subject });
    return participantId;
  };
  return { hub, events, removed, connect, join };
}

/** The outcome if it settled by now, else 'pending'. */
async function settled(p: Promise<RingOutcome>): Promise<RingOutcome | 'pending'> {
  return Promise.race([p, tick().then(() => 'pending' as const)]);
}

describe('WebRtcSoftphones (the ACD rings agents’ browser softphones)', () => {
  const hubs: WebRtcSoftphones[] = [];
  afterEach(() => {
    for (const h of hubs.splice(0)) h.close();
  });
  const make = (...args: Parameters<typeof setup>) => {
    const t = setup(...args);
    hubs.push(t.hub);
    return t;
  };

  it('counts presence sockets per agent and tells connected / disconnected for each', () => {
    const { hub, connect } = make();
    const seen: string[] = [];
    hub.events.on('connected', (e) => seen.push(`+${e.agentId}:${e.softphones}`));
    hub.events.on('disconnected', (e) => seen.push(`-${e.agentId}:${e.softphones}`));
    const a = connect('alice');
    const b = connect('alice');
    connect('bob');
    expect(hub.connectedAgents()).toEqual(
      new Map([
        ['alice', 2],
        ['bob', 1],
      ]),
    );
    a.conn.close();
    a.conn.close(); // idempotent
    b.conn.close();
    expect(seen).toEqual(['+alice:1', '+alice:2', '+bob:1', '-alice:1', '-alice:0']);
    expect(hub.connectedAgents()).toEqual(new Map([['bob', 1]]));
  });

  it('refuses agents the admission rule does not know', () => {
    const { hub } = make();
    hub.setAdmission((id) => id === 'alice');
    expect(() => hub.connect('mallory', () => undefined)).toThrow(expect.objectContaining({ code: 'EVX_ERR_WEBRTC_AUTH' }));
    expect(hub.connect('alice', () => undefined).agentId).toBe('alice');
  });

  it('does not ring an agent without a softphone, nor a call a browser cannot be bridged into', () => {
    const { hub, connect } = make({ callInfo: (id) => (id === 'g722-call' ? undefined : { source: 'sip', agentCodec: 'pcmu' }) });
    expect(hub.ring('alice', 'call-1', 1000)).toBeNull();
    connect('alice');
    expect(hub.ring('alice', 'g722-call', 1000)).toBeNull();
    expect(hub.ring('alice', 'call-1', 1000)).not.toBeNull();
  });

  it('offers the call on every socket of the agent; the agent joining it is the answer', async () => {
    const { hub, connect, join, removed } = make();
    const a = connect('alice');
    const b = connect('alice');
    const bob = connect('bob');
    const ring = hub.ring('alice', 'call-1', 5000)!;
    const offer = { type: 'offer', callId: 'call-1', ringTimeoutMs: 5000, source: 'sip', agentCodec: 'pcmu' };
    expect(a.sent).toEqual([offer]);
    expect(b.sent).toEqual([offer]);
    expect(bob.sent).toEqual([]);
    expect(hub.ringing).toBe(1);
    // while it rings only alice may join it as an agent; supervisors always may
    expect(hub.mayJoin('call-1', 'agent', 'alice')).toBe(true);
    expect(() => hub.mayJoin('call-1', 'agent', 'bob')).toThrow(expect.objectContaining({ code: 'EVX_ERR_WEBRTC_SIGNALLING' }));
    expect(hub.mayJoin('call-1', 'supervisor', 'sup-1')).toBe(true);
    expect(hub.mayJoin('another-call', 'agent', 'bob')).toBe(true);
    join('call-1', 'alice');
    expect(await settled(ring.result)).toEqual({ type: 'answered', agentCallId: null });
    // the other tab stops ringing
    expect(b.sent.at(-1)).toEqual({ type: 'offer-cancelled', callId: 'call-1', reason: 'answered' });
    expect(hub.ringing).toBe(0);
    expect(hub.mayJoin('call-1', 'agent', 'alice')).toBe(true);
    expect(() => hub.mayJoin('call-1', 'agent', 'bob')).toThrow();
    await tick();
    expect(removed).toEqual([]);
  });

  it('rings out after the timeout (no answer) and withdraws the offer', async () => {
    const { hub, connect } = make();
    const a = connect('alice');
    const ring = hub.ring('alice', 'call-1', 30)!;
    expect(await settled(ring.result)).toBe('pending');
    expect(await ring.result).toEqual({ type: 'failed', noAnswer: true });
    expect(a.sent.at(-1)).toEqual({ type: 'offer-cancelled', callId: 'call-1', reason: 'timeout' });
  });

  it('a decline on any of the agent’s softphones is a no-answer; another agent’s decline is ignored', async () => {
    const { hub, connect } = make();
    const a = connect('alice');
    const b = connect('alice');
    const bob = connect('bob');
    const ring = hub.ring('alice', 'call-1', 5000)!;
    bob.conn.decline('call-1');
    a.conn.decline('other-call');
    expect(await settled(ring.result)).toBe('pending');
    a.conn.decline('call-1');
    expect(await settled(ring.result)).toEqual({ type: 'failed', noAnswer: true });
    expect(a.sent.at(-1)).toEqual({ type: 'offer-cancelled', callId: 'call-1', reason: 'declined' });
    expect(b.sent.at(-1)).toEqual({ type: 'offer-cancelled', callId: 'call-1', reason: 'declined' });
  });

  it('fails (could not be reached) when every socket it rang on closes', async () => {
    const { hub, connect } = make();
    const a = connect('alice');
    const b = connect('alice');
    const ring = hub.ring('alice', 'call-1', 5000)!;
    a.conn.close();
    expect(await settled(ring.result)).toBe('pending');
    b.conn.close();
    expect(await settled(ring.result)).toEqual({ type: 'failed', noAnswer: false });
  });

  it('a softphone connecting while its agent is rung rings too, for the time left', () => {
    const { hub, connect } = make();
    connect('alice');
    hub.ring('alice', 'call-1', 5000);
    const late = connect('alice');
    expect(late.sent).toHaveLength(1);
    const offer = late.sent[0] as Extract<ServerMessage, { type: 'offer' }>;
    expect(offer.type).toBe('offer');
    expect(offer.ringTimeoutMs).toBeLessThanOrEqual(5000);
    expect(offer.ringTimeoutMs).toBeGreaterThan(4000);
  });

  it('cancel() withdraws the offer; an agent joining after it is taken out of the call, which goes on', async () => {
    const { hub, connect, join, removed } = make();
    const a = connect('alice');
    const ring = hub.ring('alice', 'call-1', 5000)!;
    ring.cancel();
    expect(await settled(ring.result)).toEqual({ type: 'failed', noAnswer: false });
    expect(a.sent.at(-1)).toEqual({ type: 'offer-cancelled', callId: 'call-1', reason: 'cancelled' });
    expect(() => hub.mayJoin('call-1', 'agent', 'alice')).toThrow(expect.objectContaining({ message: 'This call is not offered to you' }));
    // a join that was authorised just before the ring ended
    const p = join('call-1', 'alice');
    expect(removed).toEqual([]); // not inside the join itself
    await tick();
    expect(removed).toEqual([{ callId: 'call-1', participantId: p, reason: 'offer-withdrawn' }]);
    // supervisors are left alone
    join('call-1', 'sup-1', 'supervisor');
    await tick();
    expect(removed).toHaveLength(1);
  });

  it('hangUpAnswered() takes the softphone that answered too late out of the call', async () => {
    const { hub, connect, join, removed } = make();
    connect('alice');
    const ring = hub.ring('alice', 'call-1', 5000)!;
    const p = join('call-1', 'alice');
    expect(await ring.result).toEqual({ type: 'answered', agentCallId: null });
    ring.hangUpAnswered();
    await tick();
    expect(removed).toEqual([{ callId: 'call-1', participantId: p, reason: 'answered-elsewhere' }]);
    expect(() => hub.mayJoin('call-1', 'agent', 'alice')).toThrow();
  });

  it('the call ending forgets it (anyone may join that id again) and stops a ring still going', async () => {
    const { hub, connect, events } = make();
    connect('alice');
    const ring = hub.ring('alice', 'call-1', 5000)!;
    events.emit('callEnded', { callId: 'call-1', reason: 'sip-ended' });
    expect(await settled(ring.result)).toEqual({ type: 'failed', noAnswer: false });
    expect(hub.mayJoin('call-1', 'agent', 'bob')).toBe(true);
    // the SIP side's end (wired by the service) works the same
    const again = hub.ring('alice', 'call-2', 5000)!;
    hub.callEnded('call-2');
    expect(await settled(again.result)).toEqual({ type: 'failed', noAnswer: false });
  });

  it('close() fails the rings going and refuses new sockets', async () => {
    const { hub, connect } = make();
    connect('alice');
    const ring = hub.ring('alice', 'call-1', 5000)!;
    hub.close();
    expect(await settled(ring.result)).toEqual({ type: 'failed', noAnswer: false });
    expect(() => hub.connect('alice', () => undefined)).toThrow(expect.objectContaining({ code: 'EVX_ERR_SHUTTING_DOWN' }));
    expect(hub.ring('alice', 'call-3', 5000)).toBeNull();
  });
});
