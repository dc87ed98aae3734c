import { describe, expect, it } from 'vitest';
import {
  computePriority,
  decideRoute,
  dequeueDecision,
  estimateWaitMs,
  groupForIntent,
  pickQueuedCall,
  selectAgent,
} from '../../../appliance/routing/engine.js';
import {
  DEFAULT_RULES,
  type Agent,
  type QueuedCall,
  type RouteRequest,
  type RoutingRules,
  type RoutingSnapshot,
  type SkillGroup,
} from '../../../appliance/routing/types.js';

const NOW = 1_000_000;
const rules: RoutingRules = {
  ...DEFAULT_RULES,
  minIntentConfidence: 0.3,
  defaultGroup: 'general',
  complaintIntents: ['request_refund'],
  avgHandleMs: 60_000,
};

const group = (id: string, intents: string[], extra: Partial<SkillGroup> = {}): SkillGroup => ({
  id,
  name: id,
  intents,
  adjacent: [],
  overflow: { maxWaitMs: 120_000, action: 'none' },
  ...extra,
});
const agent = (id: string, skills: [string, number][], extra: Partial<Agent> = {}): Agent => ({
  id,
  name: id,
  sipUri: `sip:${id}@agents.test`,
  skills: skills.map(([g, level]) => ({ group: g, level })),
  senior: false,
  state: 'available',
  stateSince: NOW - 60_000,
  ...extra,
});
const req = (intent: string | null, extra: Partial<RouteRequest> = {}): RouteRequest => ({
  callId: 'c1',
  intent: intent === null ? null : { intent, confidence: 0.9, outOfScope: false },
  emotion: null,
  profile: null,
  ...extra,
});
const snap = (groups: SkillGroup[], agents: Agent[], queues: QueuedCall[] = [], r: RoutingRules = rules): RoutingSnapshot => ({
  groups,
  agents,
  queues,
  rules: r,
  nowMs: NOW,
});
const angryEmotion = { category: 'angry', angry: 0.8, arousal: 0.7, valence: -0.6, trend: 'steady' as const };

const GROUPS = [group('cards', ['lost_or_stolen_card', 'card_arrival']), group('payments', ['request_refund']), group('general', [])];

describe('groupForIntent', () => {
  it('maps an in-scope intent to its group', () => {
    expect(groupForIntent(req('card_arrival'), GROUPS, rules).groupId).toBe('cards');
  });
  it('sends out-of-scope, low-confidence, unmapped and missing intents to the default group, saying why', () => {
    const oos = groupForIntent(req(null, { intent: { intent: 'card_arrival', confidence: 0.9, outOfScope: true } }), GROUPS, rules);
    expect(oos).toMatchObject({ groupId: 'general', reason: { code: 'intent.out-of-scope' } });
    const low = groupForIntent(req(null, { intent: { intent: 'card_arrival', confidence: 0.1, outOfScope: false } }), GROUPS, rules);
    expect(low).toMatchObject({ groupId: 'general', reason: { code: 'intent.low-confidence' } });
    expect(groupForIntent(req('atm_support'), GROUPS, rules).reason.code).toBe('intent.unmapped');
    expect(groupForIntent(req(null), GROUPS, rules).reason.code).toBe('intent.none');
  });
});

describe('group-mass rule', () => {
  const top = [
    { intent: 'card_arrival', confidence: 0.12 },
    { intent: 'request_refund', confidence: 0.11 },
    { intent: 'lost_or_stolen_card', confidence: 0.1 },
  ];
  const uncertain = req(null, { intent: { intent: 'card_arrival', confidence: 0.12, outOfScope: true, top } });
  it('sends an uncertain call to the group whose intents together reach the threshold', () => {
    const r = groupForIntent(uncertain, GROUPS, { ...rules, groupMassThreshold: 0.2 });
    expect(r).toMatchObject({ groupId: 'cards', reason: { code: 'intent.group-mass' } });
    expect(r.reason.text).toContain('0.22');
  });
  it('is off at 0 and below the threshold', () => {
    expect(groupForIntent(uncertain, GROUPS, rules).reason.code).toBe('intent.out-of-scope');
    expect(groupForIntent(uncertain, GROUPS, { ...rules, groupMassThreshold: 0.3 }).reason.code).toBe('intent.out-of-scope');
  });
});

describe('computePriority', () => {
  it('adds the weights of VIP, repeat caller, complaint risk, anger and escalation', () => {
    const p = computePriority(
      req('request_refund', {
        profile: { vip: true, repeatCaller: true, unresolvedRepeats: 1, churnRisk: 0.1 },
        emotion: { ...angryEmotion, trend: 'escalating' },
      }),
      rules,
    );
    const w = rules.priority;
    expect(p.priority).toBe(w.vip + w.repeatCaller + w.complaintRisk + w.angry + w.escalating);
    expect(p.needsSenior).toBe(true);
    expect(p.reasons.map((r) => r.code)).toEqual([
      'priority.vip',
      'priority.repeat',
      'priority.complaint-risk',
      'priority.angry',
      'priority.escalating',
    ]);
  });
  it('treats a high churn risk as complaint risk and a calm caller as normal', () => {
    expect(
      computePriority(req('card_arrival', { profile: { vip: false, repeatCaller: false, unresolvedRepeats: 0, churnRisk: 0.9 } }), rules)
        .complaintRisk,
    ).toBe(true);
    const calm = computePriority(req('card_arrival', { emotion: { ...angryEmotion, category: 'neutral', angry: 0.1 } }), rules);
    expect(calm).toMatchObject({ priority: 0, needsSenior: false, reasons: [{ code: 'priority.normal' }] });
  });
});

describe('selectAgent', () => {
  const agents = [
    agent('junior', [['cards', 2]], { stateSince: NOW - 10_000 }),
    agent('mid-old', [['cards', 3]], { stateSince: NOW - 90_000 }),
    agent('mid-new', [['cards', 3]], { stateSince: NOW - 5_000 }),
    agent('senior', [['cards', 5]], { stateSince: NOW - 1_000 }),
    agent('busy', [['cards', 5]], { state: 'busy' }),
    agent('other', [['payments', 5]]),
  ];
  it('gives a normal call the least skilled adequate agent, ties to the longest idle', () => {
    expect(selectAgent('cards', agents, false, rules, NOW).agent?.id).toBe('junior');
    expect(selectAgent('cards', agents.slice(1), false, rules, NOW).agent?.id).toBe('mid-old');
  });
  it('gives an angry caller the most skilled senior', () => {
    const r = selectAgent('cards', agents, true, rules, NOW);
    expect(r.agent?.id).toBe('senior');
    expect(r.reason.code).toBe('agent.senior');
  });
  it('falls back to the most skilled agent when no senior is free, unless seniors are required', () => {
    const noSenior = agents.filter((a) => a.id !== 'senior');
    expect(selectAgent('cards', noSenior, true, rules, NOW)).toMatchObject({
      agent: { id: 'mid-old' },
      reason: { code: 'agent.senior-fallback' },
    });
    expect(selectAgent('cards', noSenior, true, { ...rules, seniorRequired: true }, NOW)).toMatchObject({
      agent: null,
      reason: { code: 'agent.no-senior' },
    });
  });
  it('counts the senior flag as senior whatever the level, and ignores busy, wrap-up and offline agents', () => {
    const flagged = [
      agent('flag', [['cards', 1]], { senior: true }),
      agent('w', [['cards', 5]], { state: 'wrap-up' }),
      agent('o', [['cards', 5]], { state: 'offline' }),
    ];
    expect(selectAgent('cards', flagged, true, rules, NOW).agent?.id).toBe('flag');
    expect(selectAgent('cards', flagged.slice(1), false, rules, NOW).agent).toBeNull();
  });
});

describe('estimateWaitMs', () => {
  it('counts calls queued ahead at the same or higher priority, per staffed agent', () => {
    const agents = [
      agent('a', [['cards', 3]], { state: 'busy' }),
      agent('b', [['cards', 3]], { state: 'busy' }),
      agent('c', [['cards', 3]], { state: 'offline' }),
    ];
    const q = (id: string, priority: number): QueuedCall => ({
      callId: id,
      groupId: 'cards',
      priority,
      needsSenior: false,
      enqueuedAt: NOW,
    });
    const s = snap(GROUPS, agents, [q('q1', 10), q('q2', 0), q('q3', 0), q('q4', 50)]);
    expect(estimateWaitMs('cards', 0, s)).toBe(Math.ceil(5 / 2) * 60_000);
    expect(estimateWaitMs('cards', 20, s)).toBe(Math.ceil(2 / 2) * 60_000);
    expect(estimateWaitMs('payments', 0, s)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('decideRoute', () => {
  it('routes to a free agent of the intent group and explains why', () => {
    const d = decideRoute(req('lost_or_stolen_card'), snap(GROUPS, [agent('ada', [['cards', 3]]), agent('ben', [['payments', 3]])]));
    expect(d).toMatchObject({
      action: 'agent',
      requestedGroupId: 'cards',
      groupId: 'cards',
      agentId: 'ada',
      targetUri: 'sip:ada@agents.test',
      overflow: null,
    });
    expect(d.reasons.map((r) => r.code)).toEqual(['intent.group', 'priority.normal', 'agent.longest-idle']);
    expect(d.summary).toContain('intent lost_or_stolen_card');
  });
  it('routes an angry caller to a senior agent', () => {
    const d = decideRoute(
      req('card_arrival', { emotion: angryEmotion }),
      snap(GROUPS, [agent('reg', [['cards', 2]]), agent('sen', [['cards', 5]])]),
    );
    expect(d).toMatchObject({ action: 'agent', agentId: 'sen', needsSenior: true });
    expect(d.reasons.map((r) => r.code)).toContain('senior.needed');
  });
  it('queues when nobody is free and the wait is acceptable', () => {
    const d = decideRoute(req('card_arrival'), snap(GROUPS, [agent('a', [['cards', 3]], { state: 'busy' })]));
    expect(d).toMatchObject({ action: 'queue', groupId: 'cards', agentId: null, estimatedWaitMs: 60_000 });
  });
  it('overflows to a free agent of an adjacent group when the wait is too long', () => {
    const groups = [
      group('cards', ['card_arrival'], { adjacent: ['payments'], overflow: { maxWaitMs: 30_000, action: 'adjacent' } }),
      group('payments', []),
      group('general', []),
    ];
    const d = decideRoute(
      req('card_arrival'),
      snap(groups, [agent('a', [['cards', 3]], { state: 'busy' }), agent('p', [['payments', 4]])]),
    );
    expect(d).toMatchObject({
      action: 'agent',
      requestedGroupId: 'cards',
      groupId: 'payments',
      agentId: 'p',
      overflow: { from: 'cards', action: 'adjacent' },
    });
  });
  it('queues in the adjacent group with the shortest acceptable wait when no adjacent agent is free', () => {
    const groups = [
      group('cards', ['card_arrival'], { adjacent: ['x', 'y'], overflow: { maxWaitMs: 30_000, action: 'adjacent' } }),
      group('x', [], { overflow: { maxWaitMs: 600_000, action: 'none' } }),
      group('y', [], { overflow: { maxWaitMs: 600_000, action: 'none' } }),
      group('general', []),
    ];
    const busy = (id: string, g: string) => agent(id, [[g, 3]], { state: 'busy' });
    const queued = (id: string, g: string): QueuedCall => ({ callId: id, groupId: g, priority: 0, needsSenior: false, enqueuedAt: NOW });
    const d = decideRoute(req('card_arrival'), snap(groups, [busy('a', 'cards'), busy('x1', 'x'), busy('y1', 'y')], [queued('q', 'x')]));
    expect(d).toMatchObject({ action: 'queue', groupId: 'y', estimatedWaitMs: 60_000, overflow: { from: 'cards', action: 'adjacent' } });
  });
  it('offers a callback or self-service on overflow, but keeps a VIP in the queue', () => {
    const cb = [group('cards', ['card_arrival'], { overflow: { maxWaitMs: 0, action: 'callback' } }), group('general', [])];
    const busy = [agent('a', [['cards', 3]], { state: 'busy' })];
    expect(decideRoute(req('card_arrival'), snap(cb, busy))).toMatchObject({ action: 'callback', overflow: { action: 'callback' } });
    const ss = [
      group('cards', ['card_arrival'], { overflow: { maxWaitMs: 0, action: 'self-service', selfServiceUri: 'sip:ivr@bot.test' } }),
      group('general', []),
    ];
    expect(decideRoute(req('card_arrival'), snap(ss, busy))).toMatchObject({ action: 'self-service', targetUri: 'sip:ivr@bot.test' });
    const vip = req('card_arrival', { profile: { vip: true, repeatCaller: false, unresolvedRepeats: 0, churnRisk: 0 } });
    const d = decideRoute(vip, snap(ss, busy));
    expect(d.action).toBe('queue');
    expect(d.reasons.map((r) => r.code)).toContain('overflow.vip-kept');
  });
  it('overflows at once when nobody in the group is staffed', () => {
    const groups = [group('cards', ['card_arrival'], { overflow: { maxWaitMs: 600_000, action: 'callback' } }), group('general', [])];
    expect(decideRoute(req('card_arrival'), snap(groups, [])).action).toBe('callback');
  });
  it('returns action none when the target group is not configured', () => {
    expect(decideRoute(req(null), snap([group('cards', [])], [])).action).toBe('none');
  });
  it('is deterministic: same inputs, same decision', () => {
    const s = snap(GROUPS, [agent('a', [['cards', 3]]), agent('b', [['cards', 3]])]);
    expect(decideRoute(req('card_arrival'), s)).toEqual(decideRoute(req('card_arrival'), s));
  });
});

describe('queue hand-out', () => {
  const q = (id: string, g: string, priority: number, enqueuedAt: number, needsSenior = false): QueuedCall => ({
    callId: id,
    groupId: g,
    priority,
    needsSenior,
    enqueuedAt,
  });
  it('gives a newly available agent the highest priority call of their groups, then the longest waiting', () => {
    const a = agent('a', [['cards', 3]]);
    const queues = [
      q('p-old', 'payments', 90, 1),
      q('c-low', 'cards', 0, 1),
      q('c-hi-new', 'cards', 50, 500),
      q('c-hi-old', 'cards', 50, 100),
    ];
    expect(pickQueuedCall(a, snap(GROUPS, [a], queues))?.callId).toBe('c-hi-old');
    expect(pickQueuedCall(agent('z', [['general', 1]]), snap(GROUPS, [], queues))).toBeNull();
  });
  it('skips calls that need a senior for a junior when seniors are required', () => {
    const junior = agent('j', [['cards', 2]]);
    const queues = [q('angry', 'cards', 90, 1, true), q('calm', 'cards', 0, 2)];
    expect(pickQueuedCall(junior, snap(GROUPS, [junior], queues, { ...rules, seniorRequired: true }))?.callId).toBe('calm');
    expect(pickQueuedCall(junior, snap(GROUPS, [junior], queues))?.callId).toBe('angry');
  });
  it('explains a dequeue decision with the time waited', () => {
    const a = agent('a', [['cards', 3]]);
    const d = dequeueDecision(q('c', 'cards', 10, NOW - 42_000), a, snap(GROUPS, [a]));
    expect(d).toMatchObject({ action: 'agent', agentId: 'a', groupId: 'cards', priority: 10 });
    expect(d.reasons[0]!.text).toContain('42 s');
  });
});
