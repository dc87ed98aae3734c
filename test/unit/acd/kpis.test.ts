/**
 * The contact-centre KPI engine against scripted scenarios whose figures were worked out by hand
 * (the arithmetic is in the comments). Times are seconds after T0, a 15-minute boundary.
 * "Within T" means wait <= T; a short abandon is an abandon with wait <= shortAbandonS.
 */
import { describe, expect, it } from 'vitest';
import { ContactCentreKpis, type AcdFact, type QueueKpis } from '../../../appliance/acd/kpis.js';
import { kpiSamples } from '../../../appliance/acd/kpiSamples.js';

/** 2027-01-15 08:00:00 UTC: a multiple of 15 minutes (1.8e12 / 900 000 = 2 000 000). */
const T0 = 1_800_000_000_000;
const s = (seconds: number): number => T0 + seconds * 1000;
const DIGITS = 12;

function expectKpis(actual: QueueKpis | undefined, expected: Partial<Record<keyof QueueKpis, unknown>>): void {
  expect(actual).toBeDefined();
  for (const [key, value] of Object.entries(expected)) {
    const got = (actual as unknown as Record<string, unknown>)[key];
    if (typeof value === 'number' && !Number.isInteger(value)) expect(got, key).toBeCloseTo(value, DIGITS);
    else expect(got, key).toEqual(value);
  }
}

/**
 * Scenario 1, one 15-minute interval. Group "billing" (T = 20 s) with agents A1 and A2; group
 * "cards" (T = 30 s) with agent A3; overall T = 20 s; short abandon = 5 s.
 *
 * billing calls (offered → outcome, wait):
 *   c1  0 → answered A1 at   5 (wait  5)  hold 15–25 (10), talk ends  65, wrap-up to  75
 *   c2 10 → answered A2 at  20 (wait 10)                   talk ends 100, wrap-up to 110
 *   c3 70 → answered A1 at  85 (wait 15)                   talk ends 145, wrap-up to 165
 *   c4 100 → answered A2 at 120 (wait 20, ringing 115–120)  talk ends 180, wrap-up to 200
 *   c5 150 → answered A1 at 175 (wait 25)                  talk ends 205, wrap-up to 210
 *   c6 190 → answered A2 at 220 (wait 30)                  talk ends 280, wrap-up to 290
 *   c7 200 → answered A1 at 260 (wait 60) hold 270–290 (20), talk ends 320, wrap-up to 330
 *   c8 30 → abandoned at 70 (wait 40); c9 60 → abandoned at 150 (wait 90); c10 300 → abandoned at 303 (wait 3, short)
 * cards calls:
 *   d1 0 → answered A3 at 25 (wait 25)                    talk ends 125, wrap-up to 135
 *   d2 50 → abandoned at 54 (wait 4, short)
 *   d3 130 → answered A3 at 170 (wait 40) hold 180–200 (20), talk ends 230, wrap-up to 250
 * agents: all available at 0; A1 away at 330, logged out at 360; A2 logged out at 400; A3 logged out at 300.
 */
function scenarioOne(): ContactCentreKpis {
  const k = new ContactCentreKpis({
    serviceLevelS: 20,
    shortAbandonS: 5,
    groups: { billing: { serviceLevelS: 20 }, cards: { serviceLevelS: 30 } },
  });
  k.agentGroups('A1', ['billing'], s(0));
  k.agentGroups('A2', ['billing'], s(0));
  k.agentGroups('A3', ['cards'], s(0));
  for (const a of ['A1', 'A2', 'A3']) k.agentState(a, 'available', s(0));
  k.offered('c1', 'billing', s(0));
  k.offered('d1', 'cards', s(0));
  k.answered('c1', 'A1', s(5));
  k.offered('c2', 'billing', s(10));
  k.held('c1', s(15));
  k.answered('c2', 'A2', s(20));
  k.resumed('c1', s(25));
  k.answered('d1', 'A3', s(25));
  k.offered('c8', 'billing', s(30));
  k.offered('d2', 'cards', s(50));
  k.abandoned('d2', s(54));
  k.offered('c9', 'billing', s(60));
  k.talkEnded('c1', s(65));
  k.offered('c3', 'billing', s(70));
  k.abandoned('c8', s(70));
  k.wrapUpEnded('A1', s(75));
  k.answered('c3', 'A1', s(85));
  k.offered('c4', 'billing', s(100));
  k.talkEnded('c2', s(100));
  k.wrapUpEnded('A2', s(110));
  k.agentState('A2', 'ringing', s(115));
  k.answered('c4', 'A2', s(120));
  k.talkEnded('d1', s(125));
  k.offered('d3', 'cards', s(130));
  k.wrapUpEnded('A3', s(135));
  k.talkEnded('c3', s(145));
  k.offered('c5', 'billing', s(150));
  k.abandoned('c9', s(150));
  k.wrapUpEnded('A1', s(165));
  k.answered('d3', 'A3', s(170));
  k.answered('c5', 'A1', s(175));
  k.talkEnded('c4', s(180));
  k.held('d3', s(180));
  k.offered('c6', 'billing', s(190));
  k.wrapUpEnded('A2', s(200));
  k.offered('c7', 'billing', s(200));
  k.resumed('d3', s(200));
  k.talkEnded('c5', s(205));
  k.wrapUpEnded('A1', s(210));
  k.answered('c6', 'A2', s(220));
  k.talkEnded('d3', s(230));
  k.wrapUpEnded('A3', s(250));
  k.answered('c7', 'A1', s(260));
  k.held('c7', s(270));
  k.talkEnded('c6', s(280));
  k.resumed('c7', s(290));
  k.wrapUpEnded('A2', s(290));
  k.offered('c10', 'billing', s(300));
  k.agentState('A3', 'logged-out', s(300));
  k.abandoned('c10', s(303));
  k.talkEnded('c7', s(320));
  k.wrapUpEnded('A1', s(330));
  k.agentState('A1', 'away', s(330));
  k.agentState('A1', 'logged-out', s(360));
  k.agentState('A2', 'logged-out', s(400));
  return k;
}

describe('ContactCentreKpis: one group, hand-worked', () => {
  const k = scenarioOne();
  const summary = k.summary(s(0), s(900), s(900));

  it('counts offered, answered, abandoned and short abandons', () => {
    expectKpis(summary.groups.billing, {
      offered: 10,
      answered: 7,
      abandoned: 3, // c8, c9, c10
      shortAbandoned: 1, // c10 after 3 s <= 5 s
      overflowedOut: 0,
      handled: 7,
    });
  });

  it('computes service level, ASA and average abandon time', () => {
    expectKpis(summary.groups.billing, {
      // answered within 20 s (<=): waits 5, 10, 15, 20 → 4
      answeredWithinThreshold: 4,
      // 4 / (7 answered + (3 abandoned − 1 short)) = 4 / 9 = 0.444…
      serviceLevel: 4 / 9,
      // (5 + 10 + 15 + 20 + 25 + 30 + 60) / 7 = 165 / 7 = 23.571428…
      averageSpeedOfAnswerS: 165 / 7,
      // non-short abandons only: (40 + 90) / 2 = 65
      averageAbandonTimeS: 65,
    });
  });

  it('computes AHT as talk (hold excluded) + hold + wrap-up over handled calls', () => {
    // per call talk + hold + wrap-up:
    //   c1 (60 − 10) + 10 + 10 = 70    c2 80 + 0 + 10 = 90    c3 60 + 0 + 20 = 80
    //   c4 60 + 0 + 20 = 80            c5 30 + 0 + 5 = 35     c6 60 + 0 + 10 = 70
    //   c7 (60 − 20) + 20 + 10 = 70
    // talk 50+80+60+60+30+60+40 = 380, hold 10+20 = 30, wrap-up 10+10+20+20+5+10+10 = 85
    // AHT = (380 + 30 + 85) / 7 = 495 / 7 = 70.714285…
    expectKpis(summary.groups.billing, { talkS: 380, holdS: 30, wrapUpS: 85, averageHandleTimeS: 495 / 7 });
  });

  it('computes occupancy from the agents’ state timelines, ringing counted as available', () => {
    // A1: available 0–5, 65→75 is wrap-up, 75–85, 165–175, 210–260 → 5+10+10+50 = 75
    //     on-call 5–65, 85–145, 175–205, 260–320 → 60+60+30+60 = 210; wrap-up 10+20+5+10 = 45; away 330–360 = 30
    // A2: available 0–20, 110–115, 200–220, 290–400 → 20+5+20+110 = 155; ringing 115–120 = 5
    //     on-call 20–100, 120–180, 220–280 → 80+60+60 = 200; wrap-up 10+20+10 = 40
    // occupancy = (210+200 + 45+40) / (410 + 85 + 75+155 + 5) = 495 / 730 = 0.678082…
    expectKpis(summary.groups.billing, {
      agentTimeS: { available: 230, ringing: 5, onCall: 410, wrapUp: 85, away: 30 },
      occupancy: 495 / 730,
    });
  });
});

describe('ContactCentreKpis: a second group and overall', () => {
  const k = scenarioOne();
  const summary = k.summary(s(0), s(900), s(900));

  it('uses the group’s own threshold (cards, T = 30 s)', () => {
    expectKpis(summary.groups.cards, {
      offered: 3,
      answered: 2,
      abandoned: 1,
      shortAbandoned: 1, // d2 after 4 s
      answeredWithinThreshold: 1, // d1 at 25 s <= 30; d3 at 40 s is not
      serviceLevel: 1 / 2, // 1 / (2 + (1 − 1))
      averageSpeedOfAnswerS: 32.5, // (25 + 40) / 2
      averageAbandonTimeS: null, // only a short abandon
      // d1 100 + 0 + 10 = 110; d3 (60 − 20) + 20 + 20 = 80 → 190 / 2 = 95
      talkS: 140,
      holdS: 20,
      wrapUpS: 30,
      averageHandleTimeS: 95,
      // A3: available 0–25, 135–170, 250–300 → 25+35+50 = 110; on-call 100+60 = 160; wrap-up 10+20 = 30
      agentTimeS: { available: 110, ringing: 0, onCall: 160, wrapUp: 30, away: 0 },
      occupancy: 190 / 300, // 0.6333…
    });
  });

  it('computes overall from the calls themselves, with the overall threshold (20 s)', () => {
    expectKpis(summary.overall, {
      offered: 13, // 10 + 3
      answered: 9, // 7 + 2
      abandoned: 4,
      shortAbandoned: 2,
      // within 20 s: billing's 4; d1 (25 s) is within cards' 30 s but not the overall 20 s
      answeredWithinThreshold: 4,
      serviceLevel: 4 / 11, // 4 / (9 + (4 − 2)) = 0.3636…, not an average of 4/9 and 1/2
      averageSpeedOfAnswerS: 230 / 9, // (165 + 25 + 40) / 9 = 25.555…
      averageAbandonTimeS: 65,
      averageHandleTimeS: 685 / 9, // (495 + 190) / 9 = 76.111…
      agentTimeS: { available: 340, ringing: 5, onCall: 570, wrapUp: 115, away: 30 },
      occupancy: 685 / 1030, // (570 + 115) / (570 + 115 + 340 + 5) = 0.665048…
    });
  });

  it('gives the same figures from intervals() for the one interval', () => {
    const rows = k.intervals(s(0), s(900), s(900));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.start).toBe(s(0));
    expect(rows[0]!.end).toBe(s(900));
    expect(rows[0]!.groups).toEqual(summary.groups);
    expect(rows[0]!.overall).toEqual(summary.overall);
  });

  it('holds no open calls or agents once everything has finished', () => {
    expect(k.footprint()).toEqual({ intervals: 1, openCalls: 0, agents: 0, ignoredFacts: 0 });
  });
});

/**
 * Scenario 2, across the 15-minute boundary at 900 s (I0 = [0, 900), I1 = [900, 1800)).
 *   e1 offered to billing at 890 (I0), overflowed to cards at 905 (I1), answered by A3 at 915:
 *      billing: offered, overflowed out (not answered, not in SL); cards: offered in I1, wait 915 − 905 = 10
 *      overall: offered in I0 (first offer), wait 915 − 890 = 25 > 20; talk 915–975 (60), wrap-up to 985 (10)
 *   e2 offered to billing at 895 (I0), answered by A1 at 910 (wait 15, in I0), talk 910–940 (30), wrap-up to 950 (10)
 * agents: A1 (billing) and A3 (cards) available from 800; A1 away at 950; A3 logged out at 985.
 */
function scenarioTwo(): ContactCentreKpis {
  const k = new ContactCentreKpis({ serviceLevelS: 20, shortAbandonS: 5, groups: { billing: {}, cards: { serviceLevelS: 30 } } });
  k.agentGroups('A1', ['billing'], s(800));
  k.agentGroups('A3', ['cards'], s(800));
  k.agentState('A1', 'available', s(800));
  k.agentState('A3', 'available', s(800));
  k.offered('e1', 'billing', s(890));
  k.offered('e2', 'billing', s(895));
  k.overflowed('e1', 'cards', s(905));
  k.answered('e2', 'A1', s(910));
  k.answered('e1', 'A3', s(915));
  k.talkEnded('e2', s(940));
  k.wrapUpEnded('A1', s(950));
  k.agentState('A1', 'away', s(950));
  k.talkEnded('e1', s(975));
  k.wrapUpEnded('A3', s(985));
  k.agentState('A3', 'logged-out', s(985));
  return k;
}

describe('ContactCentreKpis: interval attribution and overflow', () => {
  const k = scenarioTwo();
  const [i0, i1] = k.intervals(s(0), s(1800), s(1800));

  it('returns the two 15-minute intervals', () => {
    expect(i0!.start).toBe(s(0));
    expect(i1!.start).toBe(s(900));
    expect(i1!.end).toBe(s(1800));
  });

  it('attributes queue outcomes and handle time to the interval the call was offered in', () => {
    // billing I0: e1 (overflowed out) and e2 (answered at 910, in I1, but offered in I0)
    expectKpis(i0!.groups.billing, {
      offered: 2,
      answered: 1,
      overflowedOut: 1,
      answeredWithinThreshold: 1,
      serviceLevel: 1, // 1 / (1 + 0): the overflowed call is in neither term
      averageSpeedOfAnswerS: 15,
      handled: 1,
      averageHandleTimeS: 40, // 30 + 10
      agentTimeS: { available: 100, ringing: 0, onCall: 0, wrapUp: 0, away: 0 }, // A1 800–900
      occupancy: 0,
    });
    expectKpis(i1!.groups.billing, { offered: 0, answered: 0, serviceLevel: null, averageSpeedOfAnswerS: null, averageHandleTimeS: null });
    // cards: e1 was offered to cards at 905, so it is cards' I1
    expectKpis(i0!.groups.cards, { offered: 0, serviceLevel: null, averageHandleTimeS: null });
    expectKpis(i1!.groups.cards, {
      offered: 1,
      answered: 1,
      answeredWithinThreshold: 1, // 10 <= 30
      serviceLevel: 1,
      averageSpeedOfAnswerS: 10,
      handled: 1,
      averageHandleTimeS: 70, // 60 + 10
    });
  });

  it('counts an overflowed call once overall, in the interval of its first offer, with its whole wait', () => {
    expectKpis(i0!.overall, {
      offered: 2,
      answered: 2,
      overflowedOut: 0,
      answeredWithinThreshold: 1, // e2 15 <= 20; e1 25 > 20
      serviceLevel: 0.5,
      averageSpeedOfAnswerS: 20, // (25 + 15) / 2
      handled: 2,
      averageHandleTimeS: 55, // (70 + 40) / 2
    });
    expectKpis(i1!.overall, { offered: 0, answered: 0, serviceLevel: null });
  });

  it('splits agent time at the boundary (time-based, not offer-based)', () => {
    // billing I1: A1 available 900–910 (10), on-call 910–940 (30), wrap-up 940–950 (10), away 950–1800 (850, open, up to now)
    expectKpis(i1!.groups.billing, {
      agentTimeS: { available: 10, ringing: 0, onCall: 30, wrapUp: 10, away: 850 },
      occupancy: 0.8, // 40 / 50
    });
    // cards I0: A3 available 800–900; I1: available 900–915 (15), on-call 915–975 (60), wrap-up 975–985 (10)
    expectKpis(i0!.groups.cards, { agentTimeS: { available: 100, ringing: 0, onCall: 0, wrapUp: 0, away: 0 }, occupancy: 0 });
    expectKpis(i1!.groups.cards, { agentTimeS: { available: 15, ringing: 0, onCall: 60, wrapUp: 10, away: 0 }, occupancy: 70 / 85 });
    // overall I1: 110 / (110 + 25) = 0.814814…
    expectKpis(i1!.overall, { agentTimeS: { available: 25, ringing: 0, onCall: 90, wrapUp: 20, away: 850 }, occupancy: 110 / 135 });
  });

  it('widens a range to whole intervals', () => {
    const mid = k.summary(s(950), s(1000), s(1800));
    expect(mid.from).toBe(s(900));
    expect(mid.to).toBe(s(1800));
    expectKpis(mid.groups.cards, { offered: 1, answered: 1 });
    expectKpis(mid.overall, { offered: 0 });
    const both = k.summary(s(0), s(1800), s(1800));
    expectKpis(both.overall, { offered: 2, answered: 2, serviceLevel: 0.5 });
    expectKpis(both.groups.billing, { offered: 2, answered: 1, overflowedOut: 1 });
    expectKpis(both.groups.cards, { offered: 1, answered: 1 });
  });

  it('gives the same result when fed the same facts through apply()', () => {
    const facts: AcdFact[] = [
      { kind: 'agent-groups', agentId: 'A1', groupIds: ['billing'], at: s(800) },
      { kind: 'agent-groups', agentId: 'A3', groupIds: ['cards'], at: s(800) },
      { kind: 'agent-state', agentId: 'A1', state: 'available', at: s(800) },
      { kind: 'agent-state', agentId: 'A3', state: 'available', at: s(800) },
      { kind: 'offered', callId: 'e1', groupId: 'billing', at: s(890) },
      { kind: 'offered', callId: 'e2', groupId: 'billing', at: s(895) },
      { kind: 'overflowed', callId: 'e1', toGroupId: 'cards', at: s(905) },
      { kind: 'answered', callId: 'e2', agentId: 'A1', at: s(910) },
      { kind: 'answered', callId: 'e1', agentId: 'A3', at: s(915) },
      { kind: 'talk-ended', callId: 'e2', at: s(940) },
      { kind: 'wrap-up-ended', agentId: 'A1', at: s(950) },
      { kind: 'agent-state', agentId: 'A1', state: 'away', at: s(950) },
      { kind: 'talk-ended', callId: 'e1', at: s(975) },
      { kind: 'wrap-up-ended', agentId: 'A3', at: s(985) },
      { kind: 'agent-state', agentId: 'A3', state: 'logged-out', at: s(985) },
    ];
    const viaApply = new ContactCentreKpis({ serviceLevelS: 20, shortAbandonS: 5, groups: { billing: {}, cards: { serviceLevelS: 30 } } });
    for (const f of facts) viaApply.apply(f);
    expect(viaApply.intervals(s(0), s(1800), s(1800))).toEqual(k.intervals(s(0), s(1800), s(1800)));
  });
});

describe('ContactCentreKpis: zero denominators and thresholds', () => {
  it('reports null ratios, not 0 or 1, when there is nothing to divide by', () => {
    const k = new ContactCentreKpis({ groups: { billing: {} } });
    const { groups, overall } = k.summary(s(0), s(900), s(900));
    for (const kpis of [groups.billing, overall]) {
      expectKpis(kpis, {
        offered: 0,
        serviceLevel: null,
        averageSpeedOfAnswerS: null,
        averageAbandonTimeS: null,
        averageHandleTimeS: null,
        occupancy: null,
      });
    }
  });

  it('leaves service level null when the only outcome is a short abandon', () => {
    const k = new ContactCentreKpis({ shortAbandonS: 5 });
    k.offered('z', 'billing', s(0));
    k.abandoned('z', s(5)); // exactly 5 s: short (<=)
    expectKpis(k.summary(s(0), s(900), s(900)).groups.billing, {
      offered: 1,
      abandoned: 1,
      shortAbandoned: 1,
      serviceLevel: null, // 0 / (0 + (1 − 1))
      averageAbandonTimeS: null,
    });
  });

  it('takes a call the box ended itself out of the queue, neither answered nor abandoned', () => {
    const k = new ContactCentreKpis({ serviceLevelS: 20, shortAbandonS: 5 });
    k.offered('kept', 'billing', s(0));
    k.offered('sent-away', 'billing', s(1));
    expect(k.snapshot(s(30)).overall.waiting).toBe(2);
    k.dequeued('sent-away', s(60)); // longest wait reached: "please call again later"
    k.abandoned('kept', s(70));
    expect(k.snapshot(s(80)).overall.waiting).toBe(0);
    expectKpis(k.summary(s(0), s(900), s(900)).groups.billing, { offered: 2, answered: 0, abandoned: 1, serviceLevel: 0 });
    k.dequeued('sent-away', s(90)); // a second one does not fit: ignored
    expect(k.footprint()).toMatchObject({ openCalls: 0, ignoredFacts: 1 });
  });

  it('counts a wait of exactly T as within T and T + 1 ms as not', () => {
    const k = new ContactCentreKpis({ serviceLevelS: 20 });
    k.offered('y1', 'billing', s(0));
    k.offered('y2', 'billing', s(0));
    k.answered('y1', 'A1', s(20));
    k.answered('y2', 'A2', s(20) + 1);
    expectKpis(k.summary(s(0), s(900), s(900)).groups.billing, {
      answeredWithinThreshold: 1,
      serviceLevel: 0.5,
      averageSpeedOfAnswerS: 20.0005, // (20 + 20.001) / 2
      handled: 0, // still talking: no handle time yet
      averageHandleTimeS: null,
    });
  });

  it('leaves occupancy null when agents were only away', () => {
    const k = new ContactCentreKpis({});
    k.agentGroups('A1', ['billing'], s(0));
    k.agentState('A1', 'away', s(0));
    k.agentState('A1', 'logged-out', s(600));
    expectKpis(k.summary(s(0), s(900), s(900)).groups.billing, {
      agentTimeS: { available: 0, ringing: 0, onCall: 0, wrapUp: 0, away: 600 },
      occupancy: null,
    });
  });

  it('leaves service level null in a group whose only call overflowed out', () => {
    const k = new ContactCentreKpis({});
    k.offered('x', 'billing', s(0));
    k.overflowed('x', 'cards', s(30));
    expectKpis(k.summary(s(0), s(900), s(900)).groups.billing, { offered: 1, overflowedOut: 1, serviceLevel: null });
  });

  it('ignores facts about unknown or finished calls and counts them', () => {
    const k = new ContactCentreKpis({});
    k.answered('ghost', 'A1', s(1));
    k.offered('w', 'billing', s(0));
    k.abandoned('w', s(10));
    k.abandoned('w', s(11));
    expect(k.footprint().ignoredFacts).toBe(2);
    expectKpis(k.summary(s(0), s(900), s(900)).groups.billing, { offered: 1, abandoned: 1, answered: 0 });
  });
});

/**
 * Scenario 3, real time at 150 s. Agents: agent-1, agent-2 in billing; agent-3 in cards;
 * agent-4 in both; agent-5 in cards. All available at 0; agent-3 away at 50; agent-5 logged out at 60.
 *   call-3 offered to billing at 90, overflowed to cards at 120 (still waiting)
 *   call-1 offered to billing at 100, answered by agent-1 at 140 (wait 40)
 *   call-2 offered to billing at 130 (still waiting); agent-4 ringing at 145.
 */
describe('ContactCentreKpis: real time', () => {
  const k = new ContactCentreKpis({ serviceLevelS: 20, groups: { billing: {}, cards: { serviceLevelS: 30 } } });
  k.agentGroups('agent-1', ['billing'], s(0));
  k.agentGroups('agent-2', ['billing'], s(0));
  k.agentGroups('agent-3', ['cards'], s(0));
  k.agentGroups('agent-4', ['billing', 'cards'], s(0));
  k.agentGroups('agent-5', ['cards'], s(0));
  for (const a of ['agent-1', 'agent-2', 'agent-3', 'agent-4', 'agent-5']) k.agentState(a, 'available', s(0));
  k.agentState('agent-3', 'away', s(50));
  k.agentState('agent-5', 'logged-out', s(60));
  k.offered('call-3', 'billing', s(90));
  k.offered('call-1', 'billing', s(100));
  k.overflowed('call-3', 'cards', s(120));
  k.offered('call-2', 'billing', s(130));
  k.answered('call-1', 'agent-1', s(140));
  k.agentState('agent-4', 'ringing', s(145));
  const snap = k.snapshot(s(150));

  it('reports waiting calls and the longest wait per group and overall', () => {
    expect(snap.groups.billing!.waiting).toBe(1); // call-2
    expect(snap.groups.billing!.longestWaitingS).toBe(20); // 150 − 130
    expect(snap.groups.cards!.waiting).toBe(1); // call-3
    expect(snap.groups.cards!.longestWaitingS).toBe(30); // 150 − 120 (time in cards' queue)
    expect(snap.overall.waiting).toBe(2);
    expect(snap.overall.longestWaitingS).toBe(60); // call-3: 150 − 90 (the caller's whole wait)
  });

  it('counts agents by state; an agent in two groups counts in each, once overall', () => {
    expect(snap.groups.billing!.agents).toEqual({ available: 1, ringing: 1, 'on-call': 1, 'wrap-up': 0, away: 0 });
    expect(snap.groups.cards!.agents).toEqual({ available: 0, ringing: 1, 'on-call': 0, 'wrap-up': 0, away: 1 });
    expect(snap.overall.agents).toEqual({ available: 1, ringing: 1, 'on-call': 1, 'wrap-up': 0, away: 1 });
  });

  it('gives the current interval’s figures up to now, open states included', () => {
    expect(snap.interval).toEqual({ start: s(0), end: s(900) });
    // billing: agent-1 available 0–140 (140), on-call 140–150 (10); agent-2 available 150;
    //          agent-4 available 0–145 (145), ringing 145–150 (5) → 10 / (10 + 435 + 5) = 1/45
    expectKpis(snap.groups.billing!.currentInterval, {
      offered: 3, // call-3, call-1, call-2
      answered: 1,
      overflowedOut: 1,
      answeredWithinThreshold: 0, // call-1 waited 40 s
      serviceLevel: 0, // 0 / 1: a real 0, not null
      averageSpeedOfAnswerS: 40,
      agentTimeS: { available: 435, ringing: 5, onCall: 10, wrapUp: 0, away: 0 },
      occupancy: 1 / 45,
    });
    // cards: agent-3 available 50, away 100; agent-4 available 145, ringing 5; agent-5 available 60
    expectKpis(snap.groups.cards!.currentInterval, {
      offered: 1,
      answered: 0,
      serviceLevel: null,
      agentTimeS: { available: 255, ringing: 5, onCall: 0, wrapUp: 0, away: 100 },
      occupancy: 0,
    });
    // overall: available 140+150+145+50+60 = 545, ringing 5, on-call 10, away 100 → 10 / 560
    expectKpis(snap.overall.currentInterval, {
      offered: 3,
      answered: 1,
      serviceLevel: 0,
      agentTimeS: { available: 545, ringing: 5, onCall: 10, wrapUp: 0, away: 100 },
      occupancy: 1 / 56,
    });
  });

  it('turns the snapshot into metric samples labelled by group and state only', () => {
    const samples = kpiSamples(snap);
    const find = (name: string, labels: Record<string, string>) =>
      samples.find((x) => x.name === name && JSON.stringify(x.labels) === JSON.stringify(labels))?.value;
    expect(find('edgevox_acd_longest_waiting_seconds', { scope: 'group', group: 'billing' })).toBe(20);
    expect(find('edgevox_acd_longest_waiting_seconds', { scope: 'overall' })).toBe(60);
    expect(find('edgevox_acd_agents', { scope: 'group', group: 'billing', state: 'on-call' })).toBe(1);
    expect(find('edgevox_acd_agents', { scope: 'overall', state: 'away' })).toBe(1);
    expect(find('edgevox_acd_interval_offered_calls', { scope: 'group', group: 'billing' })).toBe(3);
    expect(find('edgevox_acd_interval_service_level_ratio', { scope: 'group', group: 'billing' })).toBe(0);
    // a null ratio is left out, not exported as 0
    expect(find('edgevox_acd_interval_service_level_ratio', { scope: 'group', group: 'cards' })).toBeUndefined();
    for (const x of samples) {
      expect(x.name).toMatch(/^edgevox_acd_[a-z_]+$/);
      expect(Object.keys(x.labels).every((l) => ['scope', 'group', 'state'].includes(l))).toBe(true);
    }
    expect(JSON.stringify(samples)).not.toMatch(/call-|agent-/);
    expect(JSON.stringify(snap)).not.toMatch(/call-|agent-/);
  });

  it('reports null longest wait with nobody waiting, and 0 in the samples', () => {
    const idle = new ContactCentreKpis({ groups: { billing: {} } }).snapshot(s(10));
    expect(idle.groups.billing!.waiting).toBe(0);
    expect(idle.groups.billing!.longestWaitingS).toBeNull();
    const samples = kpiSamples(idle);
    expect(samples.find((x) => x.name === 'edgevox_acd_longest_waiting_seconds' && x.labels.group === 'billing')?.value).toBe(0);
  });
});

describe('ContactCentreKpis: bounded memory', () => {
  it('keeps the last N intervals, drops older ones and the calls offered in them', () => {
    const k = new ContactCentreKpis({ intervalMs: 900_000, maxIntervals: 4 });
    k.agentState('A9', 'available', s(0)); // open until 5399 s: spans all six intervals
    k.offered('old', 'billing', s(5)); // interval 0, never resolved
    for (let i = 0; i < 6; i++) {
      k.offered(`m${i}`, 'billing', s(i * 900 + 10));
      k.abandoned(`m${i}`, s(i * 900 + 50)); // wait 40
      expect(k.footprint().intervals).toBeLessThanOrEqual(4);
    }
    k.agentState('A9', 'logged-out', s(5399));
    // newest interval is 5 (4500–5400) → kept: 2, 3, 4, 5; 'old' went with interval 0 (dropped at interval 4)
    expect(k.footprint()).toEqual({ intervals: 4, openCalls: 0, agents: 0, ignoredFacts: 0 });
    k.answered('old', 'A1', s(5399));
    expect(k.footprint()).toEqual({ intervals: 4, openCalls: 0, agents: 0, ignoredFacts: 1 }); // an ignored fact changes nothing

    const rows = k.intervals(s(0), s(5400), s(5399));
    expect(rows.map((r) => (r.start - T0) / 1000)).toEqual([1800, 2700, 3600, 4500]);
    for (const r of rows) expectKpis(r.groups.billing, { offered: 1, abandoned: 1, shortAbandoned: 0, averageAbandonTimeS: 40 });
    // A9's long available stretch was folded only into kept intervals: 900 s each, 899 s in the last
    expect(rows.map((r) => r.overall.agentTimeS.available)).toEqual([900, 900, 900, 899]);
    expectKpis(k.summary(s(0), s(5400), s(5399)).overall, { offered: 4, abandoned: 4 });
  });
});

describe('ContactCentreKpis: a call transferred by its agent', () => {
  /**
   * t1 offered to billing at 0, answered by A1 at 10, hold 20–30 (10), transferred at 40 (A1 talk
   * 30 − 10 = 20, hold 10); A2 answers at 50, talk ends 110 (60), wrap-up to 120 (10). One call:
   * answered once (wait 10), handled once, talk 80, hold 10, wrap-up 10 → AHT 100; transferred 1.
   * t2 offered at 0, answered by A1 at 5, transferred at 25 (talk 20), the caller hangs up at 35
   * before anyone answers: handled (talk 20), not an abandon.
   */
  const k = new ContactCentreKpis({ serviceLevelS: 20, shortAbandonS: 5, groups: { billing: {} } });
  k.offered('t1', 'billing', s(0));
  k.offered('t2', 'billing', s(0));
  k.answered('t2', 'A3', s(5));
  k.answered('t1', 'A1', s(10));
  k.held('t1', s(20));
  k.resumed('t1', s(30));
  k.transferred('t1', s(40));
  k.answered('t1', 'A2', s(50));
  k.transferred('t2', s(25));
  k.abandoned('t2', s(35));
  k.talkEnded('t1', s(110));
  k.wrapUpEnded('A2', s(120));

  it('counts the call once answered and once handled, with both agents’ talk and hold, and the transfer', () => {
    const r = k.summary(s(0), s(900), s(120));
    expectKpis(r.groups['billing'], {
      offered: 2,
      answered: 2,
      abandoned: 0,
      transferred: 2,
      handled: 2,
      talkS: 100,
      holdS: 10,
      wrapUpS: 10,
    });
    expectKpis(r.overall, { answered: 2, transferred: 2, handled: 2, averageHandleTimeS: 60 });
    expect(k.footprint()).toMatchObject({ openCalls: 0, ignoredFacts: 0 });
  });

  it('moves the transferring agent to wrap-up at the transfer', () => {
    const snap = k.snapshot(s(45));
    expect(snap.overall.agents['wrap-up']).toBeGreaterThanOrEqual(1);
    expect(kpiSamples(snap).some((x) => x.name === 'edgevox_acd_interval_transferred_calls' && x.value === 2)).toBe(true);
  });
});
