/**
 * The routing webhook (appliance/routing/webhook.ts) against a real HTTP receiver on 127.0.0.1: the
 * signature, the payload (nothing about the caller leaves), the bounded queue, the retry policy
 * (2xx once, 5xx/429/network retried, 3xx/4xx never), a receiver that never answers, close(), the
 * configuration keys, and that routing itself never waits for the receiver.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startRouting } from '../../../appliance/app/routing.js';
import { validateConfig } from '../../../appliance/config/load.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { EventBus } from '../../../appliance/events/appEvents.js';
import { RoutingRepo } from '../../../appliance/routing/repo.js';
import { RoutingService } from '../../../appliance/routing/routingService.js';
import { banking77Sample } from '../../../appliance/routing/samples.js';
import {
  RoutingWebhook,
  checkWebhookSecret,
  decisionPayload,
  parseWebhookUrl,
  signWebhook,
  verifyWebhookSignature,
  WEBHOOK_USER_AGENT,
  type RouteDecisionEvent,
  type RoutingWebhookOptions,
} from '../../../appliance/routing/webhook.js';
import { Store } from '../../../appliance/store/database.js';
import { TransferTargetPolicy } from '../../../appliance/telephony/transferTargets.js';
import { captureLogger } from '../../helpers/appliance.js';
import { scratchDir } from '../../helpers/paths.js';
import { plantedIn } from '../../helpers/planted.js';

const SECRET = 'test-webhook-secret-0123456789';
const silent = pino({ level: 'silent' });

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string, n: number) => void;

/** A real HTTP receiver; `handler` answers (or does not), every request is recorded. */
class Receiver {
  readonly requests: Received[] = [];
  /** Requests whose client went away before an answer (aborted). */
  aborted = 0;
  private server: Server | null = null;
  constructor(public handler: Handler = (_req, res) => res.writeHead(204).end()) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.requests.push({ headers: req.headers, body, at: Date.now() });
        res.on('close', () => {
          if (!res.writableFinished) this.aborted++;
        });
        this.handler(req, res, body, this.requests.length);
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  bodies(): Record<string, unknown>[] {
    return this.requests.map((r) => JSON.parse(r.body) as Record<string, unknown>);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server === null ? r() : this.server.close(() => r())));
  }
}

const receivers: Receiver[] = [];
const webhooks: RoutingWebhook[] = [];
afterEach(async () => {
  await Promise.all(webhooks.splice(0).map((w) => w.close()));
  await Promise.all(receivers.splice(0).map((r) => r.stop()));
});

async function receiver(handler?: Handler): Promise<{ rx: Receiver; url: string }> {
  const rx = new Receiver(handler);
  receivers.push(rx);
  return { rx, url: `${await rx.start()}/hooks/edgevox` };
}

function webhook(url: string, options: Partial<RoutingWebhookOptions> = {}): RoutingWebhook {
  const w = new RoutingWebhook({
    url,
    secret: SECRET,
    timeoutMs: 2000,
    maxAttempts: 3,
    maxPending: 1000,
    siteId: 'branch-1',
    logger: silent,
    backoffBaseMs: 20,
    backoffMaxMs: 200,
    ...options,
  });
  webhooks.push(w);
  return w;
}

let nextCall = 0;
/** A decision as the routing service publishes it, with caller details planted in the free text. */
function decision(overrides: Partial<RouteDecisionEvent> = {}): RouteDecisionEvent {
  nextCall++;
  return {
    type: 'route.decision',
    at: 1_700_000_000_000 + nextCall,
    callId: `call-${nextCall}`,
    decisionId: nextCall,
    trigger: 'utterance',
    action: 'agent',
    requestedGroupId: 'cards',
    groupId: 'cards',
    agentId: 'ada',
    priority: 35,
    needsSenior: true,
    estimatedWaitMs: 0,
    overflow: null,
    reasons: [
      { code: 'intent.group', text: 'intent lost_or_stolen_card (91%) → group cards' },
      { code: 'priority.repeat', text: 'repeat caller (2 unresolved) +15 — Jane Doe +15550199' },
      { code: 'agent.longest-idle', text: 'agent ada (level 3, idle 4 s)' },
    ],
    summary: 'Jane Doe +15550199 said "block my card 4111 1111 1111 1111"',
    latencyMs: 12.5,
    decideMs: 0.2,
    ...overrides,
  };
}

const until = async (ok: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('routing webhook: signing', () => {
  it('signs "<timestamp>.<body>" with HMAC-SHA256 as sha256=<hex>', () => {
    // a vector a receiver can check its own implementation against (also: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac key-key-key-key-1)
    expect(signWebhook('key-key-key-key-1', '1700000000', '{"a":1}')).toBe(
      'sha256=1ef420b5c1b20102bf0fbae8b7514f1a860bd10fdf3bcc8dbecfda3d79f146f7',
    );
    const sig = signWebhook(SECRET, '1700000000', '{"a":1}');
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(signWebhook(SECRET, '1700000001', '{"a":1}')).not.toBe(sig);
    expect(signWebhook(SECRET, '1700000000', '{"a":2}')).not.toBe(sig);
    expect(signWebhook(`${SECRET}x`, '1700000000', '{"a":1}')).not.toBe(sig);
  });

  it('verifies a fresh signature and refuses a wrong key, a changed body, a stale or missing timestamp', () => {
    const nowMs = 1_700_000_100_000;
    const ts = '1700000100';
    const body = '{"event":"route.decision"}';
    const signature = signWebhook(SECRET, ts, body);
    expect(verifyWebhookSignature(SECRET, { timestamp: ts, signature }, body, { nowMs })).toBe(true);
    expect(verifyWebhookSignature('another-secret-0123456', { timestamp: ts, signature }, body, { nowMs })).toBe(false);
    expect(verifyWebhookSignature(SECRET, { timestamp: ts, signature }, `${body} `, { nowMs })).toBe(false);
    expect(verifyWebhookSignature(SECRET, { timestamp: ts, signature }, body, { nowMs: nowMs + 301_000 })).toBe(false);
    expect(verifyWebhookSignature(SECRET, { timestamp: undefined, signature }, body, { nowMs })).toBe(false);
    expect(verifyWebhookSignature(SECRET, { timestamp: 'x', signature }, body, { nowMs })).toBe(false);
    expect(verifyWebhookSignature(SECRET, { timestamp: ts, signature: 'sha256=00' }, body, { nowMs })).toBe(false);
  });
});

describe('routing webhook: payload', () => {
  it('carries the decision and the reason codes, nothing about the caller', () => {
    const e = decision({ overflow: { from: 'cards', action: 'adjacent' }, estimatedWaitMs: null });
    const p = decisionPayload(e, { id: 'delivery-1', siteId: 'branch-1' });
    expect(Object.keys(p).sort()).toEqual(
      [
        'event',
        'version',
        'id',
        'siteId',
        'callId',
        'decisionId',
        'at',
        'trigger',
        'action',
        'requestedGroupId',
        'groupId',
        'agentId',
        'priority',
        'needsSenior',
        'estimatedWaitMs',
        'overflow',
        'reasonCodes',
      ].sort(),
    );
    expect(p).toMatchObject({
      event: 'route.decision',
      version: 1,
      id: 'delivery-1',
      siteId: 'branch-1',
      callId: e.callId,
      decisionId: e.decisionId,
      at: e.at,
      trigger: 'utterance',
      action: 'agent',
      groupId: 'cards',
      agentId: 'ada',
      priority: 35,
      needsSenior: true,
      estimatedWaitMs: null,
      overflow: { from: 'cards', action: 'adjacent' },
      reasonCodes: ['intent.group', 'priority.repeat', 'agent.longest-idle'],
    });
    const json = JSON.stringify(p);
    expect(plantedIn(json, ['+15550199', '15550199', 'Jane Doe', 'block my card', '4111', 'unresolved', 'idle 4 s'])).toEqual([]);
    for (const field of ['summary', 'reasons', 'text', 'latencyMs', 'decideMs', 'callerNumber', 'callerHash', 'transcript'])
      expect(json).not.toContain(`"${field}"`);
  });
});

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return isEdgeVoxError(err) ? `${err.code}: ${err.message}` : 'other';
  }
};

describe('routing webhook: configuration', () => {
  it('is off by default, with the documented defaults', () => {
    expect(validateConfig({}).routing.webhook).toEqual({ url: '', secret: '', timeoutMs: 2000, maxAttempts: 3, maxPending: 1000 });
  });

  it('accepts http and https URLs and refuses others when the configuration is loaded', () => {
    for (const url of ['http://127.0.0.1:8088/hook', 'https://cti.example.com/edgevox?token=abc', 'https://[::1]:9443/x'])
      expect(validateConfig({ routing: { webhook: { url, secret: SECRET } } }).routing.webhook.url).toBe(url);
    for (const url of ['ftp://cti.example.com/hook', 'cti.example.com/hook', 'https://user:pw@cti.example.com/hook', 'http://a b/'])
      expect(codeOf(() => validateConfig({ routing: { webhook: { url, secret: SECRET } } }))).toMatch(
        /^EVX_ERR_CONFIG_INVALID: .*'routing\.webhook\.url'/,
      );
  });

  it('checks the URL and the secret again when the webhook is built, without quoting the secret', () => {
    expect(codeOf(() => parseWebhookUrl('https://cti.example.com/hook'))).toBe('ok');
    expect(codeOf(() => parseWebhookUrl('gopher://x/'))).toMatch(/routing\.webhook\.url' must be an http or https URL/);
    expect(codeOf(() => parseWebhookUrl('http://u:p@x/'))).toMatch(/must not carry a user name or password/);
    expect(codeOf(() => checkWebhookSecret(SECRET))).toBe('ok');
    const short = codeOf(() => checkWebhookSecret('hunter2'));
    expect(short).toMatch(/^EVX_ERR_CONFIG_INVALID: .*'routing\.webhook\.secret' must be at least 16 characters/);
    expect(short).not.toContain('hunter2');
    expect(codeOf(() => webhook('http://127.0.0.1:9/', { secret: '' }))).toMatch(/routing\.webhook\.secret/);
  });
});

describe('routing webhook: delivery over HTTP', () => {
  it('delivers a decision once on 2xx, signed, with the delivery id, event and user agent', async () => {
    const { rx, url } = await receiver((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
    const w = webhook(url);
    const e = decision();
    w.enqueue(e);
    await w.idle();
    expect(rx.requests).toHaveLength(1);
    const [r] = rx.requests;
    expect(r!.headers['content-type']).toBe('application/json');
    expect(r!.headers['user-agent']).toBe(WEBHOOK_USER_AGENT);
    expect(r!.headers['x-edgevox-event']).toBe('route.decision');
    const ts = r!.headers['x-edgevox-timestamp'] as string;
    expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(5);
    expect(verifyWebhookSignature(SECRET, { timestamp: ts, signature: r!.headers['x-edgevox-signature'] as string }, r!.body)).toBe(true);
    const body = rx.bodies()[0]!;
    expect(body).toMatchObject({ event: 'route.decision', callId: e.callId, decisionId: e.decisionId, siteId: 'branch-1' });
    expect(r!.headers['x-edgevox-delivery']).toBe(body['id']);
    expect(w.counters()).toMatchObject({ delivered: 1, rejected: 0, failed: 0, dropped: 0, retries: 0, pending: 0, inFlight: 0 });
  });

  it('retries a 500 with backoff and delivers it, same delivery id, freshly signed', async () => {
    const { rx, url } = await receiver((_req, res, _body, n) => res.writeHead(n === 1 ? 500 : 200).end());
    const w = webhook(url);
    w.enqueue(decision());
    await w.idle();
    expect(rx.requests).toHaveLength(2);
    expect(rx.requests[1]!.headers['x-edgevox-delivery']).toBe(rx.requests[0]!.headers['x-edgevox-delivery']);
    for (const r of rx.requests)
      expect(
        verifyWebhookSignature(
          SECRET,
          { timestamp: r.headers['x-edgevox-timestamp'] as string, signature: r.headers['x-edgevox-signature'] as string },
          r.body,
        ),
      ).toBe(true);
    expect(w.counters()).toMatchObject({ delivered: 1, retries: 1, failed: 0 });
  });

  it('retries a 429, honouring a short Retry-After', async () => {
    const { rx, url } = await receiver((_req, res, _body, n) => res.writeHead(n === 1 ? 429 : 202, { 'retry-after': '0' }).end());
    const w = webhook(url, { backoffBaseMs: 60_000, backoffMaxMs: 60_000 });
    w.enqueue(decision());
    await w.idle();
    expect(rx.requests).toHaveLength(2);
    expect(w.counters()).toMatchObject({ delivered: 1, retries: 1 });
  });

  it('never retries a 4xx or a redirect', async () => {
    const { rx, url } = await receiver((_req, res, _body, n) =>
      n === 1 ? res.writeHead(400).end('bad') : res.writeHead(302, { location: 'http://127.0.0.1:9/elsewhere' }).end(),
    );
    const w = webhook(url);
    w.enqueue(decision());
    await w.idle();
    w.enqueue(decision());
    await w.idle();
    expect(rx.requests).toHaveLength(2);
    expect(w.counters()).toMatchObject({ delivered: 0, rejected: 2, retries: 0, failed: 0 });
  });

  it('gives up after maxAttempts on 503 and on a refused connection', async () => {
    const { rx, url } = await receiver((_req, res) => res.writeHead(503).end());
    const w = webhook(url, { maxAttempts: 3 });
    w.enqueue(decision());
    await w.idle();
    expect(rx.requests).toHaveLength(3);
    expect(w.counters()).toMatchObject({ delivered: 0, failed: 1, retries: 2 });

    // a port nobody listens on
    const gone = new Receiver();
    const goneUrl = await gone.start();
    await gone.stop();
    const w2 = webhook(goneUrl, { maxAttempts: 2 });
    w2.enqueue(decision());
    await w2.idle();
    expect(w2.counters()).toMatchObject({ delivered: 0, failed: 1, retries: 1 });
  });

  it('times out a receiver that never answers without holding up the decisions after it', async () => {
    const hung = new Set<string>();
    const { rx, url } = await receiver((_req, res, body) => {
      const callId = (JSON.parse(body) as { callId: string }).callId;
      if (hung.has(callId)) return; // never answered
      res.writeHead(204).end();
    });
    const w = webhook(url, { timeoutMs: 1000, maxAttempts: 1 });
    const first = decision();
    hung.add(first.callId);
    const t0 = Date.now();
    w.enqueue(first);
    await until(() => rx.requests.length === 1);
    const later = [decision(), decision(), decision()];
    for (const e of later) w.enqueue(e);
    await until(() => w.counters().delivered === 3);
    // the three later ones got through while the first was still hanging
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(w.counters().failed).toBe(0);
    await w.idle();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(w.counters()).toMatchObject({ delivered: 3, failed: 1, inFlight: 0 });
    await until(() => rx.aborted === 1);
  });

  it('keeps at most maxPending decisions: the oldest are dropped and counted', async () => {
    const { rx, url } = await receiver();
    const w = webhook(url, { maxPending: 3 });
    const all = Array.from({ length: 10 }, () => decision());
    // all queued before the first request can start (sending begins on the next turn of the loop)
    for (const e of all) w.enqueue(e);
    expect(w.counters()).toMatchObject({ pending: 3, dropped: 7 });
    await w.idle();
    expect(rx.bodies().map((b) => b['callId'])).toEqual(all.slice(7).map((e) => e.callId));
    expect(w.counters()).toMatchObject({ delivered: 3, dropped: 7 });
  });

  it('close() aborts a request in flight, drops what is unsent, refuses new decisions, and is idempotent', async () => {
    const { rx, url } = await receiver(() => undefined); // never answers
    const w = webhook(url, { timeoutMs: 30_000, closeGraceMs: 50 });
    w.enqueue(decision());
    await until(() => rx.requests.length === 1);
    // four in flight at most: these wait in the queue
    for (let i = 0; i < 5; i++) w.enqueue(decision());
    await until(() => rx.requests.length === 4);
    const t0 = Date.now();
    const closing = w.close();
    expect(w.close()).toBe(closing);
    await closing;
    expect(Date.now() - t0).toBeLessThan(1000);
    await until(() => rx.aborted === 4);
    w.enqueue(decision());
    expect(w.counters()).toMatchObject({ delivered: 0, dropped: 6, pending: 0, inFlight: 0 });
    expect(rx.requests).toHaveLength(4);
  });

  it('close() lets a request in flight finish within the grace, and drops a pending retry', async () => {
    const { rx, url } = await receiver((_req, res, _body, n) => {
      if (n === 1) res.writeHead(500).end();
      else setTimeout(() => res.writeHead(200).end(), 100);
    });
    const w = webhook(url, { backoffBaseMs: 60_000, backoffMaxMs: 60_000, closeGraceMs: 2000 });
    w.enqueue(decision()); // 500: waits a minute for its retry
    await until(() => w.counters().retries === 1);
    w.enqueue(decision()); // answered after 100 ms
    await until(() => rx.requests.length === 2);
    await w.close();
    expect(w.counters()).toMatchObject({ delivered: 1, dropped: 1, retries: 1, pending: 0 });
  });

  it('logs failures at warn with the target origin only: no path, query, secret or payload', async () => {
    const { rx, url } = await receiver((_req, res) => res.writeHead(404).end());
    const { logger, log } = captureLogger('debug');
    const w = webhook(`${url}/tok-3141592?key=k-2718281`, { logger });
    w.enqueue(decision());
    await w.idle();
    expect(rx.requests).toHaveLength(1);
    const warn = log.lines.find((l) => l['msg'] === 'routing webhook refused a decision (not retried)');
    expect(warn).toMatchObject({ level: 40, status: 404, target: new URL(url).origin });
    const text = JSON.stringify(log.lines);
    expect(plantedIn(text, ['tok-3141592', 'k-2718281', SECRET, 'hooks/edgevox', 'Jane Doe', '15550199', 'reasonCodes'])).toEqual([]);
  });
});

describe('routing webhook on the bus, behind the routing service', () => {
  it('sends the decisions the service publishes, never a SIPREC session, and routing never waits for the receiver', async () => {
    const { rx, url } = await receiver(() => undefined); // a receiver that never answers
    const bus = new EventBus();
    const store = Store.open(scratchDir('webhook'));
    const service = new RoutingService({
      repo: new RoutingRepo(store.db, store.write.bind(store)),
      bus,
      logger: silent,
      targets: new TransferTargetPolicy(['pbx.test']),
    });
    try {
      service.configure(banking77Sample((id) => `sip:${id}@pbx.test`));
      const w = webhook(url, { timeoutMs: 5000, closeGraceMs: 0 });
      w.attach(bus);
      // a SIPREC session that somehow got a decision (the service and the router refuse to route one)
      bus.publish({ type: 'call.started', at: Date.now(), callId: 'siprec-1', source: 'siprec', legs: [] });
      bus.publish(decision({ callId: 'siprec-1' }));

      const intent = { intent: 'lost_or_stolen_card', confidence: 0.9, outOfScope: false };
      const t0 = performance.now();
      for (let i = 0; i < 50; i++) service.route({ callId: `c-${i}`, intent, emotion: null, profile: null });
      const elapsed = performance.now() - t0;
      expect(elapsed).toBeLessThan(500);
      await until(() => rx.requests.length === 4);
      expect(w.counters()).toMatchObject({ inFlight: 4, pending: 46 });
      expect(rx.bodies().map((b) => b['callId'])).toEqual(['c-0', 'c-1', 'c-2', 'c-3']);
      expect(rx.bodies()[0]).toMatchObject({ action: 'agent', groupId: 'security', reasonCodes: expect.arrayContaining(['intent.group']) });
    } finally {
      service.close();
      store.close();
    }
  });
});

describe('routing webhook: wiring (startRouting)', () => {
  it('starts with routing when a URL and a secret are set, and closes with it', async () => {
    const { rx, url } = await receiver(() => undefined); // never answers: close() must not wait for it
    const store = Store.open(scratchDir('webhook-wiring'));
    const bus = new EventBus();
    const { logger, log } = captureLogger();
    const config = validateConfig({ dataDir: scratchDir('webhook-cfg'), routing: { webhook: { url, secret: SECRET, timeoutMs: 30_000 } } });
    const routing = startRouting({ config, store, bus, logger });
    try {
      expect(routing.webhook).not.toBeNull();
      expect(log.lines.find((l) => l['msg'] === 'routing webhook on')).toMatchObject({ target: new URL(url).origin, mode: 'pbx' });
      bus.publish(decision());
      await until(() => rx.requests.length === 1);
      const t0 = Date.now();
      await routing.close();
      await routing.close();
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(routing.webhook!.counters()).toMatchObject({ dropped: 1, inFlight: 0 });
      bus.publish(decision());
      await new Promise((r) => setTimeout(r, 20));
      expect(rx.requests).toHaveLength(1);
    } finally {
      store.close();
    }
  });

  it('refuses a URL without a secret of 16 characters when the configuration is loaded, naming the key and not the secret', async () => {
    const store = Store.open(scratchDir('webhook-wiring'));
    try {
      for (const secret of ['', 'hunter2-short']) {
        const refused = codeOf(() =>
          validateConfig({ dataDir: scratchDir('webhook-cfg'), routing: { webhook: { url: 'https://cti.example.com/hook', secret } } }),
        );
        expect(refused).toMatch(/^EVX_ERR_CONFIG_INVALID: .*'routing\.webhook\.secret' must be at least 16 characters/);
        expect(refused).not.toContain('hunter2');
      }
      // no URL: off, silently
      const { logger, log } = captureLogger();
      const routing = startRouting({ config: validateConfig({ dataDir: scratchDir('webhook-cfg') }), store, bus: new EventBus(), logger });
      expect(routing.webhook).toBeNull();
      expect(log.lines.filter((l) => String(l['msg']).includes('webhook'))).toEqual([]);
      await routing.close();
    } finally {
      store.close();
    }
  });
});
