/**
 * Outbound registration against a registrar someone else wrote: sipp (UAS) challenges our
 * REGISTER with digest (MD5, qop=auth) and checks the answer with its own implementation
 * (verifyauth). The right password registers the trunk; a wrong one is refused (403) and fails it.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import { TrunkSupervisor } from '../../../appliance/telephony/trunks.js';
import { freePort, haveTool, runSipp, SCENARIOS } from './harness.js';

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function register(password: string) {
  const sippPort = await freePort();
  const registrar = runSipp(
    ['-sf', path.join(SCENARIOS, 'uas-registrar-digest.xml'), '-i', '127.0.0.1', '-p', String(sippPort), '-m', '1', '-timeout', '20s'],
    SCENARIOS,
    25_000,
  );
  await new Promise((r) => setTimeout(r, 300)); // sipp binds its port
  const base = 38000 + 2 * Math.floor(Math.random() * 1000);
  const sip = new SipServer({ port: 0, transports: ['udp'], rtpPortMin: base, rtpPortMax: base + 9 });
  await sip.listen();
  open.push(sip);
  const supervisor = new TrunkSupervisor({
    trunks: [
      {
        name: 'provider',
        host: '127.0.0.1',
        port: sippPort,
        transport: 'udp',
        keepaliveSec: 0,
        register: { username: 'trunk-7', password, domain: 'provider.test', expiresSec: 600 },
      },
    ],
    signalling: sip,
    unregisterWaitMs: 200,
  });
  const states: string[] = [];
  supervisor.events.on('trunk.registration', (e) => states.push(`${e.state}:${e.reason}`));
  open.push(supervisor);
  supervisor.start();
  const r = await registrar;
  for (let i = 0; i < 40 && states.length === 0; i++) await new Promise((res) => setTimeout(res, 50));
  return { states, sipp: r };
}

describe.skipIf(!haveTool('sipp'))('registration with digest against sipp as the registrar', () => {
  it('registers when sipp verifies our digest answer', async () => {
    const { states, sipp } = await register('correct horse');
    expect(sipp.code, sipp.stdout + sipp.stderr).toBe(0);
    expect(states[0]).toMatch(/^registered/);
  });

  it('fails (no loop) when the password is wrong: sipp answers 403', async () => {
    const { states } = await register('wrong password');
    expect(states[0]).toMatch(/^failed/);
    expect(states).toHaveLength(1);
  });
});
