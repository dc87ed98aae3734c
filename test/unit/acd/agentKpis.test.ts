/**
 * The per-agent fold of the contact-centre KPI engine (`agentFigures`): two agents, answered and
 * unanswered rings, handle time by the KPI definition (talk without hold + hold + wrap-up), a
 * transfer, and the agents' sums equal to the group's figures. Times are seconds after T0.
 */
import { describe, expect, it } from 'vitest';
import { ContactCentreKpis } from '../../../appliance/acd/kpis.js';
import { agentKpiCsv } from '../../../appliance/acd/kpiCsv.js';

/** A multiple of 15 minutes. */
const T0 = 1_800_000_000_000;
const s = (seconds: number): number => T0 + seconds * 1000;

/**
 * Group "billing", agents A1 and A2 (both members).
 *   c1 offered 0; rings A1 2–5 (3 s), answered by A1 at 5; hold 15–25; talk ends 65; wrap-up to 75
 *      → A1: talk 65 − 5 − 10 = 50, hold 10, wrap-up 10 = handle 70
 *   c2 offered 10; rings A2 11–21, no answer (A2 back to available); rings A1 80–84, answered at 84;
 *      talk ends 124, wrap-up to 134 → A1: talk 40, wrap-up 10 = handle 50; answer times 3 and 4
 *   c3 offered 30; rings A2 31–33, answered; transferred at 53 (talk 20); rings A1 140–141,
 *      answered 141; talk ends 161; wrap-up to 171 → A2: transferred 1, talk 20 (not handled);
 *      A1: talk 20, wrap-up 10, handled 1
 *   c4 offered 40; abandoned 50
 */
function scenario(): ContactCentreKpis {
  const k = new ContactCentreKpis({ groups: { billing: {} } });
  k.agentGroups('A1', ['billing'], s(0));
  k.agentGroups('A2', ['billing'], s(0));
  k.agentState('A1', 'available', s(0));
  k.agentState('A2', 'available', s(0));
  k.offered('c1', 'billing', s(0));
  k.agentState('A1', 'ringing', s(2));
  k.answered('c1', 'A1', s(5));
  k.offered('c2', 'billing', s(10));
  k.agentState('A2', 'ringing', s(11));
  k.held('c1', s(15));
  k.agentState('A2', 'available', s(21));
  k.resumed('c1', s(25));
  k.offered('c3', 'billing', s(30));
  k.agentState('A2', 'ringing', s(31));
  k.answered('c3', 'A2', s(33));
  k.offered('c4', 'billing', s(40));
  k.abandoned('c4', s(50));
  k.transferred('c3', s(53));
  k.talkEnded('c1', s(65));
  k.wrapUpEnded('A1', s(75));
  k.agentState('A1', 'ringing', s(80));
  k.agentState('A1', 'on-call', s(84));
  k.answered('c2', 'A1', s(84));
  k.talkEnded('c2', s(124));
  k.wrapUpEnded('A1', s(134));
  k.agentState('A1', 'ringing', s(140));
  k.answered('c3', 'A1', s(141));
  k.talkEnded('c3', s(161));
  k.wrapUpEnded('A1', s(171));
  return k;
}

describe('per-agent figures', () => {
  it('folds rings, answers, handle time and transfers per agent', () => {
    const r = scenario().agentFigures(s(0), s(900));
    expect(r.from).toBe(T0);
    expect(r.to).toBe(s(900));
    expect(r.agents.map((a) => a.agentId)).toEqual(['A1', 'A2']);
    const [a1, a2] = r.agents;
    expect(a1).toEqual({
      agentId: 'A1',
      rung: 3,
      answered: 2,
      notAnswered: 0,
      transferred: 0,
      handled: 3,
      talkS: 50 + 40 + 20,
      holdS: 10,
      wrapUpS: 30,
      handleTimeS: 70 + 50 + 30,
      averageHandleTimeS: 150 / 3,
      averageAnswerTimeS: (3 + 4 + 1) / 3,
    });
    expect(a2).toEqual({
      agentId: 'A2',
      rung: 2,
      answered: 1,
      notAnswered: 1,
      transferred: 1,
      handled: 0,
      talkS: 20,
      holdS: 0,
      wrapUpS: 0,
      handleTimeS: 20,
      averageHandleTimeS: null,
      averageAnswerTimeS: 2,
    });
  });

  it('sums to the group figures, with the same handle-time definition', () => {
    const k = scenario();
    const group = k.summary(s(0), s(900)).groups.billing;
    const agents = k.agentFigures(s(0), s(900), 'billing').agents;
    const sum = (f: (a: (typeof agents)[number]) => number) => agents.reduce((n, a) => n + f(a), 0);
    expect(sum((a) => a.answered)).toBe(group?.answered);
    expect(sum((a) => a.handled)).toBe(group?.handled);
    expect(sum((a) => a.transferred)).toBe(group?.transferred);
    expect(sum((a) => a.talkS)).toBe(group?.talkS);
    expect(sum((a) => a.holdS)).toBe(group?.holdS);
    expect(sum((a) => a.wrapUpS)).toBe(group?.wrapUpS);
    expect(group?.averageHandleTimeS).toBe(sum((a) => a.handleTimeS) / sum((a) => a.handled));
    // another group's view has none of these agents' calls or rings
    expect(k.agentFigures(s(0), s(900), 'cards').agents).toEqual([]);
  });

  it('a transferred call that ends before the next answer is handled by the agent who transferred it', () => {
    const k = new ContactCentreKpis();
    k.offered('c1', 'g', s(0));
    k.answered('c1', 'A1', s(1));
    k.transferred('c1', s(11));
    k.abandoned('c1', s(20));
    const [a1] = k.agentFigures(s(0), s(900)).agents;
    expect(a1).toMatchObject({ agentId: 'A1', answered: 1, transferred: 1, handled: 1, talkS: 10 });
    expect(k.summary(s(0), s(900)).overall.handled).toBe(1);
  });

  it('saves and restores the per-agent sums with the interval totals', () => {
    const k = scenario();
    const saved = JSON.parse(JSON.stringify(k.exportTotals(s(0), s(900), s(200)))) as ReturnType<ContactCentreKpis['exportTotals']>;
    expect(Object.keys(saved[0]?.agents ?? {}).sort()).toEqual(['A1', 'A2']);
    const restored = new ContactCentreKpis({ groups: { billing: {} } });
    expect(restored.restoreTotals(saved)).toBe(1);
    expect(restored.agentFigures(s(0), s(900))).toEqual(k.agentFigures(s(0), s(900)));
    expect(restored.agentFigures(s(0), s(900), 'billing')).toEqual(k.agentFigures(s(0), s(900), 'billing'));
  });

  it('writes a CSV row per agent with formula escaping', () => {
    const csv = agentKpiCsv(scenario().agentFigures(s(0), s(900)));
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe(
      'from,to,group,agent,rung,answered,notAnswered,transferred,handled,handleTimeS,averageHandleTimeS,averageAnswerTimeS',
    );
    expect(lines[2]).toBe(`${new Date(T0).toISOString()},${new Date(s(900)).toISOString()},overall,A2,2,1,1,1,0,20,,2`);
    const k = new ContactCentreKpis();
    k.offered('c1', 'g', s(0));
    k.answered('c1', '=cmd', s(1));
    expect(agentKpiCsv(k.agentFigures(s(0), s(900)))).toContain("'=cmd");
  });
});
