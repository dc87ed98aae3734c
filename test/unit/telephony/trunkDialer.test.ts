/**
 * The trunk dialer's rules, without a network: number normalisation and the dialable number of a
 * caller's URI, allow-list prefixes and X patterns, the trunk chosen, the concurrent cap (held until
 * the call fails or its answered call ends) and the sliding hourly window (an injected clock), the
 * refusal reasons thrown before the line is touched, and the audit rows and events (masked numbers).
 */
import { describe, expect, it } from 'vitest';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import type { OutboundCall, OutboundOutcome } from '../../../appliance/telephony/outbound.js';
import type { TrunkLine } from '../../../appliance/telephony/outboundCalls.js';
import {
  allowedBy,
  dialableNumber,
  maskDialled,
  normaliseNumber,
  TrunkDialer,
  type TrunkDialerEvents,
} from '../../../appliance/telephony/trunkDialer.js';
import type { TrunkConfig, TrunkOutboundConfig } from '../../../appliance/telephony/trunkTypes.js';

function trunk(name: string, outbound: Partial<TrunkOutboundConfig> | undefined, extra: Partial<TrunkConfig> = {}): TrunkConfig {
  return {
    name,
    host: '192.0.2.10',
    port: 5060,
    transport: 'udp',
    keepaliveSec: 0,
    ...extra,
    ...(outbound === undefined
      ? {}
      : {
          outbound: {
            enabled: true,
            username: '',
            password: '',
            callerId: '+4930999000',
            callerName: '',
            assertIdentity: false,
            allow: ['+4930'],
            maxPerHour: 100,
            maxConcurrent: 10,
            ...outbound,
          },
        }),
  };
}

/** A call the fake line placed: its outcome is settled by the test. */
interface Placed {
  readonly opts: Parameters<TrunkLine['place']>[0];
  readonly route: Parameters<TrunkLine['place']>[1];
  readonly call: OutboundCall;
  settle(o: OutboundOutcome): void;
}

function harness(trunks: TrunkConfig[]) {
  const placed: Placed[] = [];
  const audit: Array<{ action: string; target: string; details: Record<string, unknown> }> = [];
  const ended: Array<(id: string) => void> = [];
  let clock = 1_000_000;
  let n = 0;
  const line: TrunkLine = {
    place: (opts, route) => {
      let settle: (o: OutboundOutcome) => void = () => {};
      const result = new Promise<OutboundOutcome>((r) => (settle = r));
      const call = { id: `call-${++n}`, result } as unknown as OutboundCall;
      placed.push({ opts, route, call, settle });
      return call;
    },
  };
  const dialer = new TrunkDialer({
    trunks,
    line,
    onCallEnded: (l) => {
      ended.push(l);
      return () => ended.splice(ended.indexOf(l), 1);
    },
    audit: (action, target, details) => audit.push({ action, target, details }),
    now: () => clock,
  });
  const events: Array<[keyof TrunkDialerEvents, unknown]> = [];
  dialer.events.on('outbound.placed', (e) => events.push(['outbound.placed', e]));
  dialer.events.on('outbound.refused', (e) => events.push(['outbound.refused', e]));
  return {
    dialer,
    placed,
    audit,
    events,
    advance: (ms: number) => (clock += ms),
    endCall: (id: string) => ended.forEach((l) => l(id)),
  };
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isEdgeVoxError(err, 'EVX_ERR_OUTBOUND_REFUSED')) {
      expect(err.httpStatus).toBe(403);
      return String(err.details['reason']);
    }
    throw err;
  }
  throw new Error('not refused');
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('numbers', () => {
  it('normalises digits with an optional + and strips visual separators', () => {
    expect(normaliseNumber('+49 (30) 123-456/7.8')).toBe('+493012345678');
    expect(normaliseNumber('0301234')).toBe('0301234');
    for (const bad of ['', '12', '+', '++4930', '49+30', '4930a', '*31#4930123', '123456789012345678901', 'anonymous'])
      expect(normaliseNumber(bad), bad).toBeNull();
    expect(normaliseNumber('12345678901234567890')).toBe('12345678901234567890');
  });

  it("reads the dialable number of a caller's URI", () => {
    expect(dialableNumber('sip:+4930123456@trunk.example;user=phone')).toBe('+4930123456');
    expect(dialableNumber('tel:+49-30-123456')).toBe('+4930123456');
    expect(dialableNumber('sips:%2B4930123456@10.0.0.1:5061')).toBe('+4930123456');
    for (const none of ['sip:anonymous@anonymous.invalid', 'sip:alice@example.com', 'sip:10.0.0.1', 'garbage', 'sip:%ZZ@x'])
      expect(dialableNumber(none), none).toBeNull();
  });

  it('masks a number to its last two digits', () => {
    expect(maskDialled('+4930123456')).toBe('••••••56');
    expect(maskDialled('1234')).toBe('••••••');
  });
});

describe('allow-list', () => {
  it('takes prefixes, and X patterns for whole numbers of their length', () => {
    expect(allowedBy('+4930123456', ['+4930'])).toBe(true);
    expect(allowedBy('+4940123456', ['+4930'])).toBe(false);
    expect(allowedBy('004930123456', ['+4930'])).toBe(false); // compared as dialled
    const uk = ['+44XXXXXXXXXX'];
    expect(allowedBy('+441234567890', uk)).toBe(true);
    expect(allowedBy('+44123456789', uk)).toBe(false); // one digit short
    expect(allowedBy('+4412345678901', uk)).toBe(false); // one too many: a pattern is not a prefix
    expect(allowedBy('+451234567890', uk)).toBe(false);
    expect(allowedBy('+4930123456', [])).toBe(false);
    expect(allowedBy('+4930123456', ['+4940', '+49301XXXXX'])).toBe(true);
  });
});

describe('TrunkDialer', () => {
  it('places through the first calling trunk: the trunk URI, caller id, credentials; audits the number masked', () => {
    const h = harness([
      trunk('pbx', undefined),
      trunk(
        'carrier',
        { callerName: 'ACME', assertIdentity: true },
        { host: '192.0.2.20', port: 5070, transport: 'tcp', register: { username: 'reg', password: 'pw', domain: '', expiresSec: 600 } },
      ),
    ]);
    expect(h.dialer.trunks).toEqual(['carrier']);
    const call = h.dialer.place({ number: '+49 30 123456', purpose: 'callback', ringTimeoutMs: 5000, label: 'caller' });
    expect(h.placed).toHaveLength(1);
    const p = h.placed[0]!;
    expect(p.call).toBe(call);
    expect(p.route).toEqual({
      peer: { transport: 'tcp', address: '192.0.2.20', port: 5070 },
      requestUri: 'sip:+4930123456@192.0.2.20:5070;transport=tcp;user=phone',
    });
    expect(p.opts).toMatchObject({
      ringTimeoutMs: 5000,
      fromUser: '+4930999000',
      fromDisplayName: 'ACME',
      assertedIdentity: '<tel:+4930999000>',
      auth: { username: 'reg', password: 'pw' },
      label: 'caller',
    });
    expect(h.audit).toEqual([
      { action: 'outbound.placed', target: 'trunk:carrier', details: { purpose: 'callback', number: '••••••56', callId: call.id } },
    ]);
    expect(JSON.stringify(h.audit)).not.toContain('30123456');
    expect(h.events).toEqual([['outbound.placed', { trunk: 'carrier', purpose: 'callback' }]]);
  });

  it("outbound's own credentials win over the registration's; none at all sends none", () => {
    const reg = { register: { username: 'reg', password: 'pw', domain: '', expiresSec: 600 } };
    const h = harness([trunk('a', { username: 'out', password: 'secret' }, reg), trunk('b', {})]);
    h.dialer.place({ number: '+4930123456', purpose: 'transfer', ringTimeoutMs: 5000 });
    h.dialer.place({ number: '+4930123456', purpose: 'transfer', ringTimeoutMs: 5000, trunk: 'b' });
    expect(h.placed[0]!.opts.auth).toEqual({ username: 'out', password: 'secret' });
    expect(h.placed[1]!.opts).not.toHaveProperty('auth');
    expect(h.placed[1]!.opts).not.toHaveProperty('fromDisplayName');
    expect(h.placed[1]!.opts).not.toHaveProperty('assertedIdentity');
  });

  it('refuses before the line is touched, with each reason, audited and counted', () => {
    const h = harness([trunk('pbx', undefined), trunk('off', { enabled: false }), trunk('carrier', { allow: ['+4930', '+44XXXXXXXXXX'] })]);
    const req = { purpose: 'callback' as const, ringTimeoutMs: 5000 };
    expect(refusal(() => h.dialer.place({ ...req, number: '+4930123456', trunk: 'pbx' }))).toBe('no-trunk');
    expect(refusal(() => h.dialer.place({ ...req, number: '+4930123456', trunk: 'off' }))).toBe('no-trunk');
    expect(refusal(() => h.dialer.place({ ...req, number: 'anonymous' }))).toBe('invalid-number');
    expect(refusal(() => h.dialer.place({ ...req, number: '+900123456' }))).toBe('not-allowed');
    expect(refusal(() => h.dialer.place({ ...req, number: '+4412345678901' }))).toBe('not-allowed');
    expect(h.placed).toHaveLength(0);
    expect(h.audit.map((a) => [a.action, a.target, a.details['reason'], a.details['number']])).toEqual([
      ['outbound.refused', 'trunk:pbx', 'no-trunk', '••••••56'],
      ['outbound.refused', 'trunk:off', 'no-trunk', '••••••56'],
      ['outbound.refused', 'trunk:carrier', 'invalid-number', '••••••'],
      ['outbound.refused', 'trunk:carrier', 'not-allowed', '••••••56'],
      ['outbound.refused', 'trunk:carrier', 'not-allowed', '••••••01'],
    ]);
    expect(h.events.map(([, e]) => e)).toEqual([
      { trunk: '', purpose: 'callback', reason: 'no-trunk' },
      { trunk: '', purpose: 'callback', reason: 'no-trunk' },
      { trunk: 'carrier', purpose: 'callback', reason: 'invalid-number' },
      { trunk: 'carrier', purpose: 'callback', reason: 'not-allowed' },
      { trunk: 'carrier', purpose: 'callback', reason: 'not-allowed' },
    ]);
    expect(harness([trunk('pbx', undefined)]).dialer.check('+4930123456')).toEqual({ reason: 'no-trunk', trunk: null });
    expect(h.dialer.check('+4930123456')).toBeNull();
  });

  it('holds the concurrent cap until a call fails or its answered call ends', async () => {
    const h = harness([trunk('carrier', { maxConcurrent: 2 })]);
    const req = { number: '+4930123456', purpose: 'transfer' as const, ringTimeoutMs: 5000 };
    h.dialer.place(req);
    h.dialer.place(req);
    expect(h.dialer.check(req.number)).toEqual({ reason: 'concurrent-cap', trunk: 'carrier' });
    expect(refusal(() => h.dialer.place(req))).toBe('concurrent-cap');
    // the first fails: its place is free
    h.placed[0]!.settle({ type: 'failed', reason: 'rejected', status: 486, error: undefined as never });
    await flush();
    expect(h.dialer.check(req.number)).toBeNull();
    h.dialer.place(req);
    // the second is answered: it counts until its call ends
    h.placed[1]!.settle({ type: 'answered', call: { id: h.placed[1]!.call.id, state: 'active' } as never });
    await flush();
    expect(h.dialer.check(req.number)?.reason).toBe('concurrent-cap');
    h.endCall('some-other-call');
    expect(h.dialer.check(req.number)?.reason).toBe('concurrent-cap');
    h.endCall(h.placed[1]!.call.id);
    expect(h.dialer.check(req.number)).toBeNull();
    h.endCall(h.placed[1]!.call.id); // once only
    h.dialer.place(req);
    expect(h.dialer.check(req.number)?.reason).toBe('concurrent-cap');
  });

  it('counts attempts in a sliding 60-minute window; refused attempts do not count', () => {
    const h = harness([trunk('carrier', { maxPerHour: 3 })]);
    const req = { number: '+4930123456', purpose: 'callback' as const, ringTimeoutMs: 5000 };
    h.dialer.place(req); // t = 0
    h.advance(20 * 60_000);
    h.dialer.place(req); // t = 20 min
    h.dialer.place(req); // t = 20 min
    expect(refusal(() => h.dialer.place(req))).toBe('hourly-cap');
    h.advance(40 * 60_000 - 1); // 59:59.999 after the first
    expect(h.dialer.check(req.number)?.reason).toBe('hourly-cap');
    h.advance(1); // the first leaves the window
    expect(h.dialer.check(req.number)).toBeNull();
    h.dialer.place(req);
    expect(refusal(() => h.dialer.place(req))).toBe('hourly-cap');
    expect(h.placed).toHaveLength(4);
    expect(h.audit.filter((a) => a.action === 'outbound.refused').map((a) => a.details['reason'])).toEqual(['hourly-cap', 'hourly-cap']);
  });

  it('an audit log that fails does not stop a call; close stops following calls', () => {
    const failing = new TrunkDialer({
      trunks: [trunk('carrier', {})],
      line: { place: () => ({ id: 'x', result: new Promise(() => {}) }) as unknown as OutboundCall },
      onCallEnded: () => () => {},
      audit: () => {
        throw new Error('disk full');
      },
    });
    const lost: string[] = [];
    failing.events.on('outbound.audit_failed', (e) => lost.push(e.trunk));
    expect(failing.place({ number: '+4930123456', purpose: 'callback', ringTimeoutMs: 1000 }).id).toBe('x');
    expect(lost).toEqual(['carrier']);
    const h = harness([trunk('carrier', {})]);
    h.dialer.close();
    h.dialer.close();
  });
});
