/**
 * SipServer on loopback with a scripted UAC: keep-alive, malformed input, allow-list, rate limit,
 * digest auth, capacity (503 + Retry-After), CANCEL, TCP transport.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { digestResponse } from '../../../appliance/sip/auth.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import type { SipServerOptions, TelephonyEvents } from '../../../appliance/telephony/types.js';
import { TestUac } from './uac.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

async function start(
  opts: SipServerOptions = {},
): Promise<{ server: SipServer; uac: TestUac; rejected: TelephonyEvents['sip.rejected'][] }> {
  const base = 42000 + 2 * Math.floor(Math.random() * 4000);
  const server = new SipServer({ port: 0, rtpPortMin: base, rtpPortMax: base + 39, ...opts });
  const rejected: TelephonyEvents['sip.rejected'][] = [];
  server.events.on('sip.rejected', (e) => rejected.push(e));
  const port = await server.listen();
  open.push(server);
  const uac = await new TestUac(port).open();
  open.push(uac);
  return { server, uac, rejected };
}

const tick = (ms = 50): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('SipServer admission and robustness', () => {
  it('answers OPTIONS keep-alives with 200 and Allow', async () => {
    const { uac } = await start();
    uac.sendRaw(uac.request('OPTIONS'));
    const res = await uac.waitResponse('OPTIONS', 200);
    expect(res.headers.getAll('allow')).toContain('INVITE');
    expect(res.headers.getAll('allow')).toContain('REFER');
  });

  it('answers malformed requests with 400 when addressable, drops garbage, counts both, keeps serving', async () => {
    const { server, uac, rejected } = await start();
    uac.sendRaw(uac.request('OPTIONS').replace(/CSeq: \d+ OPTIONS/, 'CSeq: 1 INVITE'));
    const bad = await uac.waitResponse('INVITE', 400).catch((e: unknown) => {
      throw new Error(
        `${String(e)} got ${JSON.stringify(uac.received.map((m) => (m.kind === 'response' ? [m.status, m.headers.get('cseq')] : m.method)))}`,
      );
    });
    expect(bad.reason).toContain('CSeq method');
    uac.sendRaw(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01]));
    uac.sendRaw('INVITE sip:x SIP/2.0\r\nVia: nonsense\r\n\r\n');
    await tick();
    expect(server.counters.malformed).toBe(3);
    expect(rejected.map((r) => r.reason)).toEqual(['malformed', 'malformed', 'malformed']);
    uac.remoteTag = undefined; // the 400 carried a to-tag; the next OPTIONS is out of dialog
    uac.sendRaw(uac.request('OPTIONS'));
    await uac.waitResponse('OPTIONS', 200);
  });

  it('drops sources outside the allow-list and counts them', async () => {
    const { server, uac } = await start({ allowList: ['10.0.0.0/8'] });
    uac.sendRaw(uac.request('OPTIONS'));
    await tick(100);
    expect(uac.received).toHaveLength(0);
    expect(server.counters.rejectedAllowList).toBe(1);
  });

  it('holds TCP connections within per-source limits: one host parking idle connections never locks out another', async () => {
    const { server } = await start({ transports: ['udp', 'tcp'], maxTcpConnections: 8, maxTcpConnectionsPerSource: 4 });
    const port = server.port;
    const connect = (from: string) =>
      new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port, localAddress: from }, () => resolve(s));
        s.on('error', reject);
        open.push({ close: () => s.destroy() });
      });
    // One host opens as many idle connections as the whole table holds.
    const parked = await Promise.all(Array.from({ length: 8 }, () => connect('127.0.0.2')));
    await tick(200);
    expect(parked.filter((s) => !s.destroyed && s.readyState === 'open').length).toBeLessThanOrEqual(4);
    // Another trunk still gets in and is answered.
    const trunk = await connect('127.0.0.3');
    const answered = new Promise<string>((resolve) => {
      let text = '';
      trunk.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('\r\n\r\n')) resolve(text);
      });
    });
    trunk.write(
      [
        `OPTIONS sip:edgevox@127.0.0.1:${port} SIP/2.0`,
        'Via: SIP/2.0/TCP 127.0.0.3:5070;branch=z9hG4bK-tcp-limit-1',
        'Max-Forwards: 70',
        'From: <sip:trunk@127.0.0.3>;tag=t1',
        `To: <sip:edgevox@127.0.0.1:${port}>`,
        'Call-ID: tcp-limit-1',
        'CSeq: 1 OPTIONS',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    expect(await answered).toMatch(/^SIP\/2\.0 200 /);
    expect(server.counters.rejectedOther).toBeGreaterThanOrEqual(4);
  });

  it('rate-limits requests per source', async () => {
    const { server, uac } = await start({ rateLimitPerSec: 1, rateLimitBurst: 3 });
    for (let i = 0; i < 6; i++) uac.sendRaw(uac.request('OPTIONS'));
    await tick(100);
    expect(uac.received.filter((m) => m.kind === 'response' && m.status === 200)).toHaveLength(3);
    expect(server.counters.rejectedRateLimit).toBe(3);
  });

  it('challenges INVITEs with digest auth and accepts the right answer', async () => {
    const { server, uac } = await start({ accounts: [{ username: 'trunk', password: 'pw' }] });
    uac.sendRaw(uac.request('INVITE', { body: uac.sdp(30000), noToTag: true, cseq: 1 }));
    const chal = await uac.waitResponse('INVITE', 401);
    uac.sendRaw(uac.request('ACK', { cseq: 1, branch: (chal.headers.get('via') ?? '').split('branch=')[1]!.split(';')[0]! }));
    expect(server.counters.rejectedAuth).toBe(1);
    const www = chal.headers.getAll('www-authenticate').find((h) => h.includes('MD5'))!;
    const nonce = /nonce="([^"]+)"/.exec(www)![1]!;
    const uri = `sip:edgevox@127.0.0.1:${uac.serverPort}`;
    const response = digestResponse({
      algorithm: 'MD5',
      username: 'trunk',
      realm: 'edgevox',
      password: 'pw',
      method: 'INVITE',
      uri,
      nonce,
      qop: 'auth',
      nc: '00000001',
      cnonce: 'c',
    });
    const authz = `Digest username="trunk", realm="edgevox", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="c"`;
    uac.sendRaw(uac.request('INVITE', { body: uac.sdp(30000), noToTag: true, cseq: 2, extra: [`Authorization: ${authz}`] }));
    await uac.waitResponse('INVITE', 200, 2);
    expect(server.activeCalls).toBe(1);
  });

  it('answers 503 with Retry-After at capacity, keeping the existing call', async () => {
    const { server, uac } = await start({ maxCalls: 1, retryAfterSec: 7 });
    await uac.call(30000);
    const second = await new TestUac(uac.serverPort).open();
    open.push(second);
    second.sendRaw(second.request('INVITE', { body: second.sdp(30002), noToTag: true }));
    const busy = await second.waitResponse('INVITE', 503);
    expect(busy.headers.get('retry-after')).toBe('7');
    expect(server.counters.rejectedCapacity).toBe(1);
    expect(server.activeCalls).toBe(1);
    const { server: s486, uac: u486 } = await start({ maxCalls: 0, atCapacityStatus: 486 });
    u486.sendRaw(u486.request('INVITE', { body: u486.sdp(30000), noToTag: true }));
    await u486.waitResponse('INVITE', 486);
    expect(s486.resources().rtpPortPairs).toBe(0);
  });

  it('asks the admission hook before allocating media (load shedding keeps existing calls real time)', async () => {
    let overloaded = false;
    const { server, uac } = await start({ admit: () => (overloaded ? { ok: false, reason: 'overload', retryAfterS: 11 } : { ok: true }) });
    await uac.call(30000);
    overloaded = true;
    const second = await new TestUac(uac.serverPort).open();
    open.push(second);
    second.sendRaw(second.request('INVITE', { body: second.sdp(30002), noToTag: true }));
    const r = await second.waitResponse('INVITE', 503);
    expect(r.headers.get('retry-after')).toBe('11');
    expect(server.resources()).toMatchObject({ calls: 1, rtpPortPairs: 1 });
  });

  it('refuses offers without a common codec (488) and unknown Require tags (420)', async () => {
    const { uac, server } = await start();
    const g729 = uac.sdp(30000).replace('RTP/AVP 0 101', 'RTP/AVP 18').replace('a=rtpmap:0 PCMU/8000\r\n', '');
    uac.sendRaw(uac.request('INVITE', { body: g729, noToTag: true, cseq: 1 }));
    await uac.waitResponse('INVITE', 488, 1);
    uac.sendRaw(uac.request('INVITE', { body: uac.sdp(30000), noToTag: true, cseq: 2, extra: ['Require: 100rel, foo'] }));
    const r = await uac.waitResponse('INVITE', 420, 2);
    expect(r.headers.getAll('unsupported')).toEqual(['foo']); // 100rel is supported now
    expect(server.resources().rtpPortPairs).toBe(0);
  });

  it('does not claim Replaces (RFC 3891), which it does not carry out: Require: replaces gets 420, no Supported lists it', async () => {
    const { uac, server } = await start();
    uac.sendRaw(uac.request('INVITE', { body: uac.sdp(30000), noToTag: true, cseq: 1, extra: ['Require: replaces'] }));
    const r = await uac.waitResponse('INVITE', 420, 1);
    expect(r.headers.getAll('unsupported')).toEqual(['replaces']);
    expect(server.resources()).toMatchObject({ calls: 0, rtpPortPairs: 0 });
    const second = await new TestUac(uac.serverPort).open();
    open.push(second);
    const ok = await second.call(30002);
    expect(ok.headers.getAll('supported')).toEqual(['timer', '100rel']);
    second.sendRaw(second.request('OPTIONS', { cseq: 9 }));
    const options = await second.waitResponse('OPTIONS', 200, 9);
    expect(options.headers.getAll('supported')).not.toContain('replaces');
  });

  it('CANCEL while ringing: 200 to CANCEL, 487 to INVITE, nothing left allocated', async () => {
    const { server, uac } = await start({ answerDelayMs: 300 });
    const started: unknown[] = [];
    server.events.on('call.started', (e) => started.push(e));
    const branch = uac.branch();
    uac.sendRaw(uac.request('INVITE', { body: uac.sdp(30000), noToTag: true, cseq: 1, branch }));
    await uac.waitResponse('INVITE', 180, 1);
    uac.sendRaw(uac.request('CANCEL', { cseq: 1, branch }));
    await uac.waitResponse('CANCEL', 200, 1);
    await uac.waitResponse('INVITE', 487, 1);
    await tick(400);
    expect(started).toHaveLength(0);
    expect(server.resources()).toMatchObject({ calls: 0, pendingInvites: 0, rtpPortPairs: 0 });
    uac.sendRaw(uac.request('CANCEL', { cseq: 9, branch: 'z9hG4bK-nothing' }));
    await uac.waitResponse('CANCEL', 481);
  });

  it('481 for in-dialog requests of unknown dialogs; 405 for unknown methods', async () => {
    const { uac } = await start();
    uac.remoteTag = 'nope';
    uac.sendRaw(uac.request('BYE'));
    await uac.waitResponse('BYE', 481);
    uac.remoteTag = undefined;
    uac.sendRaw(uac.request('PUBLISH'));
    const r = await uac.waitResponse('PUBLISH', 405);
    expect(r.headers.getAll('allow')).toContain('OPTIONS');
  });

  it('works over TCP: call, BYE, connection accounted', async () => {
    const { server, uac } = await start();
    const tcp = await new TestUac(uac.serverPort, 'tcp').open();
    open.push(tcp);
    const ended: string[] = [];
    server.events.on('call.ended', (e) => ended.push(e.reason));
    const ok = await tcp.call(30000);
    expect(ok.headers.get('contact')).toContain('transport=tcp');
    expect(server.resources().tcpConnections).toBe(1);
    tcp.sendRaw(tcp.request('BYE'));
    await tcp.waitResponse('BYE', 200);
    expect(ended).toEqual(['remote_bye']);
    tcp.sendRaw(Buffer.from('INVITE sip:x SIP/2.0\r\nX: y\r\n\r\n')); // no Content-Length on a stream
    await tick(100);
    expect(server.resources().tcpConnections).toBe(0);
    expect(server.counters.malformed).toBe(1);
  });
});
