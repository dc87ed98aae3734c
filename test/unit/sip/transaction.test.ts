import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SipPeer, SipRequest, SipResponse } from '../../../appliance/sip/message.js';
import { parseSipMessage } from '../../../appliance/sip/parser.js';
import { buildResponse } from '../../../appliance/sip/serialize.js';
import { DEFAULT_TIMERS, INVITE_TIMER_C_MS } from '../../../appliance/sip/transaction.js';
import { TransactionLayer } from '../../../appliance/sip/transaction-layer.js';
import { invite, sip } from './fixtures.js';

const UDP: SipPeer = { transport: 'udp', address: '127.0.0.1', port: 5070 };
const TCP: SipPeer = { transport: 'tcp', address: '127.0.0.1', port: 5070 };

function req(buf: Buffer): SipRequest {
  const r = parseSipMessage(buf);
  if (!r.ok || r.message.kind !== 'request') throw new Error('bad fixture');
  return r.message;
}

function statusOf(b: Buffer): number {
  return Number(b.toString('latin1').slice(8, 11));
}

function ack(branch: string): SipRequest {
  return req(
    sip([
      'ACK sip:edgevox@127.0.0.1:5060 SIP/2.0',
      `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=${branch}`,
      'From: <sip:a@b>;tag=a1',
      'To: <sip:c@d>;tag=x',
      'Call-ID: call-1@127.0.0.1',
      'CSeq: 1 ACK',
      'Content-Length: 0',
    ]),
  );
}

describe('server transactions (RFC 3261 §17.2, fake timers)', () => {
  let sent: Buffer[];
  let acked: number;
  let layer: TransactionLayer;
  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    acked = 0;
    layer = new TransactionLayer(
      (b) => sent.push(b),
      DEFAULT_TIMERS,
      100,
      () => acked++,
    );
  });
  afterEach(() => {
    layer.close();
    vi.useRealTimers();
  });

  it('INVITE non-2xx on UDP: Timer G retransmits (T1 doubling to T2), ACK stops it, Timer I ends it', () => {
    const r = req(invite());
    const d = layer.onRequest(r, UDP);
    expect(d.type).toBe('new');
    const tx = d.type === 'new' ? d.tx! : undefined!;
    tx.respond(buildResponse(r, 486, { toTag: 'x' }));
    expect(sent.map(statusOf)).toEqual([486]);
    vi.advanceTimersByTime(500);
    expect(sent).toHaveLength(2);
    vi.advanceTimersByTime(1000);
    expect(sent).toHaveLength(3);
    vi.advanceTimersByTime(2000);
    expect(sent).toHaveLength(4);
    vi.advanceTimersByTime(4000); // capped at T2
    expect(sent).toHaveLength(5);
    // retransmitted INVITE is absorbed and answered with the same response
    expect(layer.onRequest(r, UDP).type).toBe('absorbed');
    expect(sent).toHaveLength(6);
    expect(layer.onRequest(ack('z9hG4bK-test-1'), UDP).type).toBe('absorbed');
    expect(tx.state).toBe('confirmed');
    vi.advanceTimersByTime(4000);
    expect(sent).toHaveLength(6); // no more retransmissions after ACK
    vi.advanceTimersByTime(5000); // Timer I = T4
    expect(tx.state).toBe('terminated');
    expect(layer.serverCount).toBe(0);
  });

  it('INVITE non-2xx without ACK: Timer H (64*T1) reports the timeout', () => {
    const r = req(invite());
    const d = layer.onRequest(r, UDP);
    const tx = d.type === 'new' ? d.tx! : undefined!;
    tx.respond(buildResponse(r, 503));
    vi.advanceTimersByTime(64 * 500);
    expect(tx.state).toBe('terminated');
    expect(acked).toBe(1);
    // retransmissions at 0.5, 1.5, 3.5 s, then every T2 = 4 s: 7.5 ... 31.5 s -> 3 + 7
    expect(sent.length).toBe(1 + 3 + 7);
  });

  it('INVITE 2xx: retransmitted until the dialog ACK; no ack-timeout afterwards', () => {
    const r = req(invite());
    const d = layer.onRequest(r, UDP);
    const tx = d.type === 'new' ? d.tx! : undefined!;
    tx.respond(buildResponse(r, 200, { toTag: 'x' }));
    vi.advanceTimersByTime(1500);
    expect(sent).toHaveLength(3);
    tx.onAck(); // the server calls this when the 2xx ACK (new branch) reaches the dialog
    vi.advanceTimersByTime(64 * 500);
    expect(sent).toHaveLength(3);
    expect(acked).toBe(0);
    expect(tx.state).toBe('terminated');
  });

  it('on TCP there are no retransmissions and non-INVITE completes at once (Timer J = 0)', () => {
    const bye = req(invite({ method: 'BYE', body: '', toTag: 'x', branch: 'z9hG4bK-bye' }));
    const d = layer.onRequest(bye, TCP);
    const tx = d.type === 'new' ? d.tx! : undefined!;
    tx.respond(buildResponse(bye, 200));
    vi.advanceTimersByTime(0);
    expect(tx.state).toBe('terminated');
    expect(sent).toHaveLength(1);
  });

  it('non-INVITE on UDP: Timer J absorbs retransmissions for 64*T1', () => {
    const bye = req(invite({ method: 'BYE', body: '', toTag: 'x', branch: 'z9hG4bK-bye' }));
    const d = layer.onRequest(bye, UDP);
    const tx = d.type === 'new' ? d.tx! : undefined!;
    tx.respond(buildResponse(bye, 200));
    vi.advanceTimersByTime(10_000);
    expect(layer.onRequest(bye, UDP).type).toBe('absorbed');
    expect(sent.map(statusOf)).toEqual([200, 200]);
    vi.advanceTimersByTime(32_000);
    expect(layer.serverCount).toBe(0);
  });

  it('finds the INVITE a CANCEL refers to, and refuses new transactions when full', () => {
    const r = req(invite());
    layer.onRequest(r, UDP);
    const cancel = req(invite({ method: 'CANCEL', body: '' }));
    expect(layer.findInviteFor(cancel)?.request).toBe(r);
    const small = new TransactionLayer(
      () => {},
      DEFAULT_TIMERS,
      1,
      () => {},
    );
    expect(small.onRequest(req(invite({ branch: 'z9hG4bK-a' })), UDP).type).toBe('new');
    expect(small.onRequest(req(invite({ branch: 'z9hG4bK-b' })), UDP).type).toBe('overload');
    small.close();
  });
});

describe('client transactions (RFC 3261 §17.1, fake timers)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('non-INVITE: Timer E retransmits, the final response resolves, Timer F times out', async () => {
    const sent: Buffer[] = [];
    const layer = new TransactionLayer(
      (b) => sent.push(b),
      DEFAULT_TIMERS,
      10,
      () => {},
    );
    const bye = req(invite({ method: 'BYE', body: '', branch: 'z9hG4bK-c1' }));
    const p = layer.request(bye, UDP);
    vi.advanceTimersByTime(500 + 1000 + 2000);
    expect(sent).toHaveLength(4);
    const ok: SipResponse = buildResponse(bye, 200);
    expect(layer.onResponse(ok)).toBe(true);
    await expect(p).resolves.toMatchObject({ status: 200 });
    const q = layer.request(req(invite({ method: 'BYE', body: '', branch: 'z9hG4bK-c2' })), UDP);
    vi.advanceTimersByTime(64 * 500);
    await expect(q).rejects.toMatchObject({ code: 'EVX_ERR_SIP_TRANSACTION_TIMEOUT' });
    const pending = layer.request(req(invite({ method: 'BYE', body: '', branch: 'z9hG4bK-c3' })), UDP);
    layer.close();
    await expect(pending).rejects.toMatchObject({ code: 'EVX_ERR_SIP_CLOSED' });
  });

  it('INVITE: non-2xx final is ACKed by the transaction, retransmitted finals re-ACKed', async () => {
    const sent: Buffer[] = [];
    const layer = new TransactionLayer(
      (b) => sent.push(b),
      DEFAULT_TIMERS,
      10,
      () => {},
    );
    const inv = req(invite({ branch: 'z9hG4bK-ri' }));
    const p = layer.request(inv, UDP, () => ack('z9hG4bK-ri'));
    const busy = buildResponse(inv, 491, { toTag: 'x' });
    layer.onResponse(busy);
    await expect(p).resolves.toMatchObject({ status: 491 });
    expect(sent.map((b) => b.toString('latin1').split(' ')[0])).toEqual(['INVITE', 'ACK']);
    layer.onResponse(busy);
    expect(sent).toHaveLength(3);
    layer.close();
  });

  it('INVITE: Timer B stops at the first 1xx; the ringing INVITE takes its final answer later, Timer C bounds it', async () => {
    const sent: Buffer[] = [];
    const layer = new TransactionLayer(
      (b) => sent.push(b),
      DEFAULT_TIMERS,
      10,
      () => {},
    );
    const inv = req(invite({ branch: 'z9hG4bK-ring' }));
    const ringing: number[] = [];
    const p = layer.request(
      inv,
      UDP,
      () => ack('z9hG4bK-ring'),
      (r) => ringing.push(r.status),
    );
    let settled = false;
    p.then(
      () => (settled = true),
      () => (settled = true),
    );
    layer.onResponse(buildResponse(inv, 180, { toTag: 'r' }));
    vi.advanceTimersByTime(64 * 500 + 30_000); // well past Timer B
    await Promise.resolve();
    expect(ringing).toEqual([180]);
    expect(settled).toBe(false);
    expect(layer.clientCount).toBe(1);
    layer.onResponse(buildResponse(inv, 200, { toTag: 'r' }));
    await expect(p).resolves.toMatchObject({ status: 200 });
    expect(layer.clientCount).toBe(0);

    const stuck = layer.request(req(invite({ branch: 'z9hG4bK-stuck' })), UDP, () => ack('z9hG4bK-stuck'));
    layer.onResponse(buildResponse(req(invite({ branch: 'z9hG4bK-stuck' })), 183, { toTag: 's' }));
    vi.advanceTimersByTime(INVITE_TIMER_C_MS);
    await expect(stuck).rejects.toMatchObject({ code: 'EVX_ERR_SIP_TRANSACTION_TIMEOUT' });
    expect(layer.clientCount).toBe(0);

    const silent = layer.request(req(invite({ branch: 'z9hG4bK-silent' })), UDP);
    vi.advanceTimersByTime(64 * 500); // no response at all: Timer B
    await expect(silent).rejects.toMatchObject({ code: 'EVX_ERR_SIP_TRANSACTION_TIMEOUT' });
    layer.close();
  });
});
