/**
 * The routing decision, as pure functions of a request and a snapshot of groups, agents, queues and
 * rules: no clock, no I/O, no randomness. The same inputs always give the same decision and the same
 * explanation, which is what the unit tests pin down and what a supervisor reads as "why this route".
 */
import type {
  Agent,
  OverflowAction,
  QueuedCall,
  RouteAction,
  RouteDecision,
  RouteReason,
  RouteRequest,
  RoutingRules,
  RoutingSnapshot,
  SkillGroup,
} from './types.js';

const pct = (x: number) => x.toFixed(2);
const secs = (ms: number) => (Number.isFinite(ms) ? `${Math.round(ms / 1000)} s` : 'unbounded');

/** Skill group for the caller's intent; out-of-scope, low-confidence and unmapped intents go to the default group. */
export function groupForIntent(
  req: RouteRequest,
  groups: readonly SkillGroup[],
  rules: RoutingRules,
): { groupId: string; reason: RouteReason } {
  const it = req.intent;
  if (it === null || it.intent === null) {
    return {
      groupId: rules.defaultGroup,
      reason: { code: 'intent.none', text: `no intent recognised → default group ${rules.defaultGroup}` },
    };
  }
  if (it.outOfScope || it.confidence < rules.minIntentConfidence) {
    const mass = rules.groupMassThreshold > 0 ? bestGroupMass(it.top ?? [], groups) : null;
    if (mass !== null && mass.mass >= rules.groupMassThreshold) {
      return {
        groupId: mass.groupId,
        reason: {
          code: 'intent.group-mass',
          text: `intent ${it.intent} ${pct(it.confidence)} too uncertain, but group ${mass.groupId} intents together ${pct(mass.mass)} ≥ ${pct(rules.groupMassThreshold)}`,
        },
      };
    }
  }
  if (it.outOfScope) {
    return {
      groupId: rules.defaultGroup,
      reason: {
        code: 'intent.out-of-scope',
        text: `intent out of scope (best ${it.intent} ${pct(it.confidence)}) → default group ${rules.defaultGroup}`,
      },
    };
  }
  if (it.confidence < rules.minIntentConfidence) {
    return {
      groupId: rules.defaultGroup,
      reason: {
        code: 'intent.low-confidence',
        text: `intent ${it.intent} ${pct(it.confidence)} below ${pct(rules.minIntentConfidence)} → default group ${rules.defaultGroup}`,
      },
    };
  }
  const group = groups.find((g) => g.intents.includes(it.intent!));
  if (group === undefined) {
    return {
      groupId: rules.defaultGroup,
      reason: { code: 'intent.unmapped', text: `intent ${it.intent} is in no skill group → default group ${rules.defaultGroup}` },
    };
  }
  return { groupId: group.id, reason: { code: 'intent.group', text: `intent ${it.intent} (${pct(it.confidence)}) → group ${group.id}` } };
}

/** The group with the largest summed probability over the classifier's top intents. */
export function bestGroupMass(
  top: readonly { intent: string; confidence: number }[],
  groups: readonly SkillGroup[],
): { groupId: string; mass: number } | null {
  const mass = new Map<string, number>();
  for (const t of top) {
    const g = groups.find((x) => x.intents.includes(t.intent));
    if (g !== undefined) mass.set(g.id, (mass.get(g.id) ?? 0) + t.confidence);
  }
  let best: { groupId: string; mass: number } | null = null;
  for (const [groupId, m] of mass)
    if (best === null || m > best.mass || (m === best.mass && groupId < best.groupId)) best = { groupId, mass: m };
  return best;
}

export interface Priority {
  readonly priority: number;
  readonly needsSenior: boolean;
  readonly angry: boolean;
  readonly complaintRisk: boolean;
  readonly reasons: readonly RouteReason[];
}

/** Queue priority (higher first) and whether a senior agent is needed, with the factors that set them. */
export function computePriority(req: RouteRequest, rules: RoutingRules): Priority {
  const w = rules.priority;
  const reasons: RouteReason[] = [];
  let priority = 0;
  const p = req.profile;
  const e = req.emotion;
  if (p?.vip) {
    priority += w.vip;
    reasons.push({ code: 'priority.vip', text: `VIP caller +${w.vip}` });
  }
  if (p !== null && (p.repeatCaller || p.unresolvedRepeats > 0)) {
    priority += w.repeatCaller;
    reasons.push({ code: 'priority.repeat', text: `repeat caller (${p.unresolvedRepeats} unresolved) +${w.repeatCaller}` });
  }
  const complaintIntent =
    req.intent !== null && req.intent.intent !== null && !req.intent.outOfScope && rules.complaintIntents.includes(req.intent.intent);
  const churn = p !== null && p.churnRisk >= rules.churnRiskThreshold;
  const complaintRisk = complaintIntent || churn;
  if (complaintRisk) {
    priority += w.complaintRisk;
    const why = [complaintIntent ? `intent ${req.intent.intent}` : '', churn ? `churn risk ${pct(p.churnRisk)}` : '']
      .filter(Boolean)
      .join(', ');
    reasons.push({ code: 'priority.complaint-risk', text: `complaint risk (${why}) +${w.complaintRisk}` });
  }
  const angry = e !== null && (e.angry >= rules.angerThreshold || e.category === 'angry');
  if (angry) {
    priority += w.angry;
    reasons.push({ code: 'priority.angry', text: `caller sounds angry (P=${pct(e.angry)}) +${w.angry}` });
  }
  if (e !== null && e.trend === 'escalating') {
    priority += w.escalating;
    reasons.push({ code: 'priority.escalating', text: `emotion escalating +${w.escalating}` });
  }
  if (reasons.length === 0) reasons.push({ code: 'priority.normal', text: 'normal priority' });
  return { priority, needsSenior: angry, angry, complaintRisk, reasons };
}

export function skillLevel(agent: Agent, groupId: string): number {
  let best = 0;
  for (const s of agent.skills) if (s.group === groupId && s.level > best) best = s.level;
  return best;
}

export function isSeniorFor(agent: Agent, groupId: string, rules: RoutingRules): boolean {
  return agent.senior || skillLevel(agent, groupId) >= rules.seniorLevel;
}

/**
 * The agent for a call in `groupId`: available agents with the group's skill. A call that needs a
 * senior gets the most skilled senior; other calls get the least skilled adequate agent (keeping
 * seniors free for hard calls). Ties go to the agent idle longest, then to the lower id.
 */
export function selectAgent(
  groupId: string,
  agents: readonly Agent[],
  needsSenior: boolean,
  rules: RoutingRules,
  nowMs: number,
): { agent: Agent; reason: RouteReason } | { agent: null; reason: RouteReason } {
  const skilled = agents.filter((a) => a.state === 'available' && skillLevel(a, groupId) > 0);
  if (skilled.length === 0) return { agent: null, reason: { code: 'agent.none-available', text: `no available agent in ${groupId}` } };
  const byIdle = (a: Agent, b: Agent) => a.stateSince - b.stateSince || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const idle = (a: Agent) => secs(Math.max(0, nowMs - a.stateSince));
  if (needsSenior) {
    const seniors = skilled.filter((a) => isSeniorFor(a, groupId, rules));
    if (seniors.length > 0) {
      seniors.sort((a, b) => skillLevel(b, groupId) - skillLevel(a, groupId) || byIdle(a, b));
      const a = seniors[0]!;
      return {
        agent: a,
        reason: { code: 'agent.senior', text: `senior agent ${a.id} (level ${skillLevel(a, groupId)}, idle ${idle(a)})` },
      };
    }
    if (rules.seniorRequired)
      return { agent: null, reason: { code: 'agent.no-senior', text: `no senior agent available in ${groupId} (senior required)` } };
    skilled.sort((a, b) => skillLevel(b, groupId) - skillLevel(a, groupId) || byIdle(a, b));
    const a = skilled[0]!;
    return {
      agent: a,
      reason: {
        code: 'agent.senior-fallback',
        text: `no senior free: most skilled agent ${a.id} (level ${skillLevel(a, groupId)}, idle ${idle(a)})`,
      },
    };
  }
  skilled.sort((a, b) => skillLevel(a, groupId) - skillLevel(b, groupId) || byIdle(a, b));
  const a = skilled[0]!;
  return { agent: a, reason: { code: 'agent.longest-idle', text: `agent ${a.id} (level ${skillLevel(a, groupId)}, idle ${idle(a)})` } };
}

/**
 * Expected wait for a new call of `priority` in `groupId`: the calls queued ahead of it (same or
 * higher priority) served by the group's staffed agents (not offline), one average handling time
 * per round. Infinite when nobody is staffed.
 */
export function estimateWaitMs(groupId: string, priority: number, snapshot: RoutingSnapshot): number {
  const staffed = snapshot.agents.filter((a) => a.state !== 'offline' && skillLevel(a, groupId) > 0).length;
  if (staffed === 0) return Number.POSITIVE_INFINITY;
  const ahead = snapshot.queues.filter((q) => q.groupId === groupId && q.priority >= priority).length;
  return Math.ceil((ahead + 1) / staffed) * snapshot.rules.avgHandleMs;
}

/** Decide where a call goes. Pure: see the module comment. */
export function decideRoute(req: RouteRequest, snapshot: RoutingSnapshot): RouteDecision {
  const { groups, agents, rules, nowMs } = snapshot;
  const reasons: RouteReason[] = [];
  const target = groupForIntent(req, groups, rules);
  reasons.push(target.reason);
  const pr = computePriority(req, rules);
  reasons.push(...pr.reasons);
  if (pr.needsSenior) reasons.push({ code: 'senior.needed', text: 'angry caller → senior agent' });
  const base = { callId: req.callId, requestedGroupId: target.groupId, priority: pr.priority, needsSenior: pr.needsSenior };

  const group = groups.find((g) => g.id === target.groupId);
  if (group === undefined) {
    reasons.push({ code: 'group.missing', text: `group ${target.groupId} is not configured` });
    return finish({ ...base, action: 'none', groupId: null, agentId: null, targetUri: null, estimatedWaitMs: 0, overflow: null }, reasons);
  }

  const pick = selectAgent(group.id, agents, pr.needsSenior, rules, nowMs);
  reasons.push(pick.reason);
  if (pick.agent !== null) {
    return finish(
      {
        ...base,
        action: 'agent',
        groupId: group.id,
        agentId: pick.agent.id,
        targetUri: pick.agent.sipUri,
        estimatedWaitMs: 0,
        overflow: null,
      },
      reasons,
    );
  }

  const waitMs = estimateWaitMs(group.id, pr.priority, snapshot);
  reasons.push({
    code: 'wait.estimate',
    text: `estimated wait in ${group.id} ${secs(waitMs)} (overflow above ${secs(group.overflow.maxWaitMs)})`,
  });
  const queueHere = (extra: RouteReason[] = []) =>
    finish({ ...base, action: 'queue', groupId: group.id, agentId: null, targetUri: null, estimatedWaitMs: waitMs, overflow: null }, [
      ...reasons,
      ...extra,
    ]);
  if (waitMs <= group.overflow.maxWaitMs || group.overflow.action === 'none') {
    return queueHere([{ code: 'queue', text: `queued in ${group.id} at priority ${pr.priority}` }]);
  }

  const vip = req.profile?.vip === true;
  const overflow = (action: OverflowAction) => ({ from: group.id, action });
  switch (group.overflow.action) {
    case 'adjacent': {
      // First an adjacent group with a free agent, else the adjacent group with the shortest acceptable wait.
      let best: { g: SkillGroup; waitMs: number } | null = null;
      for (const id of group.adjacent) {
        const adj = groups.find((g) => g.id === id);
        if (adj === undefined) continue;
        const a = selectAgent(adj.id, agents, pr.needsSenior, rules, nowMs);
        if (a.agent !== null) {
          reasons.push({ code: 'overflow.adjacent', text: `overflow ${group.id} → adjacent group ${adj.id}` }, a.reason);
          return finish(
            {
              ...base,
              action: 'agent',
              groupId: adj.id,
              agentId: a.agent.id,
              targetUri: a.agent.sipUri,
              estimatedWaitMs: waitMs,
              overflow: overflow('adjacent'),
            },
            reasons,
          );
        }
        const w = estimateWaitMs(adj.id, pr.priority, snapshot);
        if (w <= adj.overflow.maxWaitMs && (best === null || w < best.waitMs)) best = { g: adj, waitMs: w };
      }
      if (best !== null) {
        reasons.push({
          code: 'overflow.adjacent-queue',
          text: `overflow ${group.id} → queued in adjacent group ${best.g.id} (estimated ${secs(best.waitMs)})`,
        });
        return finish(
          {
            ...base,
            action: 'queue',
            groupId: best.g.id,
            agentId: null,
            targetUri: null,
            estimatedWaitMs: best.waitMs,
            overflow: overflow('adjacent'),
          },
          reasons,
        );
      }
      return queueHere([{ code: 'overflow.adjacent-full', text: `no adjacent group can take the call sooner: queued in ${group.id}` }]);
    }
    case 'callback':
      if (vip && rules.vipNeverSelfService)
        return queueHere([{ code: 'overflow.vip-kept', text: 'VIP caller kept in queue instead of a callback' }]);
      reasons.push({ code: 'overflow.callback', text: `wait too long in ${group.id}: callback offered` });
      return finish(
        {
          ...base,
          action: 'callback',
          groupId: group.id,
          agentId: null,
          targetUri: null,
          estimatedWaitMs: waitMs,
          overflow: overflow('callback'),
        },
        reasons,
      );
    case 'self-service': {
      if (vip && rules.vipNeverSelfService)
        return queueHere([{ code: 'overflow.vip-kept', text: 'VIP caller kept in queue instead of self-service' }]);
      const uri = group.overflow.selfServiceUri;
      if (uri === undefined || uri === '')
        return queueHere([{ code: 'overflow.no-self-service', text: `group ${group.id} has no self-service URI: queued` }]);
      reasons.push({ code: 'overflow.self-service', text: `wait too long in ${group.id}: sent to self-service` });
      return finish(
        {
          ...base,
          action: 'self-service',
          groupId: group.id,
          agentId: null,
          targetUri: uri,
          estimatedWaitMs: waitMs,
          overflow: overflow('self-service'),
        },
        reasons,
      );
    }
    default:
      return queueHere();
  }
}

/**
 * The queued call an agent who just became available should take: from the groups the agent is
 * skilled in, highest priority first, then the longest waiting. A call that needs a senior skips
 * non-senior agents when seniors are required.
 */
export function pickQueuedCall(agent: Agent, snapshot: RoutingSnapshot): QueuedCall | null {
  let best: QueuedCall | null = null;
  for (const q of snapshot.queues) {
    if (skillLevel(agent, q.groupId) === 0) continue;
    if (q.needsSenior && snapshot.rules.seniorRequired && !isSeniorFor(agent, q.groupId, snapshot.rules)) continue;
    if (
      best === null ||
      q.priority > best.priority ||
      (q.priority === best.priority && (q.enqueuedAt < best.enqueuedAt || (q.enqueuedAt === best.enqueuedAt && q.callId < best.callId)))
    ) {
      best = q;
    }
  }
  return best;
}

/** The decision for a queued call handed to an agent who became available. */
export function dequeueDecision(call: QueuedCall, agent: Agent, snapshot: RoutingSnapshot): RouteDecision {
  const reasons: RouteReason[] = [
    { code: 'queue.dequeued', text: `waited ${secs(snapshot.nowMs - call.enqueuedAt)} in ${call.groupId} at priority ${call.priority}` },
    { code: 'agent.became-available', text: `agent ${agent.id} became available (level ${skillLevel(agent, call.groupId)})` },
  ];
  return finish(
    {
      callId: call.callId,
      action: 'agent',
      requestedGroupId: call.groupId,
      groupId: call.groupId,
      agentId: agent.id,
      targetUri: agent.sipUri,
      priority: call.priority,
      needsSenior: call.needsSenior,
      estimatedWaitMs: 0,
      overflow: null,
    },
    reasons,
  );
}

function finish(d: Omit<RouteDecision, 'reasons' | 'summary'> & { action: RouteAction }, reasons: RouteReason[]): RouteDecision {
  return {
    ...d,
    reasons,
    summary: `${d.action}${d.groupId ? ` ${d.groupId}` : ''}${d.agentId ? `/${d.agentId}` : ''}: ${reasons.map((r) => r.text).join('; ')}`,
  };
}
