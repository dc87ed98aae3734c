/**
 * An INVITE whose SDP names its media host by name (c=IN IP4 localhost) is refused with 488 and a
 * Warning saying why; before, it was answered and every RTP packet we sent until latching cost a
 * DNS lookup.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import { TestUac } from './uac.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

describe('a host name in the offer', () => {
  it('gets 488 with a Warning, and holds no ports', async () => {
    const base = 40000 + 2 * Math.floor(Math.random() * 1000);
    const server = new SipServer({ port: 0, rtpPortMin: base, rtpPortMax: base + 9 });
    const port = await server.listen();
    open.push(server);
    const uac = await new TestUac(port).open();
    open.push(uac);
    const cseq = uac.cseq;
    const sdp = uac.sdp(30000).replace('c=IN IP4 127.0.0.1', 'c=IN IP4 localhost');
    uac.sendRaw(uac.request('INVITE', { body: sdp, noToTag: true }));
    const res = await uac.waitFor((m) => m.kind === 'response' && m.status >= 200 && (m.headers.get('cseq') ?? '') === `${cseq} INVITE`);
    expect(res.kind === 'response' && res.status).toBe(488);
    expect(res.headers.get('warning')).toMatch(/host name/);
    expect(server.resources()).toMatchObject({ calls: 0, rtpPortPairs: 0 });
  });
});
