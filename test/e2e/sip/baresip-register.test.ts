/**
 * baresip 1.0 as an agent's phone registering to the box: its REGISTER is challenged, its digest
 * answer (libre's own implementation) is accepted, its contact appears in `contactsOf` with the flow
 * it came on, and when it quits it removes its binding (Expires: 0).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Registrar, type RegistrationChangedEvent } from '../../../appliance/telephony/registrar.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import { haveBaresip, startBaresip } from '../../helpers/baresip.js';

describe.skipIf(!haveBaresip())('baresip 1.0 registering to the box', () => {
  let workDir = '';
  let wav = '';
  const open: Array<{ close(): unknown }> = [];
  beforeAll(() => {
    workDir = mkdtempSync(path.join(tmpdir(), 'evx-baresip-reg-'));
    // the phone never calls: one second of silence satisfies its audio source
    wav = path.join(workDir, 'silence-8k.wav');
    execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', wav, 'trim', '0', '1'], { stdio: 'ignore' });
  });
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
  });
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it('registers with digest, is listed by contactsOf, and unregisters when it quits', async () => {
    const registrar = new Registrar({
      lookup: (u) => (u === 'agent7' ? { agentId: 'agent-7', password: 'desk-phone-7' } : undefined),
      // libre 1.1 refuses a 401 that carries any non-MD5 challenge (src/sip/auth.c auth_handler: ENOSYS)
      challengeAlgorithms: ['MD5'],
    });
    open.push(registrar);
    const changes: RegistrationChangedEvent[] = [];
    registrar.events.on('registration.changed', (e) => changes.push(e));
    const rtpBase = 40000 + 2 * Math.floor(Math.random() * 5000);
    const server = new SipServer({ port: 0, transports: ['udp'], rtpPortMin: rtpBase, rtpPortMax: rtpBase + 9, registrar });
    const sipPort = await server.listen();
    open.push(server);

    const phone = await startBaresip({ wav, user: 'agent7', registrar: `127.0.0.1:${sipPort}`, password: 'desk-phone-7', regint: 600 });
    open.push(phone);
    // it registers at start-up, often before the control connection is up (its REGISTER_OK event is
    // then never seen): the box's own view is what counts
    const until = Date.now() + 10_000;
    while (registrar.contactsOf('agent-7').length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));

    const contacts = registrar.contactsOf('agent-7');
    expect(contacts, JSON.stringify(registrar.counters) + phone.describe()).toHaveLength(1);
    const [c] = contacts;
    expect(c!.flow).toEqual({ transport: 'udp', address: '127.0.0.1', port: phone.sipPort });
    expect(c!.contact).toMatch(new RegExp(`^sip:[^@]+@127\\.0\\.0\\.1:${phone.sipPort}`));
    expect(c!.userAgent ?? '').toMatch(/baresip/i);
    // with or without +sip.instance, requests to this phone go where it sent from
    expect(c!.target).toEqual({ transport: 'udp', address: '127.0.0.1', port: phone.sipPort });
    expect(c!.expiresAt - Date.now()).toBeGreaterThan(590_000);
    expect(server.counters.rejectedAuth).toBe(1); // the one challenge

    await phone.close();
    const deadline = Date.now() + 5000;
    while (!changes.some((e) => e.reason === 'unregistered') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(changes.map((e) => [e.reason, e.contacts])).toEqual([
      ['registered', 1],
      ['unregistered', 0],
    ]);
    expect(registrar.contactsOf('agent-7')).toEqual([]);
  });
});
