/**
 * The requests of a call the box places: INVITE headers, CANCEL and failure ACK in the INVITE's
 * transaction (same branch, CSeq number), and the dialog a 2xx creates (route set reversed,
 * remote target from the Contact, tags the right way round).
 */
import { describe, expect, it } from 'vitest';
import { parseVia } from '../../../appliance/sip/grammar.js';
import { SipHeaders, type SipResponse } from '../../../appliance/sip/message.js';
import {
  ackForFailure,
  buildInvite,
  cancelFor,
  credentialsOf,
  inviteWithCredentials,
  uacDialog,
} from '../../../appliance/telephony/uacRequests.js';

const local = { host: '10.0.0.5', port: 5060, transport: 'udp' as const };
const peer = { transport: 'udp' as const, address: '10.0.0.9', port: 5062 };

function response(status: number, headers: Record<string, string | string[]>): SipResponse {
  const h = new SipHeaders();
  for (const [k, v] of Object.entries(headers)) h.set(k, v);
  return { kind: 'response', status, reason: 'x', headers: h, body: Buffer.alloc(0) };
}

describe('UAC requests', () => {
  const inv = buildInvite({
    requestUri: 'sip:agent7@10.0.0.9:5062',
    local,
    fromUser: 'queue',
    fromDisplayName: 'Ann "A" \\ B',
    sdp: 'v=0\r\n',
  });
  const req = inv.request;

  it('builds the INVITE: our tag, To without one, timer but no 100rel, the SDP', () => {
    expect(req.uri).toBe('sip:agent7@10.0.0.9:5062');
    expect(req.headers.get('from')).toBe(`"Ann \\"A\\" \\\\ B" <sip:queue@10.0.0.5>;tag=${inv.localTag}`);
    expect(req.headers.get('to')).toBe('<sip:agent7@10.0.0.9:5062>');
    expect(req.headers.get('cseq')).toBe('1 INVITE');
    expect(req.headers.get('supported')).toBe('timer');
    expect(req.headers.get('content-type')).toBe('application/sdp');
    expect(req.headers.get('contact')).toBe('<sip:edgevox@10.0.0.5:5060>');
    expect(req.body.toString()).toBe('v=0\r\n');
  });

  it('CANCEL and the ACK of a failure stay in the INVITE transaction', () => {
    const branch = parseVia(req.headers.get('via')!)!.branch;
    const cancel = cancelFor(req);
    expect([cancel.method, cancel.uri, cancel.headers.get('cseq'), cancel.headers.get('to')]).toEqual([
      'CANCEL',
      req.uri,
      '1 CANCEL',
      '<sip:agent7@10.0.0.9:5062>',
    ]);
    expect(parseVia(cancel.headers.get('via')!)!.branch).toBe(branch);
    const ack = ackForFailure(req, response(486, { to: '<sip:agent7@10.0.0.9:5062>;tag=ph1' }));
    expect([ack.method, ack.headers.get('cseq'), ack.headers.get('to')]).toEqual(['ACK', '1 ACK', '<sip:agent7@10.0.0.9:5062>;tag=ph1']);
    expect(parseVia(ack.headers.get('via')!)!.branch).toBe(branch);
  });

  it('the dialog of a 2xx: remote target, reversed route set, tags, CSeq above the INVITE', () => {
    const ok = response(200, {
      to: '<sip:agent7@10.0.0.9:5062>;tag=ph1',
      contact: '<sip:agent7@10.0.0.9:5062;transport=udp>',
      'record-route': ['<sip:p2.example;lr>', '<sip:p1.example;lr>'],
    });
    const d = uacDialog(inv, ok, peer, local)!;
    expect(d.state).toBe('confirmed');
    expect([d.localTag, d.remoteTag]).toEqual([inv.localTag, 'ph1']);
    const bye = d.createRequest('BYE');
    expect(bye.uri).toBe('sip:agent7@10.0.0.9:5062;transport=udp');
    expect(bye.headers.getAll('route')).toEqual(['<sip:p1.example;lr>', '<sip:p2.example;lr>']);
    expect(bye.headers.get('from')).toBe(`"Ann \\"A\\" \\\\ B" <sip:queue@10.0.0.5>;tag=${inv.localTag}`);
    expect(bye.headers.get('to')).toBe('<sip:agent7@10.0.0.9:5062>;tag=ph1');
    expect(Number(bye.headers.get('cseq')!.split(' ')[0])).toBeGreaterThan(1);
    expect(d.createRequest('ACK', { cseq: 1 }).headers.get('cseq')).toBe('1 ACK');
    // the phone has sent no request yet: its first one is in order whatever its CSeq
    const fromPhone = new SipHeaders();
    fromPhone.set('cseq', '1 BYE');
    expect(d.acceptRemoteCSeq({ kind: 'request', method: 'BYE', uri: 'sip:x', headers: fromPhone, body: Buffer.alloc(0) })).toBe(true);
    // a 2xx whose To cannot be read makes no dialog
    expect(uacDialog(inv, response(200, { to: 'garbage<' }), peer, local)).toBeUndefined();
  });

  it('sends the INVITE again with credentials: same call and SDP, CSeq + 1, a new branch; its dialog counts above it', () => {
    const again = inviteWithCredentials(inv, 'proxy-authorization', 'Digest username="u"');
    const r2 = again.request;
    expect(r2.headers.get('proxy-authorization')).toBe('Digest username="u"');
    expect(req.headers.get('proxy-authorization')).toBeUndefined(); // the first one is left as it was
    expect(r2.headers.get('cseq')).toBe('2 INVITE');
    for (const h of ['call-id', 'from', 'to', 'contact']) expect(r2.headers.get(h)).toBe(req.headers.get(h));
    expect(r2.body.toString()).toBe(req.body.toString());
    expect(parseVia(r2.headers.get('via')!)!.branch).not.toBe(parseVia(req.headers.get('via')!)!.branch);
    expect(again.localTag).toBe(inv.localTag);
    const third = inviteWithCredentials(again, 'authorization', 'Digest username="v"').request;
    expect(credentialsOf(third)).toEqual({ authorization: 'Digest username="v"', 'proxy-authorization': 'Digest username="u"' });
    expect(cancelFor(r2).headers.get('cseq')).toBe('2 CANCEL');
    const d = uacDialog(again, response(200, { to: '<sip:agent7@10.0.0.9:5062>;tag=ph1' }), peer, local)!;
    for (let i = 0; i < 3; i++) expect(Number(d.createRequest('BYE').headers.get('cseq')!.split(' ')[0])).toBeGreaterThan(2);
  });
});
