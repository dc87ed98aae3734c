/**
 * The routing webhook inside a running appliance (PBX mode, the default): a call's intent reaches
 * the call router, the routing service decides, and the decision arrives at a real HTTP receiver as
 * signed JSON without the caller's number; a SIPREC session's intent is never sent; the appliance
 * closes promptly while the receiver hangs on a request.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { banking77Sample } from '../../../appliance/routing/samples.js';
import { verifyWebhookSignature } from '../../../appliance/routing/webhook.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authHeader } from '../../helpers/auth.js';
import { plantedIn } from '../../helpers/planted.js';

const SECRET = 'integration-webhook-secret-42';
const CALLER = '+15550142';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}
const received: Received[] = [];
/** Calls whose decision the receiver never answers (to show close() does not wait for it). */
const hangFor = new Set<string>();
let server: Server;
let app: Appliance;

const until = async (ok: () => boolean, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** The caller's words as the intent analyser would publish them (the model is not needed here). */
function saysIntent(callId: string, legId: string, intent: string): void {
  app.bus.publish({
    type: 'intent',
    at: Date.now(),
    callId,
    legId,
    speaker: 'caller',
    utteranceId: null,
    intent,
    confidence: 0.93,
    outOfScope: false,
    top: [{ intent, confidence: 0.93 }],
    latencyMs: 4,
  });
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ headers: req.headers, body });
      if (hangFor.has((JSON.parse(body) as { callId: string }).callId)) return;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  ({ app } = await startTestAppliance(
    {
      sip: { enabled: false, transferTargets: ['pbx.test'] },
      console: { enabled: false },
      webrtc: { enabled: false },
      routing: { webhook: { url: `http://127.0.0.1:${port}/cti/edgevox`, secret: SECRET } },
    },
    { transcribers: null },
  ));
  const put = await app.http.inject({
    method: 'PUT',
    url: '/api/v1/routing/config',
    headers: authHeader(app),
    payload: banking77Sample((id) => `sip:${id}@pbx.test`),
  });
  expect(put.statusCode).toBe(200);
});

afterAll(async () => {
  await app?.close();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

describe('routing webhook in the appliance', () => {
  it('POSTs a routed call’s decision, signed, with nothing about the caller; never a SIPREC session', async () => {
    expect(app.config.acd.mode).toBe('pbx');
    // a SIPREC recording of a call the PBX handles: analysed, never routed, never sent
    const recorded = app.calls.startCall({ source: 'siprec', callerNumber: '+15550143' });
    const recordedLeg = recorded.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
    saysIntent(recorded.id, recordedLeg.id, 'lost_or_stolen_card');

    const call = app.calls.startCall({ source: 'sip', callerNumber: CALLER });
    call.answer();
    const leg = call.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
    saysIntent(call.id, leg.id, 'lost_or_stolen_card');

    await until(() => received.some((r) => r.body.includes(call.id)));
    const r = received.find((x) => x.body.includes(call.id))!;
    expect(r.headers['user-agent']).toMatch(/^EdgeVox\//);
    expect(
      verifyWebhookSignature(
        SECRET,
        { timestamp: r.headers['x-edgevox-timestamp'] as string, signature: r.headers['x-edgevox-signature'] as string },
        r.body,
      ),
    ).toBe(true);
    const payload = JSON.parse(r.body) as Record<string, unknown>;
    expect(payload).toMatchObject({
      event: 'route.decision',
      version: 1,
      siteId: app.config.site.id,
      callId: call.id,
      trigger: 'utterance',
      action: 'agent',
      requestedGroupId: 'security',
      groupId: 'security',
      reasonCodes: ['intent.group', 'priority.normal', 'agent.longest-idle'],
    });
    expect(typeof payload['decisionId']).toBe('number');
    expect(typeof payload['agentId']).toBe('string');
    expect(plantedIn(r.body, [CALLER, '15550142'])).toEqual([]);
    expect(received.some((x) => x.body.includes(recorded.id))).toBe(false);
    expect(received.filter((x) => x.body.includes(call.id))).toHaveLength(1);
    await call.end('bye');
    await recorded.end('bye');
  });

  it('closes the appliance promptly while the receiver hangs on a decision', async () => {
    const call = app.calls.startCall({ source: 'sip', callerNumber: CALLER });
    hangFor.add(call.id);
    call.answer();
    const leg = call.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
    saysIntent(call.id, leg.id, 'card_arrival');
    await until(() => received.some((r) => r.body.includes(call.id)));
    const t0 = Date.now();
    await app.close();
    // the webhook's grace is min(timeoutMs 2000, 1000) ms; the rest of the cascade is quick here
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
