/**
 * Hold and transfer from an agent's browser softphone (webrtc/softphoneControl.ts) through the
 * presence socket's connection (softphones.ts), with the ACD and the SIP↔WebRTC relay replaced by
 * recorders: what the ACD is asked, when the relay stops and starts, who leaves the call, what the
 * page is told.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentTransferRequest } from '../../../appliance/acd/acdCalls.js';
import { TypedEmitter } from '../../../appliance/events/typedEmitter.js';
import { SoftphoneControl } from '../../../appliance/webrtc/softphoneControl.js';
import { WebRtcSoftphones } from '../../../appliance/webrtc/softphones.js';
import type { WebRtcCallsEvents } from '../../../appliance/webrtc/webrtcCalls.js';

const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined };
const tick = () => new Promise((r) => setImmediate(r));

/** alice's softphone rung for c1 and joined it (participant p-alice); the ACD answers as told. */
function setup() {
  const events = new TypedEmitter<WebRtcCallsEvents>();
  const removed: string[] = [];
  const registry = {
    events,
    get: (callId: string) => ({
      remove: (participantId: string, reason: string) => removed.push(`${callId} ${participantId} ${reason}`) > 0,
    }),
  };
  const hub = new WebRtcSoftphones({ registry, callInfo: () => ({ source: 'sip', agentCodec: 'pcmu' }), logger: quiet });
  const asked: string[] = [];
  const relay: string[] = [];
  let holdStatus = 200;
  let transferDone: (status: number) => void = () => undefined;
  const acd = {
    holdByAgent: (callId: string, agentId: string, held: boolean) => {
      asked.push(`hold ${callId} ${agentId} ${held}`);
      return holdStatus;
    },
    transferByAgent: (callId: string, agentId: string, target: AgentTransferRequest) => {
      asked.push(`transfer ${callId} ${agentId} ${target.kind === 'agent' ? target.agentId : `queue-${target.groupId}`}`);
      return new Promise<number>((r) => (transferDone = r));
    },
  };
  const media = {
    pause: (callId: string, paused: boolean) => {
      relay.push(`${callId} ${paused ? 'paused' : 'relaying'}`);
      return true;
    },
  };
  const control = new SoftphoneControl({ acd, softphones: hub, media, logger: quiet });
  hub.setControl(control);
  const conn = hub.connect('alice', () => undefined);
  void hub.ring('alice', 'c1', 5000)!.result;
  events.emit('participantJoined', { callId: 'c1', participantId: 'p-alice', role: 'agent', subject: 'alice' });
  return {
    hub,
    conn,
    asked,
    relay,
    removed,
    setHoldStatus: (s: number) => (holdStatus = s),
    finishTransfer: (s: number) => transferDone(s),
  };
}

/** The error the page would get: its code, message and status. */
async function refusal(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    const e = err as { code: string; message: string; details: { status?: number } };
    return `${e.code} ${String(e.details.status)} ${e.message}`;
  }
  return 'no error';
}

describe('SoftphoneControl (hold and transfer from the agent page)', () => {
  const hubs: WebRtcSoftphones[] = [];
  afterEach(() => {
    for (const h of hubs.splice(0)) h.close();
  });
  const make = () => {
    const t = setup();
    hubs.push(t.hub);
    return t;
  };

  it('hold asks the ACD (music to the caller) and stops the relay both ways; resume starts it again', () => {
    const t = make();
    expect(t.hub.answeredBy('c1', 'alice')).toBe('p-alice');
    expect(t.hub.answeredBy('c1', 'bob')).toBeUndefined();
    expect(t.conn.hold('c1', true)).toEqual({ held: true });
    expect(t.conn.hold('c1', false)).toEqual({ held: false });
    expect(t.asked).toEqual(['hold c1 alice true', 'hold c1 alice false']);
    expect(t.relay).toEqual(['c1 paused', 'c1 relaying']);
  });

  it('a hold the ACD refuses is an error with its status and message; the relay is left alone', async () => {
    const t = make();
    t.setHoldStatus(481);
    expect(await refusal(() => t.conn.hold('c2', true))).toBe('EVX_ERR_WEBRTC_SIGNALLING 481 You are not on that call');
    t.setHoldStatus(409);
    expect(await refusal(() => t.conn.hold('c1', false))).toBe('EVX_ERR_WEBRTC_SIGNALLING 409 The call is already in that state');
    expect(t.relay).toEqual([]);
  });

  it('a transfer carried out (200): the relay stops while it rings, then the softphone leaves the call and may not join it again', async () => {
    const t = make();
    const done = t.conn.transfer('c1', { kind: 'agent', agentId: 'bob' });
    await tick();
    expect(t.asked).toEqual(['transfer c1 alice bob']);
    expect(t.relay).toEqual(['c1 paused']); // the caller hears the ACD's music only while bob rings
    t.finishTransfer(200);
    expect(await done).toEqual({ status: 200 });
    expect(t.relay).toEqual(['c1 paused', 'c1 relaying']); // for the next agent of the call
    await tick();
    expect(t.removed).toEqual(['c1 p-alice transferred']);
    expect(() => t.hub.mayJoin('c1', 'agent', 'alice')).toThrow(/not offered to you/);
  });

  it('a transfer not answered (480) or refused (404): an error for the page, the call stays with the agent, relayed again', async () => {
    const t = make();
    const first = t.conn.transfer('c1', { kind: 'agent', agentId: 'bob' });
    await tick();
    t.finishTransfer(480);
    expect(await refusal(first)).toBe('EVX_ERR_WEBRTC_SIGNALLING 480 The agent did not answer; the call is back with you');
    const second = t.conn.transfer('c1', { kind: 'group', groupId: 'nope' });
    await tick();
    t.finishTransfer(404);
    expect(await refusal(second)).toBe('EVX_ERR_WEBRTC_SIGNALLING 404 No such agent or queue');
    expect(t.relay).toEqual(['c1 paused', 'c1 relaying', 'c1 paused', 'c1 relaying']);
    await tick();
    expect(t.removed).toEqual([]);
    expect(t.hub.mayJoin('c1', 'agent', 'alice')).toBe(true);
  });

  it('a transfer to a closed (480) or full (486) queue says so, not that an agent did not answer', async () => {
    const t = make();
    const closed = t.conn.transfer('c1', { kind: 'group', groupId: 'cards' });
    await tick();
    t.finishTransfer(480);
    expect(await refusal(closed)).toBe('EVX_ERR_WEBRTC_SIGNALLING 480 That queue is closed now; the call is still with you');
    const full = t.conn.transfer('c1', { kind: 'group', groupId: 'cards' });
    await tick();
    t.finishTransfer(486);
    expect(await refusal(full)).toBe('EVX_ERR_WEBRTC_SIGNALLING 486 That queue is full; the call is still with you');
    expect(t.hub.mayJoin('c1', 'agent', 'alice')).toBe(true);
  });

  it('a held call whose transfer fails stays held: the relay is not started again', async () => {
    const t = make();
    t.conn.hold('c1', true);
    const done = t.conn.transfer('c1', { kind: 'agent', agentId: 'bob' });
    await tick();
    t.finishTransfer(486);
    expect(await refusal(done)).toBe('EVX_ERR_WEBRTC_SIGNALLING 486 That agent cannot take a call now');
    expect(t.relay).toEqual(['c1 paused', 'c1 paused']);
  });

  it('without a control (no ACD), hold and transfer are refused', async () => {
    const t = make();
    t.hub.setControl(null);
    expect(await refusal(() => t.conn.hold('c1', true))).toMatch(/not available on this appliance/);
    expect(await refusal(t.conn.transfer('c1', { kind: 'group', groupId: 'cards' }))).toMatch(/not available on this appliance/);
    expect(t.asked).toEqual([]);
  });
});
