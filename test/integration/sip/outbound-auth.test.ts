/**
 * Digest authentication of the calls the box places (RFC 3261 §22.2): sipp plays a trunk that
 * challenges the INVITE with 407 (a proxy) or 401 (the far end). With 401 sipp checks the
 * credentials itself (verifyauth); its verifyauth reads only Authorization, so with 407 the test
 * recomputes the Proxy-Authorization's digest response (node:crypto, not the box's code). The INVITE goes again once with them (same Call-ID, From tag and SDP; CSeq + 1, a
 * new branch), the call is answered and ends with our BYE; the ring timeout CANCELs the INVITE sent
 * with credentials; wrong credentials, no credentials and a second challenge are `rejected` with
 * their status, and every path releases its ports.
 */
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSipMessage, DEFAULT_SIP_LIMITS } from '../../../appliance/sip/parser.js';
import type { SipRequest, SipResponse } from '../../../appliance/sip/message.js';
import { buildResponse, serializeSipMessage } from '../../../appliance/sip/serialize.js';
import { parseVia } from '../../../appliance/sip/grammar.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import { startSippUas, type SippUas } from '../../helpers/sipp.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

const ACCOUNT = { username: 'trunk-7', password: 'correct horse' };

async function server(): Promise<SipServer> {
  const rtpBase = 30000 + 2 * Math.floor(Math.random() * 5000);
  const s = new SipServer({ port: 0, rtpPortMin: rtpBase, rtpPortMax: rtpBase + 19 });
  await s.listen();
  open.push(s);
  return s;
}

async function trunk(status: 401 | 407): Promise<SippUas> {
  const s = await startSippUas(`uas-trunk-digest-${status}.xml`);
  open.push({ close: () => (s.kill(), s.cleanup()) });
  return s;
}

type Send = (res: SipResponse) => void;

/** A scripted trunk on a UDP socket: `answer` sees every request (and all before it) and may respond. */
async function scriptedTrunk(
  answer: (req: SipRequest, got: readonly SipRequest[], send: Send) => void,
): Promise<{ port: number; got: SipRequest[] }> {
  const sock = dgram.createSocket('udp4');
  open.push({ close: () => new Promise<void>((r) => sock.close(() => r())) });
  const got: SipRequest[] = [];
  sock.on('message', (buf, rinfo) => {
    const p = parseSipMessage(buf, DEFAULT_SIP_LIMITS, true);
    if (!p.ok || p.message.kind !== 'request') return;
    got.push(p.message);
    answer(p.message, got, (res) => sock.send(serializeSipMessage(res), rinfo.port, rinfo.address));
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { port: sock.address().port, got };
}

/** The INVITEs sipp received, from its message trace (in the output of `done`). */
function invites(output: string): string[] {
  return output
    .split(/\n-{20,}[^\n]*\n/)
    .map((block) => block.replace(/^UDP message received[^\n]*\n+/, ''))
    .filter((m) => m.startsWith('INVITE '));
}

/** The RFC 2617 response an Authorization value should carry (MD5, qop=auth), computed here. */
function expectedResponse(authorization: string, method: string, password: string): string {
  const p = (k: string) => new RegExp(`${k}="?([^",]*)"?`).exec(authorization)?.[1] ?? '';
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  const ha1 = md5(`${p('username')}:${p('realm')}:${password}`);
  const ha2 = md5(`${method}:${p('uri')}`);
  return md5(`${ha1}:${p('nonce')}:${p('nc')}:${p('cnonce')}:${p('qop')}:${ha2}`);
}

describe('outbound INVITE with digest authentication (sipp as the trunk)', () => {
  for (const status of [407, 401] as const) {
    it(`answers a ${status} once with the credentials; the trunk checks them, answers, and our BYE ends it`, async () => {
      const sip = await server();
      const t = await trunk(status);
      const oc = sip.placeCall({ target: { uri: `sip:+4930123456@127.0.0.1:${t.port};user=phone` }, ringTimeoutMs: 5000, auth: ACCOUNT });
      const outcome = await oc.result;
      if (outcome.type !== 'answered') throw new Error(`not answered: ${outcome.reason} ${outcome.status}\n${(await t.done).output}`);
      await sip.hangup(outcome.call.id);
      const r = await t.done;
      expect(r.code, r.output).toBe(0); // verifyauth accepted the credentials, ACKs and BYE came
      const [first, second] = invites(r.output);
      const header = status === 407 ? 'Proxy-Authorization' : 'Authorization';
      expect(first).not.toMatch(/^(Proxy-)?Authorization:/im);
      expect(second).toMatch(new RegExp(`^${header}: Digest username="trunk-7"`, 'im'));
      expect(r.output).not.toContain('correct horse');
      const credentials = new RegExp(`^${header}: (.*)$`, 'im').exec(second!)![1]!;
      expect(credentials).toContain(`response="${expectedResponse(credentials, 'INVITE', 'correct horse')}"`);
      // the same call: Call-ID, From (tag), SDP; the next CSeq on a new branch
      const field = (m: string, name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(m)?.[1]?.trim();
      expect(field(second!, 'Call-ID')).toBe(field(first!, 'Call-ID'));
      expect(field(second!, 'From')).toBe(field(first!, 'From'));
      expect(field(first!, 'CSeq')).toBe('1 INVITE');
      expect(field(second!, 'CSeq')).toBe('2 INVITE');
      expect(parseVia(field(second!, 'Via')!)!.branch).not.toBe(parseVia(field(first!, 'Via')!)!.branch);
      expect(second!.slice(second!.indexOf('v=0')).trim()).toBe(first!.slice(first!.indexOf('v=0')).trim());
      expect(sip.resources()).toMatchObject({ calls: 0, pendingInvites: 0, rtpPortPairs: 0 });
    });
  }

  it('wrong credentials: the trunk refuses (403) and the call is rejected with that status', async () => {
    const sip = await server();
    const t = await trunk(401);
    const oc = sip.placeCall({
      target: { uri: `sip:+4930123456@127.0.0.1:${t.port}` },
      ringTimeoutMs: 5000,
      auth: { username: 'trunk-7', password: 'wrong' },
    });
    expect(await oc.result).toMatchObject({ type: 'failed', reason: 'rejected', status: 403 });
    expect(sip.resources()).toMatchObject({ pendingInvites: 0, rtpPortPairs: 0 });
  });

  it('without credentials a challenge is rejected with its status (ACKed), nothing sent again', async () => {
    const sip = await server();
    const t = await trunk(407);
    const oc = sip.placeCall({ target: { uri: `sip:+4930123456@127.0.0.1:${t.port}` }, ringTimeoutMs: 5000 });
    expect(await oc.result).toMatchObject({ type: 'failed', reason: 'rejected', status: 407 });
    t.kill();
    expect(invites((await t.done).output)).toHaveLength(1);
    expect(sip.resources()).toMatchObject({ pendingInvites: 0, rtpPortPairs: 0 });
  });

  it('a second challenge ends it: rejected with its status, the credentials went once', async () => {
    const sip = await server();
    // a trunk that challenges every INVITE (the transaction ACKs each challenge)
    const { port, got } = await scriptedTrunk((req, all, send) => {
      if (req.method !== 'INVITE') return;
      const challenge = `Digest realm="provider.test", nonce="n${all.length}", algorithm=MD5`;
      send(buildResponse(req, 407, { toTag: 'tr1', headers: { 'proxy-authenticate': challenge } }));
    });
    const oc = sip.placeCall({ target: { uri: `sip:+4930123456@127.0.0.1:${port}` }, ringTimeoutMs: 5000, auth: ACCOUNT });
    expect(await oc.result).toMatchObject({ type: 'failed', reason: 'rejected', status: 407 });
    await new Promise((r) => setTimeout(r, 100));
    const sent = got.filter((m) => m.method === 'INVITE');
    expect(sent.map((m) => m.headers.get('cseq'))).toEqual(['1 INVITE', '2 INVITE']);
    expect(sent[1]!.headers.get('proxy-authorization')).toMatch(/^Digest username="trunk-7"/);
    expect(got.filter((m) => m.method === 'ACK').map((m) => m.headers.get('cseq'))).toEqual(['1 ACK', '2 ACK']);
    expect(sip.resources()).toMatchObject({ pendingInvites: 0, rtpPortPairs: 0 });
  });

  it('the ring timeout CANCELs the INVITE sent with credentials (its branch and CSeq), and its 487 is ACKed', async () => {
    const sip = await server();
    const { port, got } = await scriptedTrunk((req, all, send) => {
      if (req.method === 'INVITE' && !req.headers.has('proxy-authorization')) {
        send(buildResponse(req, 407, { toTag: 'tr1', headers: { 'proxy-authenticate': 'Digest realm="provider.test", nonce="n1"' } }));
      } else if (req.method === 'INVITE') {
        send(buildResponse(req, 180, { toTag: 'tr2' }));
      } else if (req.method === 'CANCEL') {
        send(buildResponse(req, 200, { toTag: 'tr2' }));
        const invite = all.find((m) => m.method === 'INVITE' && m.headers.get('cseq') === '2 INVITE')!;
        send(buildResponse(invite, 487, { toTag: 'tr2' }));
      }
    });
    const oc = sip.placeCall({ target: { uri: `sip:+4930123456@127.0.0.1:${port}` }, ringTimeoutMs: 400, auth: ACCOUNT });
    expect(await oc.result).toMatchObject({ type: 'failed', reason: 'ring_timeout', status: 487 });
    await new Promise((r) => setTimeout(r, 100));
    const invite2 = got.find((m) => m.method === 'INVITE' && m.headers.get('cseq') === '2 INVITE')!;
    const cancels = got.filter((m) => m.method === 'CANCEL');
    expect(cancels).toHaveLength(1);
    expect(cancels[0]!.headers.get('cseq')).toBe('2 CANCEL');
    expect(parseVia(cancels[0]!.headers.get('via')!)!.branch).toBe(parseVia(invite2.headers.get('via')!)!.branch);
    expect(got.filter((m) => m.method === 'ACK').map((m) => m.headers.get('cseq'))).toEqual(['1 ACK', '2 ACK']);
    expect(sip.resources()).toMatchObject({ pendingInvites: 0, rtpPortPairs: 0 });
  });
});
