/**
 * A call set up through a record-routing proxy (the Kamailio front of a cluster): the box copies the
 * INVITE's Record-Route into its 180/200 (RFC 3261 §12.1.1), so the caller's ACK and BYE come back
 * through the proxy, and sends its own in-dialog requests (BYE) with that route set. Without the
 * copy, the caller sent its ACK and BYE around the proxy and the proxy could not keep the call on its box.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import type { CallStartedEvent } from '../../../appliance/telephony/types.js';
import { TestUac } from './uac.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

const PROXY = ['<sip:127.0.0.1:5999;lr;ftag=u1>', '<sip:10.1.1.1;lr>'];

describe('route set of calls through a record-routing proxy', () => {
  it('copies Record-Route into the 200 in order, and routes its own BYE with the same set', async () => {
    const base = 48000 + 2 * Math.floor(Math.random() * 4000);
    const server = new SipServer({ port: 0, rtpPortMin: base, rtpPortMax: base + 9 });
    const started = new Promise<CallStartedEvent>((r) => server.events.on('call.started', r));
    const port = await server.listen();
    open.push(server);
    const uac = await new TestUac(port).open();
    open.push(uac);
    const ok = await uac.call(
      base + 100,
      PROXY.map((r) => `Record-Route: ${r}`),
    );
    expect(ok.headers.getAll('record-route')).toEqual(PROXY);
    const { callId } = await started;
    const bye = uac.waitRequest('BYE');
    void server.hangup(callId);
    const req = await bye;
    expect(req.headers.getAll('route')).toEqual(PROXY);
    uac.reply(req, 200);
  });
});
