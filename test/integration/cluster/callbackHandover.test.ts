/**
 * Callback hand-over between two appliances in one process (cluster/callbackHandover.ts,
 * docs/cluster.md): a callback requested on A is mirrored to B (held, sealed with B's key, never
 * due there); while A answers the peer route B adopts nothing; A dies, B adopts the request under the
 * same id and its dialler's queue (`due`) has it once, adopting again adds nothing; A restarts on its
 * own store, learns from B that the request was adopted and closes it as taken over before its
 * dialler could place it. The peer route refuses a missing or wrong token and an oversized body.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { quietApplianceOverrides } from '../../helpers/auth.js';

const TOKEN = 'box-to-box-token-0123456789abcdef';
const NUMBER = 'sip:+4930123456@trunk.example;user=phone';
let a: Appliance | null = null;
let b: Appliance;
let portA: number;
let portB: number;
let dataDirA: string;
/** The front's dispatcher state of box a, as a stand-in for Kamailio's JSON-RPC `dispatcher.list` answers it. */
let frontSaysA: 'AP' | 'IP' = 'AP';
let front: Server;
let frontUrl: string;

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

const box = (name: string, port: number, peerPort: number, extra: Record<string, unknown> = {}) =>
  quietApplianceOverrides({
    sip: { enabled: false },
    console: { enabled: false },
    http: { host: '127.0.0.1', port },
    cluster: { boxName: name, peerUrl: `http://127.0.0.1:${peerPort}`, peerToken: TOKEN, adoptPollS: 300, frontRpcUrl: frontUrl },
    ...extra,
  });

const heldState = (app: Appliance, id: string): string | undefined =>
  (app.store.db.prepare('SELECT state FROM callback_held WHERE id = ?').get(id) as { state: string } | undefined)?.state;

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

const dispatcherList = () => ({
  RECORDS: [
    {
      SET: {
        ID: 1,
        TARGETS: [
          { DEST: { URI: 'sip:127.0.0.1:5071', FLAGS: frontSaysA, PRIORITY: 10, ATTRS: { BODY: 'name=a' } } },
          { DEST: { URI: 'sip:127.0.0.1:5072', FLAGS: 'AP', PRIORITY: 5, ATTRS: { BODY: 'name=b' } } },
        ],
      },
    },
  ],
});

beforeAll(async () => {
  front = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: dispatcherList() }));
    });
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  frontUrl = `http://127.0.0.1:${(front.address() as { port: number }).port}/RPC`;
  [portA, portB] = [await freePort(), await freePort()];
  ({ app: b } = await startTestAppliance(box('b', portB, portA), { transcribers: null }));
  ({ app: a } = await startTestAppliance(box('a', portA, portB), { transcribers: null }));
  dataDirA = a.config.dataDir;
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await new Promise((r) => front?.close(r));
});

describe('callback hand-over between two boxes', () => {
  let placed: string;
  let closedEarly: string;

  it('mirrors a request to the partner, held and sealed with its own key, and its close', async () => {
    a!.store.calls.create({ id: 'call-1', source: 'sip', callerHash: null, startedAt: Date.now() });
    placed = a!.acd!.callbacks.request('call-1', 'cards', NUMBER).id;
    closedEarly = a!.acd!.callbacks.request('call-1', 'cards', 'tel:+441632960042').id;
    await until('B holds both requests', () => heldState(b, placed) === 'held' && heldState(b, closedEarly) === 'held');
    a!.acd!.callbacks.cancel(closedEarly);
    await until('B has the close', () => heldState(b, closedEarly) === 'closed');
    const raw = JSON.stringify(b.store.db.prepare('SELECT * FROM callback_held').all());
    expect(raw).not.toMatch(/4930123456|1632960042/);
    // held, not due: B's dialler does not see it while A lives
    expect(b.acd!.callbacks.due(100).map((r) => r.id)).not.toContain(placed);
    expect(a!.handover!.dropped).toBe(0);
  });

  it('adopts nothing while the front has the partner up, nor while it still answers (down at the front only because draining or full)', async () => {
    expect(await b.handover!.adoptDeadPartners()).toEqual([]);
    frontSaysA = 'IP';
    expect(await b.handover!.adoptDeadPartners()).toEqual([]);
    expect(await b.handover!.adoptIfDead('a')).toEqual([]);
    expect(heldState(b, placed)).toBe('held');
  });

  it('adopts a dead partner’s pending request once, under the same id, with the number intact', async () => {
    await a!.close();
    a = null;
    frontSaysA = 'AP'; // a box the front still sends calls to is never taken over
    expect(await b.handover!.adoptDeadPartners()).toEqual([]);
    frontSaysA = 'IP';
    expect(await b.handover!.adoptDeadPartners()).toEqual([placed]);
    expect(await b.handover!.adoptDeadPartners()).toEqual([]);
    expect(await b.handover!.adoptIfDead('a')).toEqual([]);
    const due = b.acd!.callbacks.due(100).map((r) => r.id);
    expect(due.filter((id) => id === placed)).toHaveLength(1);
    expect(due).not.toContain(closedEarly);
    expect(b.acd!.callbacks.open(placed)).toBe(NUMBER);
    expect(b.acd!.callbacks.get(placed)).toMatchObject({ groupId: 'cards', state: 'pending', number: '••••••56' });
  });

  it('the restarted box learns the request was adopted and closes it before its dialler runs', async () => {
    ({ app: a } = await startTestAppliance(box('a', portA, portB, { dataDir: dataDirA }), { transcribers: null }));
    await until('A closes the adopted request', () => a!.acd!.callbacks.stored(placed)?.state === 'cancelled');
    expect(a.acd!.callbacks.stored(placed)).toMatchObject({ state: 'cancelled', reason: 'taken-over' });
    expect(a.acd!.callbacks.due(100)).toEqual([]);
    // across both boxes the request is due exactly once: on B
    const dueAnywhere = [...a.acd!.callbacks.due(100), ...b.acd!.callbacks.due(100)].filter((r) => r.id === placed);
    expect(dueAnywhere).toHaveLength(1);
  });

  it('a request made after the return is held again and not adoptable while its box answers', async () => {
    const later = a!.acd!.callbacks.request('call-9', 'loans', 'tel:+441632960077').id;
    await until('B holds the new request', () => heldState(b, later) === 'held');
    expect(await b.handover!.adoptIfDead('a')).toEqual([]);
  });

  it('the peer route refuses a missing or wrong token, and bounds the body', async () => {
    const post = async (headers: Record<string, string>, payload: unknown) =>
      (await b.http.inject({ method: 'POST', url: '/api/v1/cluster/peer', headers, payload: payload as object })).statusCode;
    expect(await post({}, { op: 'alive' })).toBe(401);
    expect(await post({ authorization: `Bearer ${TOKEN}x` }, { op: 'alive' })).toBe(401);
    expect(await post({ authorization: TOKEN }, { op: 'alive' })).toBe(401);
    expect(await post({ authorization: `Bearer ${TOKEN}` }, { op: 'alive' })).toBe(200);
    expect(await post({ authorization: `Bearer ${TOKEN}` }, { op: 'adopt', home: 'a' })).toBe(400);
    const big = { op: 'hold', home: 'a', id: 'x', groupId: 'g'.repeat(20_000), number: 'tel:1', requestedAt: 0, queuedAt: 0 };
    expect(await post({ authorization: `Bearer ${TOKEN}` }, big)).toBe(413);
  });
});
