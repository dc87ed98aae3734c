/**
 * OPTIONS outside a dialog tells a health-probing SIP front (Kamailio's dispatcher) whether the box
 * takes new calls: 200 while it does, 503 + Retry-After while it is full or its admission control
 * says no (draining). The box used to answer 200 even while draining, so a front kept sending it calls.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import type { AdmissionDecision, SipServerOptions } from '../../../appliance/telephony/types.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { TestUac } from './uac.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function probe(port: number): Promise<{ status: number; retryAfter: string | undefined }> {
  const uac = await new TestUac(port).open();
  open.push(uac);
  uac.sendRaw(uac.request('OPTIONS'));
  const res = await uac.waitFor((m) => m.kind === 'response' && m.status >= 200);
  if (res.kind !== 'response') throw new Error('not a response');
  return { status: res.status, retryAfter: res.headers.get('retry-after') };
}

async function server(opts: SipServerOptions): Promise<SipServer> {
  const base = 42000 + 2 * Math.floor(Math.random() * 4000);
  const s = new SipServer({ port: 0, rtpPortMin: base, rtpPortMax: base + 9, ...opts });
  await s.listen();
  open.push(s);
  return s;
}

describe('OPTIONS answers with the box availability', () => {
  it('answers 503 + Retry-After when admission control refuses, 200 when it admits, and never counts a probe as a call attempt', async () => {
    let decision: AdmissionDecision = { ok: true };
    let admitAsked = 0;
    const s = await server({
      availability: () => decision,
      admit: () => {
        admitAsked++;
        return decision;
      },
    });
    expect(await probe(s.port)).toEqual({ status: 200, retryAfter: undefined });
    decision = { ok: false, reason: 'overload', retryAfterS: 7 };
    expect(await probe(s.port)).toEqual({ status: 503, retryAfter: '7' });
    decision = { ok: true };
    expect(await probe(s.port)).toEqual({ status: 200, retryAfter: undefined });
    expect(admitAsked).toBe(0);
  });

  it('answers 503 + Retry-After when the box is at its maximum of calls', async () => {
    const s = await server({ maxCalls: 0, retryAfterSec: 12 });
    expect(await probe(s.port)).toEqual({ status: 503, retryAfter: '12' });
  });

  it('a running appliance answers 200, and 503 + Retry-After once it drains (SIGTERM drains the same way)', async () => {
    const { app } = await startTestAppliance({ calls: { retryAfterS: 9 } });
    open.push(app);
    const port = app.sip!.port;
    expect((await probe(port)).status).toBe(200);
    await app.drain(0);
    expect(await probe(port)).toEqual({ status: 503, retryAfter: '9' });
  });
});
