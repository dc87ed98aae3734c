/**
 * `make bench-chat`: chat load next to a voice load step, in one real appliance. N visitors over the
 * real chat socket (GET /api/v1/chat/socket, the page's own origin) each send M messages a minute;
 * A simulated agents signed in with softphone agent tokens accept the offers and answer every
 * message at once. The voice ramp (sipp callers, the `make bench` load generator, tools/bench/
 * sipLoad.ts) runs each step twice in the same appliance: without chat, then with the chat load
 * running. Prints message latency p50/p95 (visitor send -> agent receive, agent reply -> visitor
 * receive) and the highest real-time call count without and with chat. Figures only: no assertions.
 */
import { createRequire } from 'node:module';
import { loadavg, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { issueApiToken } from '../../appliance/auth/authService.js';
import { REPO_ROOT } from '../../appliance/buildInfo.js';
import type { ChatServerMessage } from '../../appliance/conversations/chatProtocol.js';
import { percentile } from '../../appliance/conversations/channelKpis.js';
import { Store } from '../../appliance/store/database.js';
import type { RunningAppliance } from './harness.js';
import { runSipLoad, stepLine, type LoadAlongside, type StepResult } from './sipLoad.js';

interface Ws {
  readyState: number;
  send(data: string): void;
  close(): void;
  on(event: 'message', l: (data: Buffer) => void): void;
  on(event: 'open' | 'close', l: () => void): void;
  on(event: 'error', l: (err: Error) => void): void;
}
type WsCtor = new (url: string, opts?: { origin?: string }) => Ws;
const WebSocket = createRequire(import.meta.url)('ws') as WsCtor;

const GROUP = 'chat-bench';
const CHATS_PER_AGENT = 20;
const TEXTS = [
  'I have a question about my account',
  'when will my new card arrive',
  'can you check the last payment',
  'thanks, and one more thing',
];

export interface ChatLoadOptions {
  readonly visitors: number;
  readonly messagesPerMinute: number;
}

/** Latency samples (ms) of one direction, with the time each was taken. */
class Samples {
  private readonly list: { at: number; ms: number }[] = [];
  add(ms: number): void {
    this.list.push({ at: Date.now(), ms });
  }
  between(from: number, to: number): number[] {
    return this.list
      .filter((s) => s.at >= from && s.at < to)
      .map((s) => s.ms)
      .sort((a, b) => a - b);
  }
}

function open(url: string, origin: string): Promise<Ws> {
  return new Promise((res, rej) => {
    const ws = new WebSocket(url, { origin });
    ws.on('open', () => res(ws));
    ws.on('error', rej);
  });
}

/** The chat side of the bench: agents, visitors and what they measured. */
export class ChatLoad implements LoadAlongside {
  readonly toAgent = new Samples();
  readonly toVisitor = new Samples();
  readonly firstResponse = new Samples();
  errors = 0;
  sent = 0;
  private readonly sockets: Ws[] = [];
  private readonly sentAt = new Map<string, number>();
  private timers: NodeJS.Timeout[] = [];
  private url = '';
  private origin = '';
  private agentsN = 0;
  private visitorsStarted = false;
  private sending = false;
  /** Each greeted visitor's sender. */
  private readonly senders: (() => void)[] = [];
  /** Which of the ramp's steps run with chat (every second one: step i without, i + 1 with). */
  readonly withChat = (index: number): boolean => index % 2 === 1;
  readonly windows: { index: number; from: number; to: number }[] = [];

  constructor(private readonly o: ChatLoadOptions) {}

  private async setUp(app: RunningAppliance, dataDir: string): Promise<void> {
    this.url = app.url.replace(/^http/, 'ws') + '/api/v1/chat/socket';
    this.origin = app.url;
    const store = Store.open(dataDir);
    let technician: string;
    let supervisor: string;
    try {
      technician = issueApiToken(store, 'bench-chat', 'technician', 'bench').token;
      supervisor = issueApiToken(store, 'bench-chat-sup', 'supervisor', 'bench').token;
    } finally {
      store.close();
    }
    // one spare agent: shares by hash are not exactly even
    this.agentsN = Math.max(1, Math.ceil(this.o.visitors / CHATS_PER_AGENT) + 1);
    const agentIds = Array.from({ length: this.agentsN }, (_, i) => `chat-agent-${i + 1}`);
    const res = await fetch(`${app.url}/api/v1/routing/config`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${technician}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        groups: [{ id: GROUP, name: 'Chat bench', intents: [], adjacent: [], overflow: { maxWaitMs: 86_400_000, action: 'none' } }],
        agents: agentIds.map((id) => ({
          id,
          name: id,
          sipUri: `sip:${id}@127.0.0.1:5060`,
          senior: false,
          skills: [{ group: GROUP, level: 3 }],
        })),
        rules: { defaultGroup: GROUP },
      }),
    });
    if (res.status !== 200) throw new Error(`routing configuration refused: ${res.status} ${await res.text()}`);
    for (const id of agentIds) {
      const r = await fetch(`${app.url}/api/v1/webrtc/agent-tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${supervisor}`, 'content-type': 'application/json' },
        body: JSON.stringify({ agentId: id, role: 'agent', ttlMs: 3_600_000 }),
      });
      if (r.status !== 201) throw new Error(`agent token refused: ${r.status} ${await r.text()}`);
      await this.agent(((await r.json()) as { token: string }).token, agentIds.indexOf(id));
    }
  }

  /**
   * One simulated agent (`index` of agentsN): accepts offers, answers every visitor message at once.
   * Every agent is offered every chat; each takes its share first (by the conversation id's hash)
   * and any other when it has room, and counts only the chats the box says it holds. It used to
   * count its tries: a chat another agent took first filled its count, and with 5 agents only about
   * 20 of 100 visitors were ever answered.
   */
  private async agent(token: string, index: number): Promise<void> {
    const ws = await open(this.url, this.origin);
    this.sockets.push(ws);
    let n = 0;
    let accepted = new Set<string>();
    const mine = (id: string) => [...id].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) >>> 0, 7) % this.agentsN === index;
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString('utf8')) as ChatServerMessage;
      if (m.type === 'held') accepted = new Set(m.conversations.map((c) => c.conversationId));
      else if (m.type === 'offers') {
        const offers = [...m.conversations].sort((a, b) => Number(mine(b.conversationId)) - Number(mine(a.conversationId)));
        for (const c of offers) {
          const waitingLong = Date.now() - c.createdAt > 1000;
          if (accepted.has(c.conversationId) || accepted.size >= CHATS_PER_AGENT || !(mine(c.conversationId) || waitingLong)) continue;
          accepted.add(c.conversationId);
          ws.send(JSON.stringify({ type: 'accept', conversationId: c.conversationId }));
          // the greeting: the visitor's first response
          ws.send(
            JSON.stringify({ type: 'message', conversationId: c.conversationId, clientId: `g-${++n}`, text: 'Hello, how can I help?' }),
          );
        }
      } else if (m.type === 'message' && m.message.from === 'visitor') {
        const at = this.sentAt.get(m.message.clientId);
        if (at !== undefined) {
          this.toAgent.add(Date.now() - at);
          this.sentAt.delete(m.message.clientId);
        }
        const clientId = `a-${++n}`;
        this.sentAt.set(clientId, Date.now());
        ws.send(
          JSON.stringify({ type: 'message', conversationId: m.message.conversationId, clientId, text: 'Let me check that for you.' }),
        );
      } else if (m.type === 'error') this.errors++;
    });
    ws.send(JSON.stringify({ type: 'agent', token }));
  }

  /** The visitors start once, at the first step with chat, and keep their chats open to the end. */
  private async startVisitors(): Promise<void> {
    this.visitorsStarted = true;
    for (let v = 0; v < this.o.visitors; v++) {
      const ws = await open(this.url, this.origin);
      this.sockets.push(ws);
      let k = 0;
      let startedAt = 0;
      let greeted = false;
      // client ids go on across pauses: a repeated id would be a resend, acknowledged and not delivered
      const send = (): void => {
        const clientId = `v${v}-${++k}`;
        this.sentAt.set(clientId, Date.now());
        this.sent++;
        ws.send(JSON.stringify({ type: 'message', clientId, text: TEXTS[k % TEXTS.length] }));
      };
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString('utf8')) as ChatServerMessage;
        if (m.type === 'started') {
          startedAt = Date.now();
          send();
        } else if (m.type === 'message' && m.message.from === 'agent') {
          if (!greeted) {
            greeted = true;
            this.firstResponse.add(Date.now() - startedAt);
            // then M messages a minute, each visitor from its own point of the period
            this.senders.push(send);
            if (this.sending) this.schedule(send);
            return;
          }
          const at = this.sentAt.get(m.message.clientId);
          if (at !== undefined) {
            this.toVisitor.add(Date.now() - at);
            this.sentAt.delete(m.message.clientId);
          }
        } else if (m.type === 'error') this.errors++;
      });
      ws.send(JSON.stringify({ type: 'start', language: 'en' }));
    }
  }

  /** M messages a minute from a random point of the period. */
  private schedule(send: () => void): void {
    const periodMs = 60_000 / this.o.messagesPerMinute;
    this.timers.push(
      setTimeout(() => {
        if (!this.sending) return;
        send();
        this.timers.push(setInterval(send, periodMs));
      }, Math.random() * periodMs),
    );
  }

  private stopVisitors(): void {
    this.sending = false;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  // LoadAlongside
  started(app: RunningAppliance, dataDir: string): Promise<void> {
    return this.setUp(app, dataDir);
  }
  async beforeStep(index: number): Promise<void> {
    if (!this.withChat(index)) return;
    this.sending = true;
    if (!this.visitorsStarted) await this.startVisitors();
    else for (const send of this.senders) this.schedule(send);
    this.windows.push({ index, from: Date.now(), to: Number.POSITIVE_INFINITY });
  }
  afterStep(index: number): Promise<void> {
    const w = this.windows.find((x) => x.index === index);
    if (w !== undefined) w.to = Date.now();
    // between steps with chat the visitors pause (their chats stay open): the next voice step runs alone
    this.stopVisitors();
    return Promise.resolve();
  }
  stopping(): Promise<void> {
    this.stopVisitors();
    for (const ws of this.sockets) ws.close();
    return Promise.resolve();
  }
}

const q = (xs: number[], p: number): string => {
  const v = percentile(xs, p);
  return v === null ? '-' : `${Math.round(v)} ms`;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      visitors: { type: 'string', default: '20' },
      'messages-per-minute': { type: 'string', default: '6' },
      steps: { type: 'string', default: '30,60,90,120' },
      seconds: { type: 'string', default: '20' },
      'max-lag-s': { type: 'string', default: '1.5' },
      'shared-dir': { type: 'string', default: process.env['EDGEVOX_SHARED'] ?? join(REPO_ROOT, '..', 'shared') },
      'models-dir': { type: 'string' },
      out: { type: 'string', default: join(REPO_ROOT, 'test', 'bench-results', 'bench-chat.json') },
    },
  });
  const visitors = Number(values.visitors);
  const perMinute = Number(values['messages-per-minute']);
  const voiceSteps = values.steps.split(',').map(Number);
  const seconds = Number(values.seconds);
  const shared = resolve(values['shared-dir']);
  const log = (s: string): void => void process.stdout.write(s + '\n');
  const loadBefore = loadavg();
  log(
    `bench-chat: ${visitors} chat visitors x ${perMinute} messages/min, agents answering at once; voice steps ${voiceSteps.join(', ')} calls of ${seconds} s, each without then with chat`,
  );
  const chat = new ChatLoad({ visitors, messagesPerMinute: perMinute });
  const report = await runSipLoad({
    steps: voiceSteps.flatMap((n) => [n, n]),
    seconds,
    modelsDir: resolve(values['models-dir'] ?? join(shared, 'models')),
    sharedDir: shared,
    stopAtFirstFailure: false,
    maxLagS: Number(values['max-lag-s']),
    speechRatio: 1,
    groups: 2,
    webCallers: 0,
    extraYaml: [
      'webrtc:',
      '  rtcPortMin: 30000',
      '  rtcPortMax: 34999',
      'chat:',
      `  maxChatsPerAgent: ${CHATS_PER_AGENT}`,
      '  maxMessagesBeforeDefault: 1',
      `  visitorMessagesPerMinute: ${Math.max(30, perMinute * 2)}`,
      '  ipMessagesPerMinute: 100000',
      '  ipSessionsPerMinute: 10000',
    ],
    alongside: chat,
    log,
  });
  const rows = report.steps.map((s: StepResult, i) => {
    const w = chat.windows.find((x) => x.index === i);
    const toAgent = w ? chat.toAgent.between(w.from, w.to) : [];
    const toVisitor = w ? chat.toVisitor.between(w.from, w.to) : [];
    return { calls: s.calls, chat: w !== undefined, realTime: s.realTime, step: stepLine(s), toAgent, toVisitor };
  });
  const highest = (withChat: boolean) => Math.max(0, ...rows.filter((r) => r.chat === withChat && r.realTime).map((r) => r.calls));
  const allToAgent = rows.flatMap((r) => r.toAgent).sort((a, b) => a - b);
  const allToVisitor = rows.flatMap((r) => r.toVisitor).sort((a, b) => a - b);
  log('');
  log(
    `machine: ${cpus().length} cores, node ${process.versions.node}, load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  for (const r of rows) {
    log(
      `${String(r.calls).padStart(3)} calls ${r.chat ? 'with chat   ' : 'without chat'} ${r.realTime ? 'real-time' : 'NOT real-time'}` +
        (r.chat
          ? `  visitor->agent p50 ${q(r.toAgent, 50)} p95 ${q(r.toAgent, 95)} (${r.toAgent.length})  agent->visitor p50 ${q(r.toVisitor, 50)} p95 ${q(r.toVisitor, 95)} (${r.toVisitor.length})`
          : ''),
    );
  }
  log(
    `chat messages sent by visitors: ${chat.sent}, errors answered: ${chat.errors}, first response (start -> greeting) p95 ${q(chat.firstResponse.between(0, Infinity), 95)}`,
  );
  log(
    `message latency p95 over all chat steps: visitor->agent ${q(allToAgent, 95)} (${allToAgent.length}), agent->visitor ${q(allToVisitor, 95)} (${allToVisitor.length})`,
  );
  log(`voice capacity (highest real-time step): without chat ${highest(false)} calls, with chat ${highest(true)} calls`);
  writeFileSync(
    values.out,
    JSON.stringify(
      {
        visitors,
        messagesPerMinute: perMinute,
        seconds,
        machine: { ...report.machine, loadAverageBefore: loadBefore },
        steps: rows.map((r) => ({
          ...r,
          toAgent: undefined,
          toVisitor: undefined,
          toAgentP95Ms: percentile(r.toAgent, 95),
          toVisitorP95Ms: percentile(r.toVisitor, 95),
        })),
        highestRealTime: { withoutChat: highest(false), withChat: highest(true) },
      },
      null,
      2,
    ) + '\n',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-chat: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
