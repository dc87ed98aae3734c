/**
 * TrunkSupervisor on a scripted SIP peer and a hand-driven clock: keep-alive states, the
 * registration state machine (challenges, refused credentials, stale nonces, 423, backoff,
 * refresh), close, and the out-of-dialog requests it builds.
 */
import { describe, expect, it } from 'vitest';
import { DigestAuthenticator, parseDigest } from '../../../appliance/sip/auth.js';
import { parseNameAddr, parseVia } from '../../../appliance/sip/grammar.js';
import type { SipPeer, SipRequest, SipResponse } from '../../../appliance/sip/message.js';
import { createOptions, createRegister } from '../../../appliance/sip/outOfDialog.js';
import { DEFAULT_SIP_LIMITS, parseSipMessage } from '../../../appliance/sip/parser.js';
import { buildResponse, serializeSipMessage } from '../../../appliance/sip/serialize.js';
import { evxError } from '../../../appliance/errors.js';
import { refreshDelayMs } from '../../../appliance/telephony/trunkRegistration.js';
import type { TimerHandle, TrunkClock, TrunkConfig, TrunkEvents, TrunkSignalling } from '../../../appliance/telephony/trunkTypes.js';
import { TrunkSupervisor } from '../../../appliance/telephony/trunks.js';

const flush = () => new Promise<void>((r) => setImmediate(r));

/** Timers that fire only when the test moves time on. */
class ManualClock implements TrunkClock {
  t = 1_700_000_000_000;
  private n = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    this.timers.set(++this.n, { at: this.t + ms, fn });
    return this.n as unknown as TimerHandle;
  }
  clearTimeout(h: TimerHandle): void {
    this.timers.delete(h as unknown as number);
  }
  get pending(): number {
    return this.timers.size;
  }
  /** Run every timer due within `ms`, in order, letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await flush();
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (next === undefined || e[1].at < next[1].at)) next = e;
      if (next === undefined) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
      for (let i = 0; i < 5; i++) await flush();
    }
    this.t = end;
    await flush();
  }
}

type Answer = SipResponse | 'timeout' | 'hang';

/** A peer that answers each request with what `script` says. */
class ScriptedPeer implements TrunkSignalling {
  readonly sent: SipRequest[] = [];
  constructor(public script: (req: SipRequest) => Answer) {}
  request(req: SipRequest, _peer: SipPeer): Promise<SipResponse> {
    // what goes on the wire is what the parser reads back
    const wire = parseSipMessage(serializeSipMessage(req), DEFAULT_SIP_LIMITS, true);
    if (!wire.ok || wire.message.kind !== 'request') throw new Error('unparseable request');
    this.sent.push(wire.message);
    const a = this.script(wire.message);
    if (a === 'hang') return new Promise(() => {});
    if (a === 'timeout') return Promise.reject(evxError('EVX_ERR_SIP_TRANSACTION_TIMEOUT', 'no answer'));
    return Promise.resolve(a);
  }
  localEndpoint(peer: SipPeer) {
    return { host: '192.0.2.10', port: 5070, transport: peer.transport };
  }
  registers(): SipRequest[] {
    return this.sent.filter((r) => r.method === 'REGISTER');
  }
}

const creds = { username: '441632960001', password: 'registrar secret' };
/** A clock for the server-side authenticator: every nonce it makes is new. */
const ticking = () => {
  let t = 1_700_000_000_000;
  return () => ++t;
};

function supervise(trunks: TrunkConfig[], peer: ScriptedPeer, clock: ManualClock, extra: { unregisterWaitMs?: number } = {}) {
  const events: { type: keyof TrunkEvents; e: TrunkEvents[keyof TrunkEvents] }[] = [];
  const sup = new TrunkSupervisor({ trunks, signalling: peer, clock, random: () => 0.5, ...extra });
  sup.events.on('trunk.state', (e) => events.push({ type: 'trunk.state', e }));
  sup.events.on('trunk.registration', (e) => events.push({ type: 'trunk.registration', e }));
  sup.start();
  return { sup, events };
}

const trunk = (over: Partial<TrunkConfig> = {}): TrunkConfig => ({
  name: 'carrier-a',
  host: 'sbc.example.net',
  port: 0,
  transport: 'udp',
  keepaliveSec: 0,
  ...over,
});

describe('out-of-dialog requests', () => {
  const local = { host: '192.0.2.10', port: 5070, transport: 'udp' as const };

  it('OPTIONS: fresh branch with rport, Max-Forwards 70, From tag, User-Agent, Content-Length 0', () => {
    const a = createOptions({ host: 'sbc.example.net', port: 5060, transport: 'udp' }, local);
    const b = createOptions({ host: 'sbc.example.net', port: 5060, transport: 'udp' }, local);
    const text = serializeSipMessage(a).toString('latin1');
    expect(text).toMatch(/^OPTIONS sip:sbc\.example\.net:5060 SIP\/2\.0\r\n/);
    expect(text).toContain('Max-Forwards: 70\r\n');
    expect(text).toContain('User-Agent: EdgeVox\r\n');
    expect(text).toContain('Content-Length: 0\r\n');
    const via = parseVia(a.headers.get('via')!)!;
    expect(via.branch).toMatch(/^z9hG4bK/);
    expect(via.params.has('rport')).toBe(true);
    expect(via.branch).not.toBe(parseVia(b.headers.get('via')!)!.branch);
    expect(parseNameAddr(a.headers.get('from')!)!.params.get('tag')).toBeTruthy();
    expect(a.headers.get('call-id')).not.toBe(b.headers.get('call-id'));
  });

  it('REGISTER: AOR in From and To, domain Request-URI, Expires and the Contact expires, transport in the URI', () => {
    const id = {
      registrar: { host: 'sbc.example.net', port: 5061, transport: 'tls' as const },
      domain: 'example.net',
      username: 'user one',
      callId: 'cid@x',
      fromTag: 'ft',
    };
    const r = createRegister(id, { ...local, transport: 'tls' }, 7, 600);
    expect(r.uri).toBe('sip:example.net;transport=tls');
    expect(r.headers.get('to')).toBe('<sip:user%20one@example.net>');
    expect(r.headers.get('from')).toBe('<sip:user%20one@example.net>;tag=ft');
    expect(r.headers.get('cseq')).toBe('7 REGISTER');
    expect(r.headers.get('expires')).toBe('600');
    expect(r.headers.get('contact')).toBe('<sip:edgevox@192.0.2.10:5070;transport=tls>;expires=600');
    expect(r.headers.get('via')).toMatch(/^SIP\/2\.0\/TLS 192\.0\.2\.10:5070;branch=z9hG4bK\w+;rport$/);
    expect(createRegister({ ...id, domain: 'sbc.example.net' }, local, 8, 0).uri).toBe('sip:sbc.example.net:5061;transport=tls');
  });
});

describe('refresh timing', () => {
  it('refreshes at about 80%, at least 30 s before the end, never before half', () => {
    expect(refreshDelayMs(600)).toBe(480_000);
    expect(refreshDelayMs(3600)).toBe(2_880_000);
    expect(refreshDelayMs(120)).toBe(90_000);
    expect(refreshDelayMs(60)).toBe(30_000);
    expect(refreshDelayMs(40)).toBe(20_000);
  });
});

describe('keep-alive', () => {
  it('is up on any answer, down after two silent probes, up again on one answer; the first probe is jittered', async () => {
    const clock = new ManualClock();
    let answer: number | 'timeout' = 404;
    const peer = new ScriptedPeer((req) => (answer === 'timeout' ? 'timeout' : buildResponse(req, answer)));
    const { sup, events } = supervise([trunk({ keepaliveSec: 30 })], peer, clock);
    expect(sup.status()[0]).toMatchObject({ state: 'unknown', rttMs: null, registration: null, port: 5060 });
    await clock.advance(2499);
    expect(peer.sent).toHaveLength(0);
    await clock.advance(1); // jitter: 0.5 of min(30 s, 5 s)
    expect(peer.sent).toHaveLength(1);
    expect(sup.status()[0]).toMatchObject({ state: 'up', reason: 'answered 404', rttMs: 0 });
    answer = 'timeout';
    await clock.advance(30_000);
    expect(sup.status()[0]!.state).toBe('up'); // one failure is not enough
    await clock.advance(30_000);
    expect(sup.status()[0]).toMatchObject({ state: 'down', reason: 'no answer', rttMs: null });
    answer = 200;
    await clock.advance(30_000);
    expect(sup.status()[0]!.state).toBe('up');
    expect(events.map((x) => `${x.type}:${(x.e as { state: string }).state}`)).toEqual([
      'trunk.state:up',
      'trunk.state:down',
      'trunk.state:up',
    ]);
    expect(peer.sent.every((r) => r.method === 'OPTIONS')).toBe(true);
    await sup.close();
    expect(clock.pending).toBe(0);
  });

  it('is off with keepaliveSec 0: the state stays unknown, nothing is sent', async () => {
    const clock = new ManualClock();
    const peer = new ScriptedPeer((req) => buildResponse(req, 200));
    const { sup } = supervise([trunk()], peer, clock);
    await clock.advance(600_000);
    expect(peer.sent).toHaveLength(0);
    expect(sup.status()[0]!.state).toBe('unknown');
    await sup.close();
  });
});

/** A registrar on the real server-side authenticator; `grant` answers authorized REGISTERs. */
function registrar(
  opts: { password?: string; grant?: (req: SipRequest) => SipResponse; challenge?: (req: SipRequest) => string[]; status?: 401 | 407 } = {},
) {
  const auth = new DigestAuthenticator({
    realm: 'example.net',
    accounts: [{ username: creds.username, password: opts.password ?? creds.password }],
    now: ticking(),
  });
  const status = opts.status ?? 401;
  return (req: SipRequest): Answer => {
    const header = status === 401 ? 'authorization' : 'proxy-authorization';
    if (auth.verify(req.headers.get(header), 'REGISTER') !== 'ok') {
      return buildResponse(req, status, {
        headers: { [status === 401 ? 'www-authenticate' : 'proxy-authenticate']: opts.challenge?.(req) ?? auth.challenges() },
      });
    }
    return (
      opts.grant?.(req) ??
      buildResponse(req, 200, { headers: { contact: `${req.headers.get('contact')!.replace(/;expires=\d+/, '')};expires=120` } })
    );
  };
}

describe('registration', () => {
  it('answers the challenge, honours the Contact grant, refreshes at 90 s of 120 and removes the binding on close', async () => {
    const clock = new ManualClock();
    const peer = new ScriptedPeer(registrar());
    const { sup, events } = supervise([trunk({ register: { ...creds, domain: '', expiresSec: 600 } })], peer, clock);
    await clock.advance(0);
    const [first, second] = peer.registers();
    expect(first!.headers.has('authorization')).toBe(false);
    expect(parseDigest(second!.headers.get('authorization')!)).toMatchObject({
      algorithm: 'SHA-256',
      uri: 'sip:sbc.example.net:5060',
      nc: '00000001',
    });
    expect(second!.headers.get('call-id')).toBe(first!.headers.get('call-id'));
    expect(Number.parseInt(second!.headers.get('cseq')!, 10)).toBe(Number.parseInt(first!.headers.get('cseq')!, 10) + 1);
    expect(sup.status()[0]!.registration).toMatchObject({ state: 'registered', expiresSec: 120, reason: 'answered 200' });
    await clock.advance(89_999);
    expect(peer.registers()).toHaveLength(2);
    await clock.advance(1);
    expect(peer.registers()).toHaveLength(4); // refresh: challenged again, answered again
    expect(sup.status()[0]!.registration!.state).toBe('registered');
    await sup.close();
    const removal = peer.registers().slice(4);
    expect(removal.map((r) => r.headers.get('expires'))).toEqual(['0', '0']);
    expect(removal[1]!.headers.get('contact')).toMatch(/;expires=0$/);
    expect(sup.status()[0]!.registration).toMatchObject({ state: 'unregistered', reason: 'closed' });
    expect(clock.pending).toBe(0);
    expect(events.filter((x) => x.type === 'trunk.registration').map((x) => (x.e as { state: string }).state)).toEqual([
      'registered',
      'unregistered',
    ]);
    const said = JSON.stringify(events) + JSON.stringify(sup.status());
    expect(said).not.toContain(creds.username);
    expect(said).not.toContain(creds.password);
  });

  it('takes the Expires header when the Contact has no expires', async () => {
    const clock = new ManualClock();
    const peer = new ScriptedPeer(registrar({ grant: (req) => buildResponse(req, 200, { headers: { expires: '3600' } }) }));
    const { sup } = supervise([trunk({ register: { ...creds, domain: '', expiresSec: 600 } })], peer, clock);
    await clock.advance(0);
    expect(sup.status()[0]!.registration).toMatchObject({ state: 'registered', expiresSec: 3600 });
    await sup.close();
  });

  it('wrong password: failed "credentials refused" after one answer, then retries after 30 s, 60 s, 120 s', async () => {
    const clock = new ManualClock();
    const peer = new ScriptedPeer(registrar({ password: 'the right one' }));
    const { sup } = supervise([trunk({ register: { ...creds, domain: '', expiresSec: 600 } })], peer, clock);
    await clock.advance(0);
    // the registrar's second challenge has a fresh nonce: refused all the same, no second answer
    expect(peer.registers().map((r) => r.headers.has('authorization'))).toEqual([false, true]);
    expect(sup.status()[0]!.registration).toMatchObject({ state: 'failed', reason: 'credentials refused', expiresSec: 0 });
    await clock.advance(29_999);
    expect(peer.registers()).toHaveLength(2);
    await clock.advance(1);
    expect(peer.registers()).toHaveLength(4);
    await clock.advance(60_000);
    expect(peer.registers()).toHaveLength(6);
    await clock.advance(119_999);
    expect(peer.registers()).toHaveLength(6);
    await clock.advance(1);
    expect(peer.registers()).toHaveLength(8);
    await sup.close(); // not registered: nothing to remove
    expect(peer.registers()).toHaveLength(8);
    expect(clock.pending).toBe(0);
  });

  it('never answers the same nonce twice', async () => {
    const clock = new ManualClock();
    const fixed = 'Digest realm="example.net", nonce="always-the-same", qop="auth", stale=true';
    const peer = new ScriptedPeer((req) => buildResponse(req, 401, { headers: { 'www-authenticate': fixed } }));
    const { sup } = supervise([trunk({ register: { ...creds, domain: '', expiresSec: 600 } })], peer, clock);
    await clock.advance(0);
    expect(peer.registers().map((r) => r.headers.has('authorization'))).toEqual([false, true]);
    expect(sup.status()[0]!.registration!.reason).toBe('credentials refused');
    await sup.close();
  });

  it('answers a new nonce again when the registrar says the last one was stale', async () => {
    const clock = new ManualClock();
    const auth = new DigestAuthenticator({ realm: 'example.net', accounts: [creds], now: ticking() });
    let staleOnce = true;
    const peer = new ScriptedPeer((req) => {
      const v = auth.verify(req.headers.get('authorization'), 'REGISTER');
      if (v === 'ok' && staleOnce) {
        staleOnce = false;
        return buildResponse(req, 401, { headers: { 'www-authenticate': auth.challenges(true) } });
      }
      if (v === 'ok') return buildResponse(req, 200, { headers: { expires: '600' } });
      return buildResponse(req, 401, { headers: { 'www-authenticate': auth.challenges() } });
    });
    const { sup } = supervise([trunk({ register: { ...creds, domain: '', expiresSec: 600 } })], peer, clock);
    await clock.advance(0);
    expect(peer.registers()).toHaveLength(3);
    expect(sup.status()[0]!.registration!.state).toBe('registered');
    await sup.close();
  });

  it('answers a 407 with Proxy-Authorization', async () => {
    const clock = new ManualClock();
    const peer = new ScriptedPeer(registrar({ status: 407, grant: (req) => buildResponse(req, 200, { headers: { expires: '600' } }) }));
    const { sup } = supervise([trunk({ register: { ...creds, domain: '', expiresSec: 600 } })], peer, clock);
    await clock.advance(0);
    expect(peer.registers()[1]!.headers.has('proxy-authorization')).toBe(true);
    expect(peer.registers()[1]!.headers.has('authorization')).toBe(false);
    expect(sup.status()[0]!.registration!.state).toBe('registered');
    await sup.close();
  });

  it('423 Interval Too Brief: asks again with Min-Expires', async () => {
    const clock = new ManualClock();
    const peer = new ScriptedPeer((req) =>
      req.headers.get('expires') === '600'
        ? buildResponse(req, 423, { headers: { 'min-expires': '1800' } })
        : buildResponse(req, 200, { headers: { expires: req.headers.get('expires')! } }),
    );
    const { sup } = supervise([trunk({ register: { ...creds, domain: '', expiresSec: 600 } })], peer, clock);
    await clock.advance(0);
    expect(peer.registers().map((r) => r.headers.get('expires'))).toEqual(['600', '1800']);
    expect(sup.status()[0]!.registration).toMatchObject({ state: 'registered', expiresSec: 1800 });
    await sup.close();
  });

  it('a registrar that does not answer: failed "no answer"; close does not wait for a removal then', async () => {
    const clock = new ManualClock();
    const peer = new ScriptedPeer(() => 'timeout');
    const { sup } = supervise([trunk({ register: { ...creds, domain: '', expiresSec: 600 } })], peer, clock);
    await clock.advance(0);
    expect(sup.status()[0]!.registration).toMatchObject({ state: 'failed', reason: 'no answer' });
    await sup.close();
    expect(peer.registers()).toHaveLength(1);
  });

  it('close waits for the removal at most unregisterWaitMs', async () => {
    const clock = new ManualClock();
    let hang = false;
    const peer = new ScriptedPeer((req) => (hang ? 'hang' : buildResponse(req, 200, { headers: { expires: '600' } })));
    const { sup } = supervise([trunk({ register: { ...creds, domain: '', expiresSec: 600 } })], peer, clock, { unregisterWaitMs: 1000 });
    await clock.advance(0);
    hang = true;
    let closed = false;
    void sup.close().then(() => (closed = true));
    await clock.advance(999);
    expect(closed).toBe(false);
    await clock.advance(1);
    expect(closed).toBe(true);
    expect(sup.status()[0]!.registration).toMatchObject({ state: 'unregistered', reason: 'closed (removal not confirmed)' });
    expect(clock.pending).toBe(0);
  });
});
