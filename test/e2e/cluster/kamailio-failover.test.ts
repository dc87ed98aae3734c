/**
 * Kamailio in front of two real appliances (each `edgevox serve` in its own process), sipp callers
 * dialling two DIDs through the front (provisioning/kamailio):
 *   1. spread: each DID's partition is served by its home box; calls counted per box;
 *   2. kill: box A is SIGKILLed mid-load; new calls for its DIDs go to box B (failover time printed:
 *      kill -> first of them answered by B, kill -> A marked down by the front); no call started
 *      after the kill fails;
 *   3. drain: A restarted (back in the front's set once a probe gets 200), then SIGTERMed mid-load:
 *      it finishes its calls (none cut short, none failed) and gets no new one; the rest go to B.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../../appliance/store/database.js';
import { runSipp } from '../../../tools/bench/harness.js';
import { haveKamailio, startKamailioFront, waitForBoxes, type KamailioFront } from '../../../tools/cluster/kamailioFront.js';
import { SHARED_DIR, scratchDir } from '../../helpers/paths.js';
import type { Served } from '../../helpers/process.js';
import { freePort, haveTool, prepareClip, SCENARIOS, type Workdir } from '../sip/harness.js';
import { DID_A, DID_B, PROBE_S, markedDown, metricSum, serveBox, sleep, type Box } from './clusterRig.js';

const started = (s: Served): Promise<number> => metricSum(s.url, 'edgevox_calls_started_total');

describe.runIf(haveTool('sipp') && haveTool('sox') && haveKamailio())('Kamailio front: two boxes, failover and drain', () => {
  const children: Served[] = [];
  let front: KamailioFront | undefined;
  let work: Workdir | undefined;
  afterAll(async () => {
    for (const s of children) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    await front?.stop();
    work?.cleanup();
  });

  const startBox = (name: string, sipPort: number, dataDir: string): Promise<Box> => serveBox(children, { name, sipPort, dataDir });

  async function load(did: string, calls: number, rate: number, talkMs: number) {
    const args = [
      `127.0.0.1:${front!.port}`,
      '-sf',
      join(SCENARIOS, 'uac-did-via-front.xml'),
      '-s',
      did,
      '-m',
      String(calls),
      '-r',
      String(rate),
      '-l',
      String(calls),
      '-d',
      String(talkMs),
      '-i',
      '127.0.0.1',
      '-p',
      String(await freePort()),
      '-mi',
      '127.0.0.1',
      '-mp',
      String(await freePort(true)),
      '-recv_timeout',
      '20000',
    ];
    return runSipp(args, work!.dir);
  }

  it('spreads calls by partition, fails over when a box is killed, and drains a box without cutting or sending it calls', async () => {
    work = prepareClip(join(SHARED_DIR, 'datasets', 'speech-en', '1.wav'));
    const a = await startBox('box-a', await freePort(), scratchDir('cluster-a'));
    const b = await startBox('box-b', await freePort(), scratchDir('cluster-b'));
    front = await startKamailioFront({
      port: await freePort(),
      probeIntervalS: PROBE_S,
      boxes: [
        { name: a.name, sipPort: a.sipPort, sets: { 1: 10, 2: 5 } },
        { name: b.name, sipPort: b.sipPort, sets: { 2: 10, 1: 5 } },
      ],
    });
    await waitForBoxes(front, [a.name, b.name], 'A');

    // 1. spread: each partition's calls land on its home box
    const [spreadA, spreadB] = await Promise.all([load(DID_A, 8, 4, 1500), load(DID_B, 8, 4, 1500)]);
    const perBox1 = { a: await started(a.served), b: await started(b.served) };
    console.log(
      `[cluster] spread: calls per box A=${perBox1.a} B=${perBox1.b}; sipp DID A ${JSON.stringify(spreadA)}, DID B ${JSON.stringify(spreadB)}`,
    );
    expect(spreadA.failed + spreadB.failed).toBe(0);
    expect(perBox1).toEqual({ a: 8, b: 8 });

    // 2. kill box A mid-load: its partition's new calls go to B
    const killLoad = load(DID_A, 40, 5, 2000);
    for (let i = 0; i < 100 && (await metricSum(a.served.url, 'edgevox_calls_active')) < 6; i++) await sleep(100);
    const activeOnAAtKill = await metricSum(a.served.url, 'edgevox_calls_active');
    const bBefore = await started(b.served);
    const killedAt = performance.now();
    a.served.child.kill('SIGKILL');
    let firstOnBMs = NaN;
    let markedDownMs = NaN;
    while (Number.isNaN(firstOnBMs) || Number.isNaN(markedDownMs)) {
      const now = performance.now() - killedAt;
      if (Number.isNaN(firstOnBMs) && (await started(b.served)) > bBefore) firstOnBMs = now;
      if (Number.isNaN(markedDownMs) && (await markedDown(front, a.name, 1))) markedDownMs = now;
      if (now > 30_000) break;
      await sleep(50);
    }
    const killed = await killLoad;
    const onBAfterKill = (await started(b.served)) - bBefore;
    // what A took before it died, from its own database (the metric read just before the kill may miss one)
    const dbA = new Database(join(a.dataDir, DATABASE_FILE), { readonly: true });
    const onAInKillLoad = (dbA.prepare('SELECT COUNT(*) AS n FROM calls').get() as { n: number }).n - perBox1.a;
    const openOnA = (dbA.prepare(`SELECT COUNT(*) AS n FROM calls WHERE state != 'ended'`).get() as { n: number }).n;
    dbA.close();
    console.log(
      `[cluster] kill: A had ${activeOnAAtKill} active calls just before the SIGKILL (${onAInKillLoad} taken in this load, ${openOnA} open when it died); ` +
        `failover time ${Math.round(firstOnBMs)} ms (kill -> first new call on B), A marked down by the front after ${Math.round(markedDownMs)} ms ` +
        `(probe interval ${PROBE_S} s); B took ${onBAfterKill} calls after the kill; sipp ${JSON.stringify(killed)}`,
    );
    expect(firstOnBMs).not.toBeNaN();
    expect(markedDownMs).not.toBeNaN();
    // only the calls A held when it died fail; every call placed after the kill is answered by B
    expect(killed.failed).toBeLessThanOrEqual(openOnA);
    expect(onAInKillLoad + onBAfterKill).toBe(40);
    expect(killed.completed + killed.failed).toBe(40);

    // 3. A back (same data), then drained mid-load: it finishes its calls and gets no new ones
    const a2 = await startBox(a.name, a.sipPort, a.dataDir);
    const backMs = await waitForBoxes(front, [a.name], 'A');
    console.log(`[cluster] restart: A back in the front's sets ${Math.round(backMs)} ms after it started`);
    const drainLoad = load(DID_A, 30, 5, 3000);
    for (let i = 0; i < 100 && (await metricSum(a2.served.url, 'edgevox_calls_active')) < 6; i++) await sleep(100);
    const bAtDrain = await started(b.served);
    a2.served.child.kill('SIGTERM');
    // the drain has begun once readiness says so; what A took until then is its share
    while ((await fetch(`${a2.served.url}/readyz`)).status === 200) await sleep(10);
    const onAAtDrain = await started(a2.served);
    let lastOnA = onAAtDrain;
    while (a2.served.child.exitCode === null) {
      lastOnA = await started(a2.served).catch(() => lastOnA);
      await sleep(100);
    }
    const exitCode = await a2.served.exited;
    const drained = await drainLoad;
    const onBDuringDrain = (await started(b.served)) - bAtDrain;
    const db = new Database(join(a.dataDir, DATABASE_FILE), { readonly: true });
    const reasons = db
      .prepare(`SELECT end_reason AS reason, COUNT(*) AS n FROM calls WHERE end_reason != 'appliance-crashed' GROUP BY end_reason`)
      .all() as { reason: string; n: number }[];
    db.close();
    console.log(
      `[cluster] drain: A had taken ${onAAtDrain} calls when SIGTERMed, ${lastOnA} when it exited (${exitCode}); ` +
        `B took ${onBDuringDrain}; A's calls ended by ${JSON.stringify(reasons)}; sipp ${JSON.stringify(drained)}`,
    );
    expect(exitCode).toBe(0);
    expect(lastOnA).toBe(onAAtDrain);
    expect(drained.failed).toBe(0);
    expect(onAAtDrain + onBDuringDrain).toBe(30);
    expect(reasons.some((r) => r.reason === 'shutdown')).toBe(false);
  }, 240_000);
});
