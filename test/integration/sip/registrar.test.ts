/**
 * Agents' phones registering to the box: a real SipServer with a Registrar, driven by the scripted
 * UAC over UDP on loopback. Digest challenge and answer, refresh, several contacts, expiry by the
 * sweep, unregistering one or all, wrong passwords and the per-address block, third-party AORs,
 * malformed requests, CSeq ordering and the NAT rule (the flow wins over an unreachable Contact).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { answerChallenge } from '../../../appliance/sip/auth.js';
import type { SipRequest, SipResponse } from '../../../appliance/sip/message.js';
import { parseSipMessage } from '../../../appliance/sip/parser.js';
import { randomToken } from '../../../appliance/sip/serialize.js';
import { Registrar, type RegistrarOptions, type RegistrationChangedEvent } from '../../../appliance/telephony/registrar.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import type { TelephonyEvents } from '../../../appliance/telephony/types.js';
import { TestUac } from './uac.js';

const ACCOUNTS = new Map([
  ['alice', { agentId: 'agent-alice', password: 'alice-secret' }],
  ['bob', { agentId: 'agent-bob', password: 'bob-secret' }],
]);

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

interface Rig {
  server: SipServer;
  registrar: Registrar;
  changes: RegistrationChangedEvent[];
  rejected: TelephonyEvents['sip.rejected'][];
  uac(localAddress?: string): Promise<TestUac>;
}

async function start(opts: Partial<RegistrarOptions> = {}): Promise<Rig> {
  const registrar = new Registrar({ lookup: (u) => ACCOUNTS.get(u), ...opts });
  open.push(registrar);
  const base = 42000 + 2 * Math.floor(Math.random() * 4000);
  const server = new SipServer({ port: 0, transports: ['udp'], rtpPortMin: base, rtpPortMax: base + 9, registrar });
  const changes: RegistrationChangedEvent[] = [];
  registrar.events.on('registration.changed', (e) => changes.push(e));
  const rejected: TelephonyEvents['sip.rejected'][] = [];
  server.events.on('sip.rejected', (e) => rejected.push(e));
  const port = await server.listen();
  open.push(server);
  return {
    server,
    registrar,
    changes,
    rejected,
    uac: async (localAddress = '127.0.0.1') => {
      const u = await new TestUac(port, 'udp', {}, localAddress).open();
      open.push(u);
      return u;
    },
  };
}

type RegisterOpts = Omit<Parameters<TestUac['registerRequest']>[0], 'authorization'>;

/** The final response to the REGISTER sent with this CSeq, received after the `after`-th message. */
function finalFor(uac: TestUac, cseq: number, after: number): Promise<SipResponse> {
  return uac.waitFor(
    (m) =>
      m.kind === 'response' && m.status >= 200 && (m.headers.get('cseq') ?? '') === `${cseq} REGISTER` && uac.received.indexOf(m) >= after,
  ) as Promise<SipResponse>;
}

/** Send one REGISTER; its final response. */
async function send(uac: TestUac, opts: RegisterOpts & { authorization?: string }): Promise<SipResponse> {
  const cseq = opts.cseq ?? uac.cseq;
  const after = uac.received.length;
  uac.sendRaw(uac.registerRequest({ ...opts, cseq }));
  if (opts.cseq === undefined) uac.cseq = cseq + 1;
  return finalFor(uac, cseq, after);
}

/** The Authorization answering a 401 for `user`. */
function answer(uac: TestUac, challenge: SipResponse, user: string, password: string, nc = 1): string {
  return answerChallenge(challenge.headers.getAll('www-authenticate'), {
    method: 'REGISTER',
    uri: uac.registerUri,
    username: user,
    password,
    nc,
    cnonce: randomToken(),
  });
}

/** REGISTER, its 401, the REGISTER again with the answer: the second final response. */
async function register(uac: TestUac, password: string, opts: RegisterOpts): Promise<SipResponse> {
  const first = await send(uac, opts);
  if (first.status !== 401) return first;
  return send(uac, { ...opts, authorization: answer(uac, first, opts.fromUser ?? opts.user, password) });
}

/** Contact values of a 200 with their expires parameter: [uri, expires]. */
function listed(res: SipResponse): Array<[string, number]> {
  return res.headers.getAll('contact').map((c) => {
    const m = /^<([^>]+)>.*;expires=(\d+)/.exec(c);
    if (m === null) throw new Error(`unexpected Contact ${c}`);
    return [m[1]!, Number(m[2])];
  });
}

const tick = (ms = 50): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('Registrar behind the SipServer', () => {
  it('challenges, registers with the right password and lists the contact with its expires', async () => {
    const rig = await start();
    const phone = await rig.uac();
    const options = phone.request('OPTIONS');
    phone.sendRaw(options);
    expect((await phone.waitResponse('OPTIONS', 200)).headers.getAll('allow')).toContain('REGISTER');

    const challenge = await send(phone, { user: 'alice', expires: 600 });
    expect(challenge.status).toBe(401);
    expect(challenge.headers.getAll('www-authenticate').join(' ')).toMatch(/realm="edgevox"/);
    const ok = await send(phone, { user: 'alice', expires: 600, authorization: answer(phone, challenge, 'alice', 'alice-secret') });
    expect(ok.status).toBe(200);
    expect(listed(ok)).toEqual([[`sip:alice@127.0.0.1:${phone.port}`, 600]]);
    expect(ok.headers.get('date')).toMatch(/GMT$/);

    const contacts = rig.registrar.contactsOf('agent-alice');
    expect(contacts).toHaveLength(1);
    expect(contacts[0]).toMatchObject({
      contact: `sip:alice@127.0.0.1:${phone.port}`,
      flow: { transport: 'udp', address: '127.0.0.1', port: phone.port },
      reach: 'contact',
      userAgent: 'TestUac',
    });
    expect(contacts[0]!.expiresAt - Date.now()).toBeGreaterThan(595_000);
    expect(rig.changes).toEqual([{ agentId: 'agent-alice', contacts: 1, reason: 'registered', pii: expect.anything() }]);
    // nothing that identifies a person or a place outside pii
    const { pii: _pii, ...rest } = rig.changes[0]!;
    expect(JSON.stringify(rest)).not.toMatch(/127\.0\.0\.1|sip:|alice@/);
    // the challenge counts as an auth refusal, as INVITE's do
    expect(rig.rejected.map((r) => [r.reason, r.method, r.status])).toEqual([['auth', 'REGISTER', 401]]);
  });

  it('refreshes a binding; a query (no Contact) lists it without changing it', async () => {
    const rig = await start();
    const phone = await rig.uac();
    expect((await register(phone, 'alice-secret', { user: 'alice', expires: 300 })).status).toBe(200);
    const refresh = await register(phone, 'alice-secret', { user: 'alice', expires: 900 });
    expect(listed(refresh)).toEqual([[`sip:alice@127.0.0.1:${phone.port}`, 900]]);
    const query = await register(phone, 'alice-secret', { user: 'alice', contacts: [] });
    expect(query.status).toBe(200);
    expect(listed(query)).toHaveLength(1);
    expect(rig.changes.map((e) => [e.reason, e.contacts])).toEqual([
      ['registered', 1],
      ['refreshed', 1],
    ]);
    expect(rig.registrar.counters).toMatchObject({ registered: 1, refreshed: 1 });
  });

  it('holds several contacts per agent; beyond the limit the one expiring first is replaced', async () => {
    const rig = await start({ maxContactsPerAgent: 2 });
    const desk = await rig.uac();
    const soft = await rig.uac();
    const third = await rig.uac();
    await register(desk, 'alice-secret', { user: 'alice', expires: 300 });
    const two = await register(soft, 'alice-secret', { user: 'alice', expires: 600 });
    expect(listed(two)).toEqual([
      [`sip:alice@127.0.0.1:${desk.port}`, 300],
      [`sip:alice@127.0.0.1:${soft.port}`, 600],
    ]);
    expect(rig.registrar.contactsOf('agent-alice').map((c) => c.flow.port)).toEqual([desk.port, soft.port]);
    // bob's bindings are his own
    const bobPhone = await rig.uac();
    await register(bobPhone, 'bob-secret', { user: 'bob' });
    expect(rig.registrar.contactsOf('agent-bob')).toHaveLength(1);

    const three = await register(third, 'alice-secret', { user: 'alice', expires: 900 });
    expect(listed(three).map(([uri]) => uri)).toEqual([`sip:alice@127.0.0.1:${soft.port}`, `sip:alice@127.0.0.1:${third.port}`]);
    expect(rig.registrar.counters.evicted).toBe(1);
    expect(rig.changes.filter((e) => e.agentId === 'agent-alice').map((e) => e.contacts)).toEqual([1, 2, 2]);
  });

  it('expires bindings by the sweep (short expiries), refuses too brief ones with 423 and caps long ones', async () => {
    const rig = await start({ minExpiresSec: 1, maxExpiresSec: 120, sweepIntervalMs: 100 });
    const phone = await rig.uac();
    const capped = await register(phone, 'alice-secret', { user: 'alice', expires: 99_999 });
    expect(listed(capped)[0]![1]).toBe(120);
    const short = await register(phone, 'alice-secret', { user: 'alice', expires: 1 });
    expect(listed(short)[0]![1]).toBe(1);
    const deadline = Date.now() + 3000;
    while (!rig.changes.some((e) => e.reason === 'expired') && Date.now() < deadline) await tick();
    expect(rig.changes.at(-1)).toMatchObject({ agentId: 'agent-alice', contacts: 0, reason: 'expired' });
    expect(rig.registrar.contactsOf('agent-alice')).toEqual([]);
    expect(rig.registrar.size).toMatchObject({ agents: 0, bindings: 0 });

    const strict = await start({ minExpiresSec: 60 });
    const other = await strict.uac();
    const brief = await register(other, 'alice-secret', { user: 'alice', expires: 30 });
    expect(brief.status).toBe(423);
    expect(brief.headers.get('min-expires')).toBe('60');
    expect(strict.registrar.contactsOf('agent-alice')).toEqual([]);
  });

  it('unregisters one contact (expires=0), then all of them (Contact: * with Expires: 0)', async () => {
    const rig = await start();
    const phone = await rig.uac();
    const a = `<sip:alice@127.0.0.1:${phone.port}>`;
    const b = `<sip:alice-soft@127.0.0.1:${phone.port};transport=tcp>`;
    const c = `<sip:alice-web@127.0.0.1:${phone.port + 1}>`;
    const three = await register(phone, 'alice-secret', { user: 'alice', contacts: [a, b, c], expires: 600 });
    expect(listed(three)).toHaveLength(3);
    const one = await register(phone, 'alice-secret', { user: 'alice', contacts: [`${b};expires=0`] });
    expect(listed(one).map(([uri]) => uri)).toEqual([`sip:alice@127.0.0.1:${phone.port}`, `sip:alice-web@127.0.0.1:${phone.port + 1}`]);
    // `*` only with Expires: 0
    const starBad = await register(phone, 'alice-secret', { user: 'alice', contacts: ['*'], expires: 600 });
    expect(starBad.status).toBe(400);
    const all = await register(phone, 'alice-secret', { user: 'alice', contacts: ['*'], expires: 0 });
    expect(all.status).toBe(200);
    expect(all.headers.getAll('contact')).toEqual([]);
    expect(rig.registrar.contactsOf('agent-alice')).toEqual([]);
    expect(rig.changes.map((e) => [e.reason, e.contacts])).toEqual([
      ['registered', 3],
      ['unregistered', 2],
      ['unregistered', 0],
    ]);
  });

  it('answers a wrong password with 401; after 5 failures the address gets 403 without a challenge, another address does not', async () => {
    const rig = await start();
    const attacker = await rig.uac();
    for (let i = 0; i < 5; i++) {
      const res = await register(attacker, 'guess-' + i, { user: 'alice' });
      expect(res.status).toBe(401);
      expect(res.headers.getAll('www-authenticate').length).toBeGreaterThan(0);
    }
    // blocked: 403 and no challenge, even with no credentials or the right password
    const blocked = await send(attacker, { user: 'alice' });
    expect(blocked.status).toBe(403);
    expect(blocked.headers.getAll('www-authenticate')).toEqual([]);
    expect((await send(attacker, { user: 'bob' })).status).toBe(403);
    expect(rig.registrar.counters).toMatchObject({ authFailures: 5, blocks: 1, rateLimited: 2 });
    expect(rig.registrar.contactsOf('agent-alice')).toEqual([]);

    const elsewhere = await rig.uac('127.0.0.2');
    const ok = await register(elsewhere, 'alice-secret', { user: 'alice' });
    expect(ok.status).toBe(200);
    expect(rig.registrar.contactsOf('agent-alice')[0]!.flow).toEqual({ transport: 'udp', address: '127.0.0.2', port: elsewhere.port });
    expect(rig.rejected.every((r) => r.reason === 'auth')).toBe(true);
    expect(rig.server.counters.rejectedAuth).toBe(rig.rejected.length);
  });

  it('blocks again for twice as long after the first block ends', async () => {
    let now = 1_000_000;
    const registrar = new Registrar({ lookup: (u) => ACCOUNTS.get(u), now: () => now });
    open.push(registrar);
    const uac = new TestUac(5060);
    uac.port = 5062; // never opened: it only writes the requests
    const peer = { transport: 'udp' as const, address: '192.0.2.7', port: 5062 };
    const parse = (text: string): SipRequest => {
      const r = parseSipMessage(Buffer.from(text, 'latin1'));
      if (!r.ok || r.message.kind !== 'request') throw new Error(`unparsable request: ${text}`);
      return r.message;
    };
    const wrong = (): number => {
      const challenge = registrar.handle(parse(uac.registerRequest({ user: 'alice' })), peer);
      if (challenge.status !== 401) return challenge.status;
      const auth = answerChallenge(challenge.headers.getAll('www-authenticate'), {
        method: 'REGISTER',
        uri: uac.registerUri,
        username: 'alice',
        password: 'nope',
        nc: 1,
        cnonce: randomToken(),
      });
      return registrar.handle(parse(uac.registerRequest({ user: 'alice', authorization: auth })), peer).status;
    };
    for (let i = 0; i < 5; i++) expect(wrong()).toBe(401);
    expect(wrong()).toBe(403);
    now += 59_000;
    expect(wrong()).toBe(403);
    now += 1_001; // the first block (60 s) is over
    for (let i = 0; i < 5; i++) expect(wrong()).toBe(401);
    now += 119_000;
    expect(wrong()).toBe(403); // the second lasts 120 s
    now += 1_001;
    expect(wrong()).toBe(401);
    expect(registrar.counters.blocks).toBe(2);
  });

  it('refuses (403) an address of record that is not the authenticated username', async () => {
    const rig = await start();
    const phone = await rig.uac();
    // alice's credentials on bob's AOR
    const challenge = await send(phone, { user: 'bob' });
    expect(challenge.status).toBe(401);
    const res = await send(phone, { user: 'bob', authorization: answer(phone, challenge, 'alice', 'alice-secret') });
    expect(res.status).toBe(403);
    // From naming someone else (third-party registration)
    const third = await register(phone, 'alice-secret', { user: 'alice', fromUser: 'bob' });
    expect(third.status).toBe(403);
    expect(rig.registrar.contactsOf('agent-alice')).toEqual([]);
    expect(rig.registrar.contactsOf('agent-bob')).toEqual([]);
    expect(rig.registrar.counters.authFailures).toBe(2);
  });

  it('answers a malformed REGISTER with 400 and leaves the bindings alone', async () => {
    const rig = await start();
    const phone = await rig.uac();
    const ok = await register(phone, 'alice-secret', { user: 'alice', expires: 600 });
    expect(ok.status).toBe(200);
    const before = rig.registrar.contactsOf('agent-alice');
    // Contact syntax: refused by the parser before the registrar sees it
    expect((await send(phone, { user: 'alice', contacts: [`<sip:alice@127.0.0.1:${phone.port}`] })).status).toBe(400);
    // a bad expires parameter, a bad Expires header, a non-SIP contact: refused by the registrar
    expect((await send(phone, { user: 'alice', contacts: [`<sip:alice@127.0.0.1:1>;expires=soon`] })).status).toBe(400);
    expect((await send(phone, { user: 'alice', extra: ['Expires: never'] })).status).toBe(400);
    expect((await send(phone, { user: 'alice', contacts: ['<tel:+15550100>'] })).status).toBe(400);
    expect(rig.registrar.contactsOf('agent-alice')).toEqual(before);
    expect(rig.changes).toHaveLength(1);
    expect(rig.registrar.counters.malformed).toBe(3);
  });

  it('refuses a REGISTER with the same Call-ID and a CSeq not higher (500); bindings unchanged', async () => {
    const rig = await start();
    const phone = await rig.uac();
    const challenge = await send(phone, { user: 'alice' });
    const auth1 = answer(phone, challenge, 'alice', 'alice-secret', 1);
    expect((await send(phone, { user: 'alice', expires: 600, cseq: 10, authorization: auth1 })).status).toBe(200);
    const auth2 = answer(phone, challenge, 'alice', 'alice-secret', 2);
    const stale = await send(phone, { user: 'alice', expires: 0, cseq: 9, authorization: auth2 });
    expect(stale.status).toBe(500);
    const auth3 = answer(phone, challenge, 'alice', 'alice-secret', 3);
    expect((await send(phone, { user: 'alice', contacts: ['*'], expires: 0, cseq: 10, authorization: auth3 })).status).toBe(500);
    expect(rig.registrar.contactsOf('agent-alice')).toHaveLength(1);
    // a new Call-ID (the phone restarted) may change it
    const auth4 = answer(phone, challenge, 'alice', 'alice-secret', 4);
    const fresh = await send(phone, { user: 'alice', expires: 0, cseq: 1, callId: 'restarted@phone', authorization: auth4 });
    expect(fresh.status).toBe(200);
    expect(rig.registrar.contactsOf('agent-alice')).toEqual([]);
  });

  it('NAT: a Contact on a private address the request did not come from is reached through the flow', async () => {
    const rig = await start();
    const phone = await rig.uac();
    const res = await register(phone, 'alice-secret', { user: 'alice', contacts: ['<sip:alice@10.1.2.3:5060>'] });
    expect(listed(res)).toEqual([['sip:alice@10.1.2.3:5060', 3600]]);
    const flow = { transport: 'udp', address: '127.0.0.1', port: phone.port };
    expect(rig.registrar.contactsOf('agent-alice')).toEqual([
      expect.objectContaining({ contact: 'sip:alice@10.1.2.3:5060', flow, reach: 'flow', target: flow }),
    ]);
    // an RFC 5626 contact (;ob, +sip.instance) on the source address wants its flow too
    const ob = await register(phone, 'alice-secret', {
      user: 'alice',
      contacts: [`<sip:alice@127.0.0.1:${phone.port + 2};ob>;+sip.instance="<urn:uuid:00000000-0000-0000-0000-000000000001>";reg-id=1`],
    });
    expect(ob.headers.getAll('contact').find((c) => c.includes(';ob'))).toContain('+sip.instance="<urn:uuid:');
    const obBinding = rig.registrar.contactsOf('agent-alice').find((c) => c.instanceId !== undefined)!;
    expect(obBinding).toMatchObject({ reach: 'flow', target: flow, instanceId: '<urn:uuid:00000000-0000-0000-0000-000000000001>' });
  });

  it('without a registrar, REGISTER is 405 and Allow does not list it', async () => {
    const base = 42000 + 2 * Math.floor(Math.random() * 4000);
    const server = new SipServer({ port: 0, transports: ['udp'], rtpPortMin: base, rtpPortMax: base + 9 });
    const port = await server.listen();
    open.push(server);
    const uac = await new TestUac(port).open();
    open.push(uac);
    const res = await send(uac, { user: 'alice' });
    expect(res.status).toBe(405);
    expect(res.headers.getAll('allow')).not.toContain('REGISTER');
    expect(res.headers.getAll('allow')).toContain('INVITE');
  });
});
