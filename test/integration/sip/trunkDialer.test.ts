/**
 * Calls out through a SIP trunk, wired as the appliance wires them (app/trunks.ts: the trunk
 * dialer over the SIP server's trunk line, audit rows in a real store, Prometheus counters, logs):
 * - sipp plays the provider's trunk, challenges the INVITE (407, and 401 with sipp's own digest
 *   check), answers; the call is bridged to a caller leg and ends cleanly with our BYE;
 * - a number outside the allow-list is refused, and a UDP socket listening as the trunk receives
 *   nothing; caps refuse the call after the limit, again with nothing sent;
 * - the trunk's address and port can no longer be called through a plain SIP URI target;
 * - no number in clear in the audit rows, the metrics or the log;
 * - the appliance exposes the dialer as `trunkDialer` (null when no trunk calls out).
 */
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { startTrunks, type StartedTrunks } from '../../../appliance/app/trunks.js';
import { validateConfig } from '../../../appliance/config/load.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { ApplianceMetrics } from '../../../appliance/metrics/metrics.js';
import { Store } from '../../../appliance/store/database.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { quietApplianceOverrides } from '../../helpers/auth.js';
import { startSippUas } from '../../helpers/sipp.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

const NUMBER = '+49 30 1234 5678';
const CLEAR = ['+493012345678', '3012345678', '12345678'];

interface Box {
  sip: SipServer;
  trunks: StartedTrunks;
  store: Store;
  metrics: ApplianceMetrics;
  log: string[];
}

async function box(trunkPort: number, outbound: Record<string, unknown>): Promise<Box> {
  const rtpBase = 30000 + 2 * Math.floor(Math.random() * 5000);
  const sip = new SipServer({
    port: 0,
    rtpPortMin: rtpBase,
    rtpPortMax: rtpBase + 19,
    transferTargets: ['127.0.0.0/8'],
    timers: { t1Ms: 50, t2Ms: 400, t4Ms: 500 }, // Timer B 3.2 s: a call that got no answer ends soon
  });
  await sip.listen();
  open.push(sip);
  const dir = mkdtempSync(path.join(tmpdir(), 'evx-trunk-dialer-'));
  const store = Store.open(dir);
  open.push({ close: () => (store.close(), rmSync(dir, { recursive: true, force: true })) });
  const config = validateConfig({
    sip: {
      trunks: [
        {
          name: 'carrier',
          host: '127.0.0.1',
          port: trunkPort,
          keepaliveSec: 0,
          srtp: 'off',
          outbound: {
            enabled: true,
            callerId: '+4930999000',
            username: 'trunk-7',
            password: 'correct horse',
            allow: ['+4930'],
            ...outbound,
          },
        },
      ],
    },
  });
  const log: string[] = [];
  const logger = createLogger({
    level: 'info',
    includePii: false,
    destination: new Writable({ write: (chunk: Buffer, _e, cb) => (log.push(chunk.toString()), cb()) }),
  });
  const metrics = new ApplianceMetrics({ version: 'test', nodeVersion: process.versions.node, commit: 'test' });
  const trunks = startTrunks({ config, logger, sip, metrics, store });
  open.push(trunks);
  return { sip, trunks, store, metrics, log };
}

/** A UDP socket listening as the trunk: counts every datagram it receives. */
async function silentTrunk(): Promise<{ port: number; received: () => number }> {
  const sock = dgram.createSocket('udp4');
  let n = 0;
  sock.on('message', () => n++);
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  open.push({ close: () => new Promise<void>((r) => sock.close(() => r())) });
  return { port: sock.address().port, received: () => n };
}

function refusedReason(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    if (isEdgeVoxError(err, 'EVX_ERR_OUTBOUND_REFUSED')) return err.details['reason'];
    throw err;
  }
  return 'placed';
}

async function noNumberInClear(b: Box): Promise<void> {
  const text = [JSON.stringify(b.store.audit.list()), await b.metrics.registry.metrics(), b.log.join('')].join('\n');
  for (const n of CLEAR) expect(text).not.toContain(n);
}

describe('calls out through a trunk (sipp as the provider)', () => {
  for (const status of [407, 401] as const) {
    it(`authenticates the INVITE (${status}), is answered, bridged to the caller leg and ends with our BYE`, async () => {
      const trunk = await startSippUas(`uas-trunk-digest-${status}.xml`);
      open.push({ close: () => (trunk.kill(), trunk.cleanup()) });
      const b = await box(trunk.port, {});
      // the caller leg: a second call, to a phone on a plain target
      const phone = await startSippUas('uas-answer.xml', { files: { 'tone.ulaw': Buffer.alloc(8000, 0xff) } });
      open.push({ close: () => (phone.kill(), phone.cleanup()) });
      const caller = await b.sip.placeCall({ target: { uri: `sip:caller@127.0.0.1:${phone.port}` }, ringTimeoutMs: 5000 }).result;
      if (caller.type !== 'answered') throw new Error('the caller leg was not answered');

      const dialer = b.trunks.dialer!;
      const oc = dialer.place({ number: NUMBER, purpose: 'callback', ringTimeoutMs: 5000, label: 'caller' });
      const outcome = await oc.result;
      if (outcome.type !== 'answered') throw new Error(`not answered: ${outcome.reason} ${outcome.status}\n${(await trunk.done).output}`);
      const bridge = b.sip.bridge(caller.call.id, outcome.call.id);
      expect(dialer.check(NUMBER)).toBeNull();
      await b.sip.hangup(outcome.call.id);
      bridge.close();
      const r = await trunk.done;
      expect(r.code, r.output).toBe(0); // challenged, credentials accepted, answered, ACK and our BYE seen
      expect(r.output).toContain('INVITE sip:+493012345678@127.0.0.1:');
      expect(r.output).toMatch(/From: <sip:\+4930999000@127\.0\.0\.1>;tag=/);
      expect(r.output).toMatch(/;user=phone SIP\/2\.0/);
      await b.sip.hangup(caller.call.id);
      await phone.done;

      const rows = b.store.audit.list().filter((a) => a.action.startsWith('outbound.'));
      expect(rows).toEqual([
        expect.objectContaining({
          actor: 'system',
          action: 'outbound.placed',
          target: 'trunk:carrier',
          details: { purpose: 'callback', number: '••••••78', callId: oc.id },
        }),
      ]);
      const text = await b.metrics.registry.metrics();
      expect(text).toContain('edgevox_sip_trunk_outbound_placed_total{trunk="carrier",purpose="callback"} 1');
      await noNumberInClear(b);
      expect(b.sip.resources()).toMatchObject({ calls: 0, pendingInvites: 0, rtpPortPairs: 0 });
    });
  }

  it('refuses a number outside the allow-list: nothing reaches the trunk, an audit row and a counter say why', async () => {
    const trunk = await silentTrunk();
    const b = await box(trunk.port, {});
    expect(refusedReason(() => b.trunks.dialer!.place({ number: '+44 20 7946 0958', purpose: 'transfer', ringTimeoutMs: 5000 }))).toBe(
      'not-allowed',
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(trunk.received()).toBe(0);
    expect(b.sip.resources()).toMatchObject({ pendingInvites: 0, rtpPortPairs: 0, clientTransactions: 0 });
    expect(b.store.audit.list()).toEqual([
      expect.objectContaining({
        actor: 'system',
        action: 'outbound.refused',
        target: 'trunk:carrier',
        details: { purpose: 'transfer', reason: 'not-allowed', number: '••••••58' },
      }),
    ]);
    const text = await b.metrics.registry.metrics();
    expect(text).toContain('edgevox_sip_trunk_outbound_refused_total{trunk="carrier",purpose="transfer",reason="not-allowed"} 1');
    expect(b.log.join('')).toContain('outbound call refused');
    expect(JSON.stringify(b.store.audit.list()) + text + b.log.join('')).not.toContain('2079460958');
  });

  it('refuses past the caps with nothing sent: concurrent, then hourly once the first has ended', async () => {
    const trunk = await silentTrunk();
    const b = await box(trunk.port, { maxConcurrent: 1, maxPerHour: 2 });
    const dialer = b.trunks.dialer!;
    const req = { number: NUMBER, purpose: 'callback' as const, ringTimeoutMs: 300 };
    const first = dialer.place(req);
    await new Promise((r) => setTimeout(r, 100));
    const sent = trunk.received();
    expect(sent).toBeGreaterThan(0); // the first INVITE went out
    expect(refusedReason(() => dialer.place(req))).toBe('concurrent-cap');
    // nothing new went out: the first INVITE's transaction (and its retransmissions) is the only one
    expect(b.sip.resources().clientTransactions).toBe(1);
    await first.cancel(); // no provisional, so no CANCEL: it ends at Timer B and its place frees then
    const second = dialer.place(req);
    expect(refusedReason(() => dialer.place(req))).toBe('concurrent-cap');
    await second.cancel();
    expect(refusedReason(() => dialer.place(req))).toBe('hourly-cap');
    expect(
      b.store.audit
        .list()
        .map((a) => [a.action, a.details['reason']])
        .reverse(),
    ).toEqual([
      ['outbound.placed', undefined],
      ['outbound.refused', 'concurrent-cap'],
      ['outbound.placed', undefined],
      ['outbound.refused', 'concurrent-cap'],
      ['outbound.refused', 'hourly-cap'],
    ]);
    const text = await b.metrics.registry.metrics();
    expect(text).toContain('edgevox_sip_trunk_outbound_refused_total{trunk="carrier",purpose="callback",reason="concurrent-cap"} 2');
    expect(text).toContain('edgevox_sip_trunk_outbound_refused_total{trunk="carrier",purpose="callback",reason="hourly-cap"} 1');
    await noNumberInClear(b);
  });

  it("takes the trunk's address out of plain targets: only the dialer calls it", async () => {
    const trunk = await silentTrunk();
    const b = await box(trunk.port, {});
    let err: unknown;
    try {
      b.sip.placeCall({ target: { uri: `sip:+4930123456@127.0.0.1:${trunk.port}` }, ringTimeoutMs: 1000 });
    } catch (e) {
      err = e;
    }
    expect(isEdgeVoxError(err, 'EVX_ERR_TRANSFER_TARGET')).toBe(true);
    expect(() => b.sip.claimTrunkLine([{ address: '127.0.0.1', port: trunk.port }])).toThrow(/already taken/);
    await new Promise((r) => setTimeout(r, 100));
    expect(trunk.received()).toBe(0);
  });

  it('the appliance exposes it as trunkDialer when a trunk calls out, audited in its store; null otherwise', async () => {
    const trunk = await silentTrunk();
    const outbound = { enabled: true, callerId: '+4930999000', allow: ['+4930'] };
    const started: Appliance[] = [];
    open.push({ close: async () => Promise.all(started.map((a) => a.close())) });
    const start = async (trunks: unknown[]) => {
      const { app } = await startTestAppliance(quietApplianceOverrides({ sip: { transports: ['udp'], trunks } }), { transcribers: null });
      started.push(app);
      return app;
    };
    const none = await start([{ name: 'in-only', host: '127.0.0.1', port: trunk.port, keepaliveSec: 0 }]);
    expect(none.trunkDialer).toBeNull();
    const app = await start([{ name: 'carrier', host: '127.0.0.1', port: trunk.port, keepaliveSec: 0, outbound }]);
    const dialer = app.trunkDialer!;
    expect(dialer.trunks).toEqual(['carrier']);
    expect(refusedReason(() => dialer.place({ number: '+33 1 2345 6789', purpose: 'callback', ringTimeoutMs: 1000 }))).toBe('not-allowed');
    expect(app.store.audit.list().filter((a) => a.action === 'outbound.refused')).toEqual([
      expect.objectContaining({
        actor: 'system',
        target: 'trunk:carrier',
        details: { purpose: 'callback', reason: 'not-allowed', number: '••••••89' },
      }),
    ]);
    await new Promise((r) => setTimeout(r, 100));
    expect(trunk.received()).toBe(0);
  });
});
