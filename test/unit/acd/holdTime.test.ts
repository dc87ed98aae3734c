/**
 * Hold time when both sides hold at once: the KPIs' hold is the agent's own hold (their phone's
 * re-INVITE), from its start to its end, whatever the caller's phone does in between; the caller's
 * hold is not hold time. The ACD's facts go to a real KPI engine on a test clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AcdCalls } from '../../../appliance/acd/acdCalls.js';
import { ContactCentreKpis } from '../../../appliance/acd/kpis.js';
import { harness, until } from './acdHarness.js';

/** A multiple of 15 minutes: one KPI interval holds the whole call. */
const T0 = 1_800_000_000_000;
const s = (seconds: number): number => T0 + seconds * 1000;

describe('hold time with overlapping holds', () => {
  let open: AcdCalls[] = [];
  afterEach(() => {
    for (const a of open) a.close();
    open = [];
  });

  it('covers the agent’s whole hold: the caller holding and resuming inside it neither ends nor extends it', async () => {
    let now = s(0);
    const kpis = new ContactCentreKpis({ serviceLevelS: 20, shortAbandonS: 5, groups: { cards: {} } });
    const h = harness({ factSink: kpis, now: () => now, contactsByAgent: { alice: ['sip:alice@10.0.0.5:5062'] } });
    open.push(h.acd);
    h.start('c1');
    h.publish({ type: 'route.decision', callId: 'c1', action: 'agent', groupId: 'cards', agentId: 'alice' } as never);
    h.placed[0]!.settle({ type: 'answered', call: {} as never });
    await until(() => h.bridged.length === 1);

    // alice holds 10–50; the caller's phone holds 20–30 inside it
    now = s(10);
    h.events.emit('call.held', { callId: 'agent-call-1' });
    now = s(20);
    h.events.emit('call.held', { callId: 'c1' });
    now = s(30);
    h.events.emit('call.resumed', { callId: 'c1' });
    now = s(50);
    h.events.emit('call.resumed', { callId: 'agent-call-1' });
    // the caller holds 60–90; alice holds 70–80 inside it: 10 s of her hold
    now = s(60);
    h.events.emit('call.held', { callId: 'c1' });
    now = s(70);
    h.events.emit('call.held', { callId: 'agent-call-1' });
    now = s(80);
    h.events.emit('call.resumed', { callId: 'agent-call-1' });
    now = s(90);
    h.events.emit('call.resumed', { callId: 'c1' });
    now = s(100);
    h.events.emit('call.ended', { callId: 'c1' } as never);
    kpis.wrapUpEnded('alice', s(110)); // agent presence's fact at the end of her wrap-up: the call is handled

    const r = kpis.summary(s(0), s(900), s(110));
    expect(r.groups['cards']).toMatchObject({ answered: 1, handled: 1, holdS: 50, talkS: 50, wrapUpS: 10 });
    expect(kpis.footprint()).toMatchObject({ ignoredFacts: 0 });
  });
});
