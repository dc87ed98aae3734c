/**
 * A transfer to a queue goes through the target group's admission like a caller entering it
 * (acd/queuePolicy.ts `admit`): a closed group or a full queue refuses the transfer to the
 * transferring agent, who keeps the caller (still bridged, nothing queued, audited), as ACDs such as
 * Genesys and Amazon Connect do; an open group with room takes the caller as before.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AcdCalls } from '../../../appliance/acd/acdCalls.js';
import type { SkillGroup } from '../../../appliance/routing/types.js';
import { GROUP, harness, until } from './acdHarness.js';

/** Closed every day of the week, whatever the hour. */
const CLOSED: NonNullable<SkillGroup['queue']> = { hours: { weekly: {} } };

describe('ACD transfer to a queue: the target group’s admission', () => {
  let open: AcdCalls[] = [];
  afterEach(() => {
    for (const a of open) a.close();
    open = [];
  });

  const contactsByAgent = { alice: ['sip:alice@10.0.0.5:5062'], bob: ['sip:bob@10.0.0.7:5062'] };

  /** c1 offered to alice from the cards queue, her phone answered (agent-call-1): bridged. */
  const bridgedToAlice = async (billing: SkillGroup) => {
    const h = harness({ contactsByAgent, groups: [GROUP, billing] });
    open.push(h.acd);
    h.start('c1');
    h.publish({ type: 'route.decision', callId: 'c1', action: 'agent', groupId: 'cards', agentId: 'alice', priority: 3 } as never);
    h.placed[0]!.settle({ type: 'answered', call: {} as never });
    await until(() => h.bridged.length === 1);
    return h;
  };

  /** Nothing moved: alice keeps the caller, bridged, her leg up and hers to transfer again. */
  const stillWithAlice = (h: Awaited<ReturnType<typeof bridgedToAlice>>) => {
    expect(h.acd.phases()).toEqual({ c1: 'bridged' });
    expect(h.requeuedTo).toEqual([]);
    expect(h.queue.has('c1')).toBe(false);
    expect(h.agentCalls).toEqual(['answered alice c1']);
    expect(h.facts).toEqual(['offered c1 cards', 'answered c1 alice']);
    expect(h.bridgeOps).toEqual([]);
    expect(h.acd.ownsReferral('agent-call-1')).toBe(true);
    expect(h.hungUp).toEqual([]);
  };

  it('a closed target group refuses the transfer (480), audited; alice keeps the caller', async () => {
    const billing: SkillGroup = { ...GROUP, id: 'billing', name: 'Billing', queue: CLOSED };
    const h = await bridgedToAlice(billing);
    const outcomes: string[] = [];
    h.acd.events.on('call.transferred', (e) => outcomes.push(`${e.kind} ${e.outcome} ${e.reason}`));
    expect(await h.acd.referral('agent-call-1', 'sip:queue-billing@192.0.2.10')).toBe(480);
    stillWithAlice(h);
    expect(outcomes).toEqual(['group refused queue-closed']);
    expect(h.audits).toEqual([
      { actor: 'agent:alice', action: 'acd.transfer.refused', target: 'call:c1', details: { reason: 'queue-closed', status: 480 } },
    ]);
  });

  it('a full target queue refuses the transfer (486), audited; alice keeps the caller; with room it is taken as before', async () => {
    const billing: SkillGroup = { ...GROUP, id: 'billing', name: 'Billing', queue: { maxQueued: 1 } };
    const h = await bridgedToAlice(billing);
    h.queue.set('w1', 'billing'); // one caller waits there already
    expect(await h.acd.referral('agent-call-1', 'sip:queue-billing@192.0.2.10')).toBe(486);
    stillWithAlice(h);
    expect(h.audits.map((a) => a.details)).toEqual([{ reason: 'queue-full', status: 486 }]);
    // the waiting caller is answered: room again, the transfer goes through
    h.queue.delete('w1');
    expect(await h.acd.referral('agent-call-1', 'sip:queue-billing@192.0.2.10')).toBe(200);
    expect(h.requeuedTo).toEqual(['c1 billing 3']);
    expect(h.acd.phases()).toEqual({ c1: 'queued' });
  });

  it('a browser softphone’s transfer to a closed queue is refused the same way', async () => {
    const billing: SkillGroup = { ...GROUP, id: 'billing', name: 'Billing', queue: CLOSED };
    const h = harness({ groups: [GROUP, billing], contacts: [], softphones: { ring: softphoneAnswering } });
    open.push(h.acd);
    h.start('c1');
    h.publish({ type: 'route.decision', callId: 'c1', action: 'agent', groupId: 'cards', agentId: 'alice', priority: 3 } as never);
    await until(() => h.acd.phases()['c1'] === 'bridged');
    expect(await h.acd.transferByAgent('c1', 'alice', { kind: 'group', groupId: 'billing' })).toBe(480);
    expect(h.acd.phases()).toEqual({ c1: 'bridged' });
    expect(h.requeuedTo).toEqual([]);
    expect(h.agentCalls).toEqual(['answered alice c1']);
  });
});

/** A softphone that answers at once (it joins the caller's call itself: no SIP leg). */
function softphoneAnswering() {
  return {
    result: Promise.resolve({ type: 'answered' as const, agentCallId: null }),
    cancel: () => undefined,
    hangUpAnswered: () => undefined,
  };
}
