/**
 * The console's cluster view (GET /api/v1/cluster): the boxes behind a real Kamailio front
 * (provisioning/kamailio) and their state there. A box that starts refusing calls (draining: its
 * OPTIONS answer turns 503) goes down at the front within a probe and shows so; a box that does not
 * answer is down; an appliance with no front configured says so.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import type { AdmissionDecision } from '../../../appliance/telephony/types.js';
import { haveKamailio, startKamailioFront, waitForBoxes, type KamailioFront } from '../../../tools/cluster/kamailioFront.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch } from '../../helpers/auth.js';
import { freePort } from '../../e2e/sip/harness.js';

describe.runIf(haveKamailio())('cluster view', () => {
  const open: Array<{ close(): unknown }> = [];
  let front: KamailioFront | undefined;
  afterAll(async () => {
    for (const o of open.reverse()) await o.close();
    await front?.stop();
  });

  it('lists the front boxes per partition with their state, and follows a box that starts draining', async () => {
    let availability: AdmissionDecision = { ok: true };
    const base = 46000 + 2 * Math.floor(Math.random() * 4000);
    const boxA = new SipServer({
      port: await freePort(),
      transports: ['udp'],
      rtpPortMin: base,
      rtpPortMax: base + 9,
      availability: () => availability,
    });
    await boxA.listen();
    open.push(boxA);
    const silentPort = await freePort(); // nothing listens there: a dead box
    front = await startKamailioFront({
      port: await freePort(),
      probeIntervalS: 1,
      boxes: [
        { name: 'box-a', sipPort: boxA.port, sets: { 1: 10, 2: 5 } },
        { name: 'box-b', sipPort: silentPort, sets: { 2: 10, 1: 5 } },
      ],
    });
    await waitForBoxes(front, ['box-a'], 'A');
    await waitForBoxes(front, ['box-b'], 'I');

    const { app } = await startTestAppliance({ cluster: { frontRpcUrl: `http://127.0.0.1:${front.port}/RPC` } });
    open.push(app);
    const viewer = authedFetch(app, 'viewer');
    const read = async () => (await (await viewer(`${app.httpUrl}/api/v1/cluster`)).json()) as { front: string; boxes: unknown[] };
    const view = await read();
    expect(view.front).toBe('ok');
    expect(view.boxes).toEqual([
      { set: 1, name: 'box-a', uri: `sip:127.0.0.1:${boxA.port}`, state: 'up', probing: true, priority: 10 },
      { set: 1, name: 'box-b', uri: `sip:127.0.0.1:${silentPort}`, state: 'down', probing: true, priority: 5 },
      { set: 2, name: 'box-b', uri: `sip:127.0.0.1:${silentPort}`, state: 'down', probing: true, priority: 10 },
      { set: 2, name: 'box-a', uri: `sip:127.0.0.1:${boxA.port}`, state: 'up', probing: true, priority: 5 },
    ]);

    availability = { ok: false, reason: 'draining', retryAfterS: 30 };
    await waitForBoxes(front, ['box-a'], 'I');
    expect((await read()).boxes.filter((b) => (b as { name: string }).name === 'box-a').map((b) => (b as { state: string }).state)).toEqual(
      ['down', 'down'],
    );
  }, 60_000);

  it('says when no front is configured, and when the front does not answer', async () => {
    const { app } = await startTestAppliance();
    open.push(app);
    const res = await authedFetch(app, 'viewer')(`${app.httpUrl}/api/v1/cluster`);
    expect(await res.json()).toMatchObject({ front: 'none', boxes: [] });
    const { app: lost } = await startTestAppliance({ cluster: { frontRpcUrl: `http://127.0.0.1:${await freePort()}/RPC` } });
    open.push(lost);
    expect(await (await authedFetch(lost, 'viewer')(`${lost.httpUrl}/api/v1/cluster`)).json()).toMatchObject({
      front: 'unreachable',
      boxes: [],
    });
  }, 60_000);
});
