/**
 * Callback take-over through the real Kamailio front (docs/cluster.md "Callbacks when a box dies"):
 * box A (`edgevox serve`, its own process) and box B (in this process, so that its dialler and bus
 * can be watched) are a pair behind the front: cluster.boxName/peerUrl/peerToken, frontRpcUrl at
 * Kamailio's JSON-RPC.
 *
 *   1. callers (sipp, each from its own number) dial A after hours; A's group is closed and offers a
 *      callback; each presses 1: A stores the requests, and mirrors them to B (held there);
 *   2. A is SIGKILLed; the front marks it down (OPTIONS probes), B sees that in `dispatcher.list`,
 *      A's peer route does not answer either: B adopts the requests; B's dialler queues them, its
 *      agent alice (baresip, registered at B) answers each, and B dials the customer through its
 *      trunk (sipp as the provider, logging each dialled number; the customer answers and hangs up);
 *   3. A starts again on its data: it asks B which requests B adopted and closes them (`taken-over`)
 *      before its dialler runs.
 *
 * Checked: every request A stored was held by B, adopted by B and dialled exactly once at the trunk
 * (INVITEs counted per number), none twice, none by A after its return although alice's other phone
 * is registered there (A's dialler would offer a request still pending to her). Printed: the counts and the
 * time from the kill to the front marking A down, to the adoption, and to the first callback placed.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../../appliance/store/database.js';
import { haveKamailio, startKamailioFront, waitForBoxes, type KamailioFront } from '../../../tools/cluster/kamailioFront.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { haveBaresip, startBaresip } from '../../helpers/baresip.js';
import { scratchDir } from '../../helpers/paths.js';
import type { Served } from '../../helpers/process.js';
import { startSippUas, type SippUas } from '../../helpers/sipp.js';
import {
  AGENT_SENTENCE,
  AGENT_SPEED,
  AGENT_VOICE,
  ALICE_PASSWORD,
  TRAIL_S,
  agentConfig,
  clipDir,
  micWav,
  prompt,
  putRouting,
  sampleGroups,
  startAcdRig,
  type AcdRig,
} from '../acd/harness.js';
import { freePort, haveTool, runSipp, SCENARIOS, sippUacArgs } from '../sip/harness.js';
import { PROBE_S, freeTcpPort, markedDown, metricSum, serveBox, sleep, type Box } from './clusterRig.js';

const DTMF_PCAP = '/usr/share/sip-tester/dtmf_2833_1.pcap';
const TOKEN = 'e2e-box-to-box-token-0123456789';
/** The callers, each asking to be called back on its own number (allowed by the trunk's +4930 prefix). */
const NUMBERS = ['+4930123401', '+4930123402', '+4930123403'];
const ACD = { ringTimeoutS: 10, routeTimeoutS: 1, callbackOfferS: 30, callbacks: { maxAttempts: 2, retryS: 60, ringS: 20 } };
/** How long each customer stays on the line once answered (sipp -d). */
const CUSTOMER_TALK_MS = 1000;

const trunkConfig = (port: number) => ({
  name: 'pstn',
  host: '127.0.0.1',
  port,
  transport: 'udp',
  keepaliveSec: 0,
  outbound: { enabled: true, callerId: '+4930999000', allow: ['+4930'], maxPerHour: 100, maxConcurrent: 2 },
});

interface StoredRow {
  id: string;
  state: string;
  reason: string | null;
}

/** Box A's callback requests, read from its database file (A is another process). */
function storedOnA(dataDir: string): StoredRow[] {
  const db = new Database(join(dataDir, DATABASE_FILE), { readonly: true });
  try {
    return db.prepare('SELECT id, state, reason FROM callback_requests ORDER BY id').all() as StoredRow[];
  } finally {
    db.close();
  }
}

/** Numbers the trunk was asked to dial, one entry per INVITE (sipp's -trace_logs file). */
function dialledAtTrunk(trunk: SippUas): string[] {
  return readdirSync(trunk.dir)
    .filter((f) => f.endsWith('_logs.log'))
    .flatMap((f) => [...readFileSync(join(trunk.dir, f), 'latin1').matchAll(/CUSTOMER-DIALLED (\S+)/g)].map((m) => m[1]!));
}

const countBy = (xs: readonly string[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
};

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, timeoutMs: number, explain = (): string => ''): Promise<number> {
  const t0 = performance.now();
  while (!(await ok())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for: ${what}\n${explain()}`);
    await sleep(50);
  }
  return performance.now() - t0;
}

describe.runIf(haveTool('sipp') && haveKamailio() && haveBaresip() && haveTool('espeak-ng'))(
  'Kamailio front: a killed box’s callbacks are taken over and placed once by its partner',
  () => {
    const children: Served[] = [];
    const cleanups: (() => unknown)[] = [];
    let front: KamailioFront | undefined;
    let b: AcdRig | undefined;
    let trunk: SippUas | undefined;
    afterAll(async () => {
      for (const s of children) if (s.child.exitCode === null) s.child.kill('SIGKILL');
      await b?.close();
      trunk?.kill();
      trunk?.cleanup();
      await front?.stop();
      for (const c of cleanups.reverse()) await c();
    });

    it('B adopts the callbacks stored on A when A is killed, places each once over its trunk, and A closes them on its return', async () => {
      const clips = clipDir();
      cleanups.push(clips.remove);
      const [sipA, sipB, httpA, httpB, frontPort] = [
        await freePort(),
        await freePort(),
        await freeTcpPort(),
        await freeTcpPort(),
        await freePort(),
      ];
      const frontRpcUrl = `http://127.0.0.1:${frontPort}/RPC`;
      const cluster = (boxName: string, peerPort: number) => ({
        boxName,
        peerUrl: `http://127.0.0.1:${peerPort}`,
        peerToken: TOKEN,
        frontRpcUrl,
        adoptPollS: 1,
      });

      // the customers' side of the trunk both boxes dial out through
      trunk = await startSippUas('uas-trunk-callback-hangup.xml', {
        args: ['-m', '20', '-d', String(CUSTOMER_TALK_MS), '-trace_logs'],
        timeoutMs: 300_000,
      });

      // A's routing: after hours, its group offers a callback (kept in its store for `serve`)
      const dataDirA = scratchDir('cluster-callback-a');
      const seed = await startTestAppliance(
        {
          dataDir: dataDirA,
          sip: { enabled: false },
          console: { enabled: false },
          webrtc: { enabled: false },
          acd: { mode: 'acd', ...ACD },
        },
        { transcribers: null },
      );
      await putRouting(seed.app, sampleGroups({ general: { queue: { hours: { weekly: {} }, whenClosed: 'callback' } } }), [
        agentConfig('alice', 'general', ALICE_PASSWORD),
      ]);
      await seed.app.close();
      const configA = join(clips.dir, 'box-a.json');
      writeFileSync(
        configA,
        JSON.stringify({
          acd: { mode: 'acd', ...ACD },
          cluster: cluster('box-a', httpB),
          sip: { registrar: { algorithms: ['MD5'] }, trunks: [trunkConfig(trunk.port)] },
        }),
      );
      const startA = (env: NodeJS.ProcessEnv = {}): Promise<Box> =>
        serveBox(children, { name: 'box-a', sipPort: sipA, dataDir: dataDirA, httpPort: httpA, args: ['--config', configA], env });

      front = await startKamailioFront({
        port: frontPort,
        probeIntervalS: PROBE_S,
        boxes: [
          { name: 'box-a', sipPort: sipA, sets: { 1: 10, 2: 5 } },
          { name: 'box-b', sipPort: sipB, sets: { 2: 10, 1: 5 } },
        ],
      });
      // A first: B's start then reconciles with it at once (its dialler waits for that answer)
      let a = await startA();
      b = await startAcdRig({
        dataDir: scratchDir('cluster-callback-b'),
        http: { host: '127.0.0.1', port: httpB },
        sip: { port: sipB, trunks: [trunkConfig(trunk.port)] },
        acd: ACD,
        agents: { wrapUpS: 0 },
        cluster: cluster('box-b', httpA),
      });
      const rig = b;
      await putRouting(rig.app, sampleGroups(), [agentConfig('alice', 'general', ALICE_PASSWORD)]);
      await waitForBoxes(front, ['box-a', 'box-b'], 'A');
      const alice = await startBaresip({
        wav: micWav(clips.dir, 'alice', AGENT_SENTENCE, AGENT_VOICE, AGENT_SPEED, 1, TRAIL_S),
        user: 'alice',
        registrar: `127.0.0.1:${sipB}`,
        password: ALICE_PASSWORD,
        regint: 600,
        answerMode: 'auto',
      });
      rig.phones.push(alice);

      // B's view: when each callback was placed (dialled at the trunk and answered) and closed
      const placedAt: number[] = [];
      const completed = new Set<string>();
      rig.app.bus.subscribe((e) => {
        if (e.type === 'callback.completed' || e.type === 'callback.failed') {
          placedAt.push(performance.now());
          if (e.type === 'callback.completed') completed.add(e.id);
        }
      });
      const held = (state: string): string[] =>
        (
          rig.app.store.db.prepare(`SELECT id FROM callback_held WHERE home = 'box-a' AND state = ? ORDER BY id`).all(state) as {
            id: string;
          }[]
        ).map((r) => r.id);

      // --- 1. callers ask A for callbacks --------------------------------------------------------
      const callers = await Promise.all(
        NUMBERS.map(async (number) => {
          const dir = mkdtempSync(join(tmpdir(), 'evx-sipp-cb-caller-'));
          cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
          copyFileSync(DTMF_PCAP, join(dir, 'dtmf_2833_1.pcap'));
          // the scenario with this caller's number in From and Contact
          writeFileSync(
            join(dir, 'caller.xml'),
            readFileSync(join(SCENARIOS, 'uac-callback-dtmf.xml'), 'latin1').replaceAll('+4930123456', number),
            'latin1',
          );
          const args = await sippUacArgs(`127.0.0.1:${sipA}`, 'uac-callback-dtmf.xml', [
            '-d',
            String(prompt('greeting').durationMs + ACD.routeTimeoutS * 1000 + 3000),
            '-timeout',
            '60s',
            '-timeout_error',
          ]);
          args[args.indexOf('-sf') + 1] = join(dir, 'caller.xml');
          return runSipp(args, dir, 70_000);
        }),
      );
      for (const c of callers) expect(c.code, `${c.stdout}\n${c.stderr}\n${a.served.stderr()}`).toBe(0);
      const onA = storedOnA(dataDirA).filter((r) => r.state === 'pending');
      expect(onA).toHaveLength(NUMBERS.length);
      const ids = onA.map((r) => r.id).sort();
      await waitFor('B holds A’s requests', () => held('held').length === ids.length, 20_000);
      expect(held('held')).toEqual(ids);
      expect(dialledAtTrunk(trunk)).toEqual([]);

      // --- 2. A dies: B adopts and places each request once -----------------------------------------
      const killedAt = performance.now();
      a.served.child.kill('SIGKILL');
      await a.served.exited;
      const markedDownMs = await waitFor('the front marks A down', () => markedDown(front!, 'box-a', 1), 30_000);
      const adoptedMs = await waitFor('B adopts', () => held('adopted').length === ids.length, 30_000, rig.explain);
      await waitFor('B places every adopted callback', () => placedAt.length >= ids.length, 90_000, rig.explain);
      const firstPlacedMs = Math.min(...placedAt) - killedAt;
      await sleep(1000);
      const byB = dialledAtTrunk(trunk);

      // --- 3. A returns: it closes what B adopted, and places none of it ----------------------------
      const restartedAt = performance.now();
      a = await startA();
      await waitFor(
        'A closes the adopted requests',
        () =>
          storedOnA(dataDirA).filter((r) => ids.includes(r.id) && r.state === 'cancelled' && r.reason === 'taken-over').length ===
          ids.length,
        30_000,
        () => a.served.stderr(),
      );
      const reconciledMs = performance.now() - restartedAt;
      // alice's other phone registers at A: were any of those requests still pending there, A's
      // dialler would offer it to her and dial the customer through the same trunk
      const aliceAtA = await startBaresip({
        wav: micWav(clips.dir, 'alice-a', AGENT_SENTENCE, AGENT_VOICE, AGENT_SPEED, 1, TRAIL_S),
        user: 'alice',
        registrar: `127.0.0.1:${sipA}`,
        password: ALICE_PASSWORD,
        regint: 600,
        answerMode: 'auto',
      });
      cleanups.push(() => aliceAtA.close());
      await waitFor('alice registered at A', async () => (await metricSum(a.served.url, 'edgevox_agents_registered')) >= 1, 15_000);
      await sleep(6000); // more than a dialler poll (5 s) on A
      const dialled = dialledAtTrunk(trunk);
      const perNumber = countBy(dialled);
      const duplicates = Object.values(perNumber).reduce((n, c) => n + Math.max(0, c - 1), 0);
      const onB = (
        rig.app.store.db.prepare(`SELECT id, state FROM callback_requests ORDER BY id`).all() as { id: string; state: string }[]
      ).filter((r) => ids.includes(r.id));

      console.log(
        `[cluster] callbacks: stored on A ${onA.length}, held by B ${ids.length}, adopted by B ${held('adopted').length}, ` +
          `placed by B ${completed.size} (INVITEs at the trunk ${byB.length}, after A's return ${dialled.length}), duplicates ${duplicates}; ` +
          `kill -> A marked down at the front ${Math.round(markedDownMs)} ms, -> adopted by B ${Math.round(markedDownMs + adoptedMs)} ms, ` +
          `-> first callback placed (customer answered) ${Math.round(firstPlacedMs)} ms (probe ${PROBE_S} s, adopt poll 1 s, dialler poll 5 s); ` +
          `A restarted: adopted requests closed as taken-over ${Math.round(reconciledMs)} ms after its start began`,
      );
      expect(completed.size).toBe(ids.length);
      expect(onB).toEqual(ids.map((id) => ({ id, state: 'done' })));
      expect(perNumber).toEqual(Object.fromEntries(NUMBERS.map((n) => [n, 1])));
      expect(duplicates).toBe(0);
      expect(dialled).toHaveLength(byB.length);
      expect(storedOnA(dataDirA).filter((r) => r.state === 'pending' || r.state === 'dialing')).toEqual([]);
    }, 150_000);
  },
);
