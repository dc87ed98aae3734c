/**
 * Agents' phones behind the Kamailio front (provisioning/kamailio): a phone registers through the
 * front; the REGISTER reaches the home box of the agent's partition, which authenticates it (digest,
 * its own accounts) and keeps the binding its ACD rings; the front keeps the location too, so any box
 * reaches the agent at sip:<agent>@<front>. With the home box down, the next refresh lands on the
 * standby, which then holds the binding.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { answerChallenge } from '../../../appliance/sip/auth.js';
import type { SipResponse } from '../../../appliance/sip/message.js';
import { randomToken } from '../../../appliance/sip/serialize.js';
import { Registrar } from '../../../appliance/telephony/registrar.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import { haveKamailio, startKamailioFront, waitForBoxes, type KamailioFront } from '../../../tools/cluster/kamailioFront.js';
import { TestUac } from '../../integration/sip/uac.js';
import { freePort } from '../sip/harness.js';

const ACCOUNTS = new Map([['a-alice', { agentId: 'agent-alice', password: 'alice-secret' }]]);

describe.runIf(haveKamailio())('Kamailio front: agents register through it', () => {
  const open: Array<{ close(): unknown }> = [];
  let front: KamailioFront | undefined;
  afterAll(async () => {
    for (const o of open.reverse()) await o.close();
    await front?.stop();
  });

  async function box(): Promise<{ server: SipServer; registrar: Registrar }> {
    const registrar = new Registrar({ lookup: (u) => ACCOUNTS.get(u), challengeAlgorithms: ['MD5'] });
    const base = 44000 + 2 * Math.floor(Math.random() * 4000);
    const server = new SipServer({ port: await freePort(), transports: ['udp'], rtpPortMin: base, rtpPortMax: base + 9, registrar });
    await server.listen();
    open.push(registrar, server);
    return { server, registrar };
  }

  async function register(uac: TestUac): Promise<SipResponse> {
    const send = async (authorization?: string): Promise<SipResponse> => {
      const cseq = uac.cseq++;
      uac.sendRaw(uac.registerRequest({ user: 'a-alice', cseq, expires: 120, ...(authorization === undefined ? {} : { authorization }) }));
      return (await uac.waitFor(
        (m) => m.kind === 'response' && m.status >= 200 && m.headers.get('cseq') === `${cseq} REGISTER`,
      )) as SipResponse;
    };
    const first = await send();
    if (first.status !== 401) return first;
    const auth = answerChallenge(first.headers.getAll('www-authenticate'), {
      method: 'REGISTER',
      uri: uac.registerUri,
      username: 'a-alice',
      password: 'alice-secret',
      nc: 1,
      cnonce: randomToken(),
    });
    return send(auth);
  }

  it('registers at the home box through the front, is reachable by AOR at the front, and re-registers at the standby when the home box is down', async () => {
    const a = await box();
    const b = await box();
    front = await startKamailioFront({
      port: await freePort(),
      probeIntervalS: 1,
      boxes: [
        { name: 'box-a', sipPort: a.server.port, sets: { 1: 10, 2: 5 } },
        { name: 'box-b', sipPort: b.server.port, sets: { 2: 10, 1: 5 } },
      ],
    });
    await waitForBoxes(front, ['box-a', 'box-b'], 'A');
    const phone = await new TestUac(front.port).open();
    open.push(phone);

    expect((await register(phone)).status).toBe(200);
    expect(a.registrar.contactsOf('agent-alice')).toHaveLength(1);
    expect(b.registrar.contactsOf('agent-alice')).toHaveLength(0);
    const location = JSON.stringify(await front.rpc('ul.lookup', ['location', 'a-alice']));
    expect(location).toContain(`sip:a-alice@127.0.0.1:${phone.port}`);

    // any box reaches the agent by its address of record at the front
    const ringing = phone.waitRequest('INVITE');
    const placed = b.server.placeCall({ target: { uri: `sip:a-alice@127.0.0.1:${front.port}` }, ringTimeoutMs: 5000 });
    const invite = await ringing;
    expect(invite.uri).toBe(`sip:a-alice@127.0.0.1:${phone.port}`);
    phone.reply(invite, 486);
    expect((await placed.result).type).toBe('failed');

    // the home box goes away: the refresh goes to the standby, which authenticates and keeps it
    await a.server.close();
    await waitForBoxes(front, ['box-a'], 'I');
    expect((await register(phone)).status).toBe(200);
    expect(b.registrar.contactsOf('agent-alice')).toHaveLength(1);
  }, 60_000);
});
