/**
 * The ACD test harness (acd/acdCalls.ts with the SIP server, routing and the prompt store replaced
 * by recorders), shared by the ACD's unit tests: what is played, who is rung, what is bridged,
 * which KPI facts and agent-state calls result.
 */
import { AcdCalls, type AcdTelephony } from '../../../appliance/acd/acdCalls.js';
import type { AcdSoftphones } from '../../../appliance/acd/agentRing.js';
import type { AcdFactSink } from '../../../appliance/acd/kpis.js';
import { ConsultCalls, type ConsultTelephony } from '../../../appliance/acd/consultCalls.js';
import type { QueueState } from '../../../appliance/acd/queuePolicy.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { TypedEmitter } from '../../../appliance/events/typedEmitter.js';
import type { SkillGroup } from '../../../appliance/routing/types.js';
import type { OutboundOutcome } from '../../../appliance/telephony/outbound.js';
import type { TelephonyEvents } from '../../../appliance/telephony/types.js';
import { createLogger } from '../../../appliance/log/logger.js';

export const GROUP: SkillGroup = {
  id: 'cards',
  name: 'Cards',
  intents: [],
  adjacent: [],
  overflow: { maxWaitMs: 600_000, action: 'none' },
};

interface FakeLeg {
  id: string;
  target: string;
  cancelled: boolean;
  settle: (o: OutboundOutcome) => void;
}

export function harness(
  opts: {
    groups?: SkillGroup[];
    contacts?: string[];
    routeTimeoutMs?: number;
    maxWaitDueInMs?: number;
    callbackOfferMs?: number;
    /** none: no callback store; fail: its request throws. */
    callbackStore?: 'ok' | 'none' | 'fail';
    /** Registered phones of one agent (the others have `contacts`). */
    contactsByAgent?: Record<string, string[]>;
    /** Agents who cannot be offered a call (not available). */
    busyAgents?: string[];
    /** Agents whose state refuses an answer (no longer ringing: their last phone unregistered meanwhile). */
    answerRefused?: string[];
    /** Agents' consult calls (attended transfer) with these dialogs of inbound calls, by call id. */
    consultDialogs?: Map<string, ReturnType<ConsultTelephony['dialogOf']>>;
    /** Agents' browser softphones rung alongside their phones. */
    softphones?: AcdSoftphones;
    /** Where the KPI facts go instead of `facts` (a real KPI engine), and the ACD's clock for them. */
    factSink?: AcdFactSink;
    now?: () => number;
  } = {},
) {
  const events = new TypedEmitter<TelephonyEvents>();
  const listeners: ((e: ApplianceEvent) => void)[] = [];
  const sent: { callId: string; frames: number }[] = [];
  const played: string[] = [];
  const placed: FakeLeg[] = [];
  const bridged: [string, string][] = [];
  const hungUp: string[] = [];
  const facts: string[] = [];
  const agentCalls: string[] = [];
  const requeued: string[] = [];
  const defaultRouted: string[] = [];
  const callbacks: { callId: string; groupId: string; numberUri: string }[] = [];
  /** Callback offers as kept for the KPIs: `<callId> <groupId> <answer or open>`. */
  const offers: string[] = [];
  const bridgeOps: string[] = [];
  const requeuedTo: string[] = [];
  const reassigned: string[] = [];
  const sinks: string[] = [];
  const audits: { actor: string; action: string; target: string; details: Record<string, unknown> }[] = [];
  /** The place in the queue each kept request got. */
  const queuedAts: (number | undefined)[] = [];
  const queue = new Map<string, string>(); // callId → groupId
  const queuedAt = new Map<string, number>();
  const groups = opts.groups ?? [GROUP];
  let n = 0;
  const legs = new Map<string, { rtp: { sendPayload: () => void; isClosed: boolean }; info: { codec: 'PCMU' } }>();
  const routedNever: string[] = [];
  const sip: AcdTelephony & Pick<ConsultTelephony, 'dialogOf'> = {
    events,
    dialogOf: (callId) => opts.consultDialogs?.get(callId),
    placeCall: (o) => {
      const id = `agent-call-${++n}`;
      let settle: (x: OutboundOutcome) => void = () => {};
      const result = new Promise<OutboundOutcome>((r) => (settle = r)).then((x) => {
        // the answered leg's audio starts: its sink is asked for (the consult's deferred sink)
        if (x.type === 'answered') o.sinkFactory?.({ callId: id, legId: 'leg0', codec: 'PCMU', sampleRateHz: 8000 } as never);
        return x;
      });
      const leg: FakeLeg = { id, target: 'contact' in o.target ? o.target.contact : o.target.uri, cancelled: false, settle };
      placed.push(leg);
      return {
        id,
        result,
        cancel: () => {
          leg.cancelled = true;
          settle({ type: 'failed', reason: 'cancelled', status: 487, error: new Error('cancelled') as never });
        },
      } as never;
    },
    bridge: (a, b) => {
      bridged.push([a, b]);
      return {
        close: () => void bridgeOps.push(`close ${a} ${b}`),
        unbridge: () => void bridgeOps.push(`unbridge ${a} ${b}`),
        bridge: () => void bridgeOps.push(`bridge ${a} ${b}`),
        stats: () => ({ transcoding: false, delay: { samples: 3, p50Ms: 0.03, p95Ms: 0.1, maxMs: 0.2 } }),
      } as never;
    },
    hangup: async (callId) => {
      hungUp.push(callId);
      events.emit('call.ended', { callId } as never);
    },
    transfer: async () => 202,
    leg: (callId) => {
      let leg = legs.get(callId);
      if (leg === undefined) {
        const entry = { callId, frames: 0 };
        sent.push(entry);
        leg = { rtp: { sendPayload: () => void entry.frames++, isClosed: false }, info: { codec: 'PCMU' } };
        legs.set(callId, leg);
      }
      return leg as never;
    },
  };
  const sink: AcdFactSink = {
    offered: (c, g) => facts.push(`offered ${c} ${g}`),
    answered: (c, a) => facts.push(`answered ${c} ${a}`),
    abandoned: (c) => facts.push(`abandoned ${c}`),
    overflowed: (c, g) => facts.push(`overflowed ${c} ${g}`),
    dequeued: (c) => facts.push(`dequeued ${c}`),
    held: (c) => facts.push(`held ${c}`),
    resumed: (c) => facts.push(`resumed ${c}`),
    talkEnded: (c) => facts.push(`talk-ended ${c}`),
    transferred: (c) => facts.push(`transferred ${c}`),
    wrapUpEnded: () => undefined,
    agentState: () => undefined,
    agentGroups: () => undefined,
  };
  const state = (): QueueState => {
    const waiting = new Map<string, number>();
    for (const g of queue.values()) waiting.set(g, (waiting.get(g) ?? 0) + 1);
    return { groups, waiting, nowMs: Date.now(), timeZone: 'UTC', serviceLevelS: 20 };
  };
  const agents = {
    answered: (a: string, c: string) => {
      if (opts.answerRefused?.includes(a)) throw Object.assign(new Error('not ringing'), { code: 'EVX_ERR_AGENT_STATE' });
      agentCalls.push(`answered ${a} ${c}`);
    },
    noAnswer: (a: string, c: string) => void agentCalls.push(`no-answer ${a} ${c}`),
    offerFailed: (a: string, c: string) => void agentCalls.push(`offer-failed ${a} ${c}`),
    held: (a: string, c: string, h: boolean) => void agentCalls.push(`held ${a} ${c} ${h}`),
    offer: (a: string, c: string) => {
      if (opts.busyAgents?.includes(a)) throw Object.assign(new Error('not available'), { code: 'EVX_ERR_AGENT_STATE' });
      agentCalls.push(`offer ${a} ${c}`);
    },
    legEnded: (a: string, c: string) => void agentCalls.push(`leg-ended ${a} ${c}`),
    moveCall: (a: string, c: string, to: string) => void agentCalls.push(`moved ${a} ${c} ${to}`),
    consultStarted: () => undefined,
    consultEnded: () => undefined,
  };
  const contactsOf = (agentId: string) =>
    (opts.contactsByAgent?.[agentId] ?? opts.contacts ?? ['sip:alice@10.0.0.5:5062']).map((contact) => ({
      contact,
      target: { transport: 'udp' as const, address: /@([^:;>]+)/.exec(contact)![1]!, port: 5062 },
    }));
  const agentSink = (callerCallId: string) => {
    sinks.push(callerCallId);
    return undefined;
  };
  const consults =
    opts.consultDialogs === undefined
      ? undefined
      : new ConsultCalls({
          sip,
          agents,
          agentIds: () => ['alice', 'bob', 'carol'],
          contactsOf,
          boxHosts: ['192.0.2.10'],
          agentSink,
          doNotRoute: (callId) => void routedNever.push(callId),
          logger: createLogger({ level: 'silent', includePii: false }),
          ringTimeoutMs: 5000,
        });
  const acd = new AcdCalls({
    sip,
    ...(consults === undefined ? {} : { consults }),
    ...(opts.softphones === undefined ? {} : { softphones: opts.softphones }),
    routing: {
      now: () => Date.now(),
      groupList: () => groups,
      agentList: () => ['alice', 'bob', 'carol'].map((id) => ({ id, sipUri: `sip:${id}@10.0.0.5` })) as never,
      reassign: (c, a) => void reassigned.push(`${c} ${a}`),
      requeue: (c) => {
        requeued.push(c.callId);
        requeuedTo.push(`${c.callId} ${c.groupId} ${c.priority}`);
        queue.set(c.callId, c.groupId);
      },
      removeFromQueue: (callId) => queue.delete(callId),
      isRouted: (callId) => defaultRouted.includes(callId),
      route: (req) => {
        defaultRouted.push(req.callId);
        return {} as never;
      },
    },
    bus: {
      subscribe: (l) => {
        listeners.push(l);
        return () => listeners.splice(listeners.indexOf(l), 1);
      },
    },
    agents,
    contactsOf,
    facts: opts.factSink ?? sink,
    queues: {
      state,
      view: (callId, visited) =>
        queue.has(callId)
          ? {
              callId,
              groupId: queue.get(callId)!,
              position: 1,
              expectedWaitMs: null,
              announceIntervalMs: 30_000,
              maxWaitDueAt: opts.maxWaitDueInMs === undefined ? null : queuedAt.get(callId)! + opts.maxWaitDueInMs,
              groupEnqueuedAt: opts.maxWaitDueInMs === undefined ? Date.now() : queuedAt.get(callId)! - 10_000,
              visited: visited ?? [],
            }
          : null,
    },
    prompt: async (_lang, name) => {
      played.push(name);
      return new Int16Array(name === 'hold-music' ? 1600 : 160); // 200 ms of music, 20 ms prompts
    },
    agentSink,
    transfers: { boxHosts: ['192.0.2.10'], problem: (uri) => (uri.includes('@198.51.100.') ? null : 'outside the transfer networks') },
    audit: (actor, action, target, details) => void audits.push({ actor, action, target, details }),
    ...(opts.callbackStore === 'none'
      ? {}
      : {
          callbacks: {
            request: (callId: string, groupId: string, numberUri: string, queuedAt?: number) => {
              if (opts.callbackStore === 'fail') throw Object.assign(new Error('disk full'), { code: 'EVX_ERR_STORE_WRITE' });
              callbacks.push({ callId, groupId, numberUri });
              queuedAts.push(queuedAt);
            },
            offered: (callId: string, groupId: string) => offers.push(`${callId} ${groupId} open`) - 1,
            offerAnswered: (offerId: number | null, answer: string) => {
              if (offerId !== null) offers[offerId] = offers[offerId]!.replace(/ open$/, ` ${answer}`);
            },
          },
        }),
    logger: createLogger({ level: 'silent', includePii: false }),
    now: opts.now ?? (() => Date.now()),
    options: {
      ringTimeoutMs: 5000,
      routeTimeoutMs: opts.routeTimeoutMs ?? 60_000,
      lang: 'en',
      callbackOfferMs: opts.callbackOfferMs ?? 5000,
    },
  });
  const publish = (e: Partial<ApplianceEvent> & { type: 'route.decision' }) => {
    if (e.action === 'queue' && e.groupId) {
      queue.set(e.callId!, e.groupId);
      queuedAt.set(e.callId!, Date.now());
    }
    if (e.action === 'agent') queue.delete(e.callId!);
    for (const l of [...listeners])
      l({
        at: Date.now(),
        decisionId: 1,
        trigger: 'utterance',
        requestedGroupId: e.groupId ?? null,
        priority: 0,
        needsSenior: false,
        estimatedWaitMs: null,
        overflow: null,
        reasons: [],
        summary: '',
        latencyMs: null,
        decideMs: 0,
        agentId: null,
        groupId: null,
        ...e,
      } as ApplianceEvent);
  };
  const start = (
    callId: string,
    mode: 'call' | 'siprec' = 'call',
    from = '"Ann" <sip:+4930123456@trunk.example;user=phone>;tag=a1',
    to = '<sip:service@box>',
  ) => events.emit('call.started', { callId, mode, pii: { from, to, remoteAddress: '192.0.2.1' } } as never);
  const dtmf = (callId: string, digit: string) =>
    events.emit('dtmf', { callId, legId: 'leg0', digit, durationMs: 100, source: 'rfc4733' } as never);
  return {
    acd,
    events,
    publish,
    start,
    dtmf,
    sent,
    played,
    placed,
    bridged,
    hungUp,
    facts,
    agentCalls,
    requeued,
    queue,
    defaultRouted,
    callbacks,
    offers,
    queuedAts,
    bridgeOps,
    requeuedTo,
    reassigned,
    sinks,
    audits,
    consults,
    routedNever,
  };
}

export const until = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};
