/**
 * Trunk supervision end to end on loopback: a real SipServer (UDP, port 0) supervises a fake
 * provider — a UDP socket that answers OPTIONS (or goes silent) and acts as a registrar that
 * challenges with the real server-side DigestAuthenticator. Then the whole appliance: the trunks
 * API and metrics carry state but never the registration user name or password, and closing the
 * box removes the registration before SIP closes.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { DigestAuthenticator } from '../../../appliance/sip/auth.js';
import type { SipRequest } from '../../../appliance/sip/message.js';
import { DEFAULT_SIP_LIMITS, parseSipMessage } from '../../../appliance/sip/parser.js';
import { buildResponse, randomToken, serializeSipMessage } from '../../../appliance/sip/serialize.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import type { TrunkClock, TrunkConfig, TrunkEvents } from '../../../appliance/telephony/trunkTypes.js';
import { TrunkSupervisor } from '../../../appliance/telephony/trunks.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch, quietApplianceOverrides } from '../../helpers/auth.js';

const account = { username: `trunkuser${randomToken(3)}`, password: `pw-${randomToken(6)}` };

/** A provider: answers OPTIONS while `answering`, registers `account` with a digest challenge. */
class FakeProvider {
  readonly requests: SipRequest[] = [];
  answering = true;
  grantSec = 60;
  private readonly sock = dgram.createSocket('udp4');
  private readonly auth = new DigestAuthenticator({ realm: 'provider.test', accounts: [account] });
  port = 0;

  async open(): Promise<this> {
    this.sock.on('message', (b, rinfo) => this.onMessage(b, rinfo));
    await new Promise<void>((r) => this.sock.bind(0, '127.0.0.1', () => r()));
    this.port = this.sock.address().port;
    return this;
  }

  private onMessage(b: Buffer, rinfo: dgram.RemoteInfo): void {
    const parsed = parseSipMessage(b, DEFAULT_SIP_LIMITS, true);
    if (!parsed.ok || parsed.message.kind !== 'request') return;
    const req = parsed.message;
    this.requests.push(req);
    const reply = (status: number, headers: Record<string, string | readonly string[]> = {}) =>
      this.sock.send(serializeSipMessage(buildResponse(req, status, { toTag: randomToken(), headers })), rinfo.port, rinfo.address);
    if (req.method === 'OPTIONS') {
      if (this.answering) reply(200, { allow: 'INVITE, ACK, BYE, CANCEL, OPTIONS' });
      return;
    }
    if (req.method !== 'REGISTER') return reply(405);
    if (this.auth.verify(req.headers.get('authorization'), 'REGISTER') !== 'ok') {
      return reply(401, { 'www-authenticate': this.auth.challenges() });
    }
    if (req.headers.get('expires') === '0') return reply(200);
    const contact = req.headers.get('contact')!.replace(/;expires=\d+/, '');
    reply(200, { contact: `${contact};expires=${this.grantSec}`, expires: String(this.grantSec) });
  }

  registers(): SipRequest[] {
    return this.requests.filter((r) => r.method === 'REGISTER');
  }

  close(): Promise<void> {
    return new Promise((r) => this.sock.close(() => r()));
  }
}

/** Supervisor delays divided by 100 (a 30 s keep-alive every 300 ms); the SIP server's own timers are real. */
const SCALE = 100;
const fastClock: TrunkClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms / SCALE),
  clearTimeout: (t) => clearTimeout(t),
};

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function supervise(trunk: Omit<TrunkConfig, 'host' | 'port' | 'transport'>) {
  const provider = await new FakeProvider().open();
  open.push(provider);
  const base = 42000 + 2 * Math.floor(Math.random() * 4000);
  // T1 = 20 ms: an unanswered OPTIONS times out (Timer F, 64·T1) after 1.28 s
  const sip = new SipServer({
    port: 0,
    transports: ['udp'],
    rtpPortMin: base,
    rtpPortMax: base + 9,
    timers: { t1Ms: 20, t2Ms: 160, t4Ms: 200 },
  });
  await sip.listen();
  open.push(sip);
  const supervisor = new TrunkSupervisor({
    trunks: [{ host: '127.0.0.1', port: provider.port, transport: 'udp', ...trunk }],
    signalling: sip,
    clock: fastClock,
    random: () => 0,
    unregisterWaitMs: 1000 * SCALE, // one real second
  });
  const events: { type: keyof TrunkEvents; state: string; reason: string; e: unknown }[] = [];
  supervisor.events.on('trunk.state', (e) => events.push({ type: 'trunk.state', state: e.state, reason: e.reason, e }));
  supervisor.events.on('trunk.registration', (e) => events.push({ type: 'trunk.registration', state: e.state, reason: e.reason, e }));
  open.push(supervisor); // closed before the SIP server (reverse order)
  supervisor.start();
  return { provider, sip, supervisor, events };
}

describe('trunk keep-alive through a real SipServer', () => {
  it('is up while the provider answers OPTIONS, down when it stops, up again when it answers', async () => {
    const { provider, supervisor, events } = await supervise({ name: 'carrier-a', keepaliveSec: 30 });
    await until(() => supervisor.status()[0]!.state === 'up', 2000, 'trunk up');
    const up = supervisor.status()[0]!;
    expect(up.reason).toBe('answered 200');
    expect(up.rttMs).toBeGreaterThanOrEqual(0);
    expect(up.rttMs).toBeLessThan(500);
    const probes = provider.requests.filter((r) => r.method === 'OPTIONS');
    expect(probes[0]!.headers.get('user-agent')).toBe('EdgeVox');
    expect(probes[0]!.headers.get('via')).toMatch(/;rport/);

    provider.answering = false;
    await until(() => supervisor.status()[0]!.state === 'down', 8000, 'trunk down');
    expect(supervisor.status()[0]).toMatchObject({ reason: 'no answer', rttMs: null });

    provider.answering = true;
    await until(() => supervisor.status()[0]!.state === 'up', 4000, 'trunk up again');
    expect(events.filter((e) => e.type === 'trunk.state').map((e) => e.state)).toEqual(['up', 'down', 'up']);
  });
});

describe('trunk registration through a real SipServer', () => {
  it('registers with digest auth, honours Expires 60 (refreshes), and removes the binding on close', async () => {
    const { provider, supervisor, events } = await supervise({
      name: 'carrier-b',
      keepaliveSec: 0,
      register: { ...account, domain: 'provider.test', expiresSec: 600 },
    });
    await until(() => supervisor.status()[0]!.registration?.state === 'registered', 3000, 'registered');
    expect(supervisor.status()[0]!.registration).toMatchObject({ expiresSec: 60, reason: 'answered 200' });
    const [challenged, answered] = provider.registers();
    expect(challenged!.headers.has('authorization')).toBe(false);
    expect(challenged!.headers.get('expires')).toBe('600');
    expect(answered!.headers.get('authorization')).toMatch(/^Digest username="trunkuser\w+", realm="provider.test".*algorithm=SHA-256/);
    expect(answered!.uri).toBe('sip:provider.test');
    expect(answered!.headers.get('to')).toBe(`<sip:${account.username}@provider.test>`);

    // refresh at 30 s of 60 (300 ms here): a new challenge, answered, on the same Call-ID
    const authorized = () => provider.registers().filter((r) => r.headers.has('authorization'));
    await until(() => authorized().length >= 2, 3000, 'refresh');
    expect(authorized()[1]!.headers.get('call-id')).toBe(answered!.headers.get('call-id'));
    expect(supervisor.status()[0]!.registration!.state).toBe('registered');

    await supervisor.close();
    const removal = provider.registers().filter((r) => r.headers.get('expires') === '0');
    expect(removal.length).toBeGreaterThanOrEqual(1);
    expect(removal.at(-1)!.headers.has('authorization')).toBe(true);
    expect(supervisor.status()[0]!.registration).toMatchObject({ state: 'unregistered', reason: 'closed' });
    expect(events.filter((e) => e.type === 'trunk.registration').map((e) => e.state)).toEqual(['registered', 'unregistered']);
    const told = JSON.stringify(events);
    expect(told).not.toContain(account.username);
    expect(told).not.toContain(account.password);
  });

  it('wrong password: failed "credentials refused", one answer and no second attempt before the backoff', async () => {
    const { provider, supervisor } = await supervise({
      name: 'carrier-c',
      keepaliveSec: 0,
      register: { ...account, password: 'not the password', domain: '', expiresSec: 600 },
    });
    await until(() => supervisor.status()[0]!.registration?.state === 'failed', 3000, 'failed');
    expect(supervisor.status()[0]!.registration!.reason).toBe('credentials refused');
    // the 30 s backoff is 300 ms here: nothing more before it
    await new Promise((r) => setTimeout(r, 150));
    const sent = provider.registers();
    expect(sent.map((r) => r.headers.has('authorization'))).toEqual([false, true]);
    await until(() => provider.registers().length >= 4, 3000, 'retry after the backoff');
    const nonces = provider
      .registers()
      .map((r) => /nonce="([^"]+)"/.exec(r.headers.get('authorization') ?? '')?.[1])
      .filter((n) => n !== undefined);
    expect(new Set(nonces).size).toBe(nonces.length); // no nonce answered twice
  });
});

describe('trunks in the appliance', () => {
  const running: Appliance[] = [];
  afterEach(async () => {
    for (const a of running.splice(0)) await a.close();
  });

  it('GET /api/v1/sip/trunks and /metrics show the registration, never its user name or password; close unregisters', async () => {
    const provider = await new FakeProvider().open();
    open.push(provider);
    const { app, log } = await startTestAppliance(
      quietApplianceOverrides({
        sip: {
          transports: ['udp'],
          trunks: [
            { name: 'carrier-d', host: '127.0.0.1', port: provider.port, keepaliveSec: 30, register: { ...account, expiresSec: 600 } },
          ],
        },
      }),
      { transcribers: null },
    );
    running.push(app);
    const viewer = authedFetch(app, 'viewer');
    let body = '';
    const end = Date.now() + 5000;
    while (!body.includes('"registered"')) {
      if (Date.now() > end) throw new Error(`not registered in time; the API said ${body}`);
      const res = await viewer('/api/v1/sip/trunks');
      expect(res.status).toBe(200);
      body = await res.text();
      if (!body.includes('"registered"')) await new Promise((r) => setTimeout(r, 50));
    }
    expect(JSON.parse(body)).toMatchObject({
      trunks: [
        {
          name: 'carrier-d',
          transport: 'udp',
          host: '127.0.0.1',
          port: provider.port,
          registration: { state: 'registered', expiresSec: 60 },
        },
      ],
    });
    for (const role of ['viewer', 'technician'] as const) {
      const text = await (await authedFetch(app, role)('/api/v1/sip/trunks')).text();
      expect(text).not.toContain(account.username);
      expect(text).not.toContain(account.password);
    }
    expect((await fetch(`${app.httpUrl}/api/v1/sip/trunks`)).status).toBe(401);
    const metrics = await (await fetch(`${app.httpUrl}/metrics`)).text();
    expect(metrics).toContain('edgevox_sip_trunk_registered{trunk="carrier-d"} 1');
    expect(metrics).toMatch(/edgevox_sip_trunk_up\{trunk="carrier-d"\} [01]/);

    await app.close();
    expect(provider.registers().some((r) => r.headers.get('expires') === '0' && r.headers.has('authorization'))).toBe(true);
    const logged = JSON.stringify(log.lines);
    expect(log.lines.some((l) => l['msg'] === 'trunk registered' && l['trunk'] === 'carrier-d')).toBe(true);
    expect(logged).not.toContain(account.username);
    expect(logged).not.toContain(account.password);
  });
});
