/**
 * Alert push from a running appliance to real local peers: an HTTP receiver that verifies each
 * signature and answers 500 twice before 200 (the alert is delivered once, then the next one, in
 * order), holds a request while more alerts arrive (the queue bound drops the oldest waiting, counted
 * in /metrics), and an SMTP server (smtp-server, over STARTTLS) that receives the plain-text e-mail
 * of critical alerts. An alert whose context holds a phone number and transcript text leaves neither.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import type { AlertPushPayload } from '../../../appliance/alerts/push/payload.js';
import { verifyWebhookSignature } from '../../../appliance/webhooks/signedPost.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authHeader, quietApplianceOverrides } from '../../helpers/auth.js';
import { plantedIn } from '../../helpers/planted.js';
import { angryCaller as angryCallerOn } from '../../helpers/alerts.js';

const SECRET = 'alert-push-integration-secret';
const PHONE = '+15550177';
const WORDS = 'my pin is nine nine one two';

interface Hit {
  status: number;
  delivery: string;
  signed: boolean;
  body: AlertPushPayload;
}
const hits: Hit[] = [];
/** Answers per delivery id still to give before 200. */
const failFirst = new Map<string, number>();
let failNextNew = 0;
/** The next new delivery is refused with 400 (every attempt of it). */
let refuseNextNew = false;
const refused = new Set<string>();
let hold: { release: () => void } | null = null;
let holdNext = false;
const mails: { raw: string; secure: boolean }[] = [];
let http: Server;
let smtp: SMTPServer;
let app: Appliance;

const until = async (ok: () => boolean): Promise<void> => {
  for (let i = 0; i < 3000 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!ok()) throw new Error('condition never met');
};
const delivered = () => hits.filter((h) => h.status === 200);

const angryCaller = (): string => angryCallerOn(app, PHONE);

/** An info alert published as the alert service does (stored id given), for the webhook only (e-mail starts at warning). */
function publishInfo(alertId: number): void {
  app.bus.publish({
    type: 'alert',
    at: Date.now(),
    callId: null,
    kind: 'queue_wait',
    severity: 'info',
    message: 'm',
    details: { alertId },
  });
}

beforeAll(async () => {
  http = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const delivery = String(req.headers['x-edgevox-delivery']);
      const signed = verifyWebhookSignature(
        SECRET,
        { timestamp: req.headers['x-edgevox-timestamp'] as string, signature: req.headers['x-edgevox-signature'] as string },
        raw,
      );
      if (!failFirst.has(delivery) && failNextNew > 0) {
        failFirst.set(delivery, failNextNew);
        failNextNew = 0;
      }
      const left = failFirst.get(delivery) ?? 0;
      if (refuseNextNew && !hits.some((h) => h.delivery === delivery)) {
        refuseNextNew = false;
        refused.add(delivery);
      }
      const status = !signed ? 401 : refused.has(delivery) ? 400 : left > 0 ? 500 : 200;
      if (left > 0) failFirst.set(delivery, left - 1);
      let answered = false;
      const answer = () => {
        if (answered) return;
        answered = true;
        hits.push({ status, delivery, signed, body: JSON.parse(raw) as AlertPushPayload });
        res.writeHead(status).end();
      };
      if (holdNext) {
        holdNext = false;
        hold = { release: answer };
      } else answer();
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  smtp = new SMTPServer({
    authOptional: true,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({ raw: Buffer.concat(chunks).toString('utf8'), secure: session.secure });
        callback();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  ({ app } = await startTestAppliance(
    quietApplianceOverrides({
      sip: { enabled: false },
      site: { id: 'branch-9', name: 'Branch Nine' },
      routing: {
        alerts: {
          webhook: {
            url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/hooks/alerts`,
            secret: SECRET,
            minSeverity: 'info',
            maxAttempts: 5,
            maxPending: 2,
          },
          email: {
            host: '127.0.0.1',
            port: smtpPort,
            requireTls: true,
            rejectUnauthorized: false,
            from: 'edgevox@branch9.example',
            to: ['supervisors@branch9.example'],
            minSeverity: 'warning',
          },
        },
      },
    }),
    { transcribers: null },
  ));
});
afterAll(async () => {
  await app?.close();
  hold?.release();
  await new Promise((r) => http?.close(r));
  await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
});

describe('alert push', () => {
  it('retries 500s with backoff, delivers each alert once and in order, signed; then its acknowledgement', async () => {
    failNextNew = 2;
    const first = angryCaller();
    const second = angryCaller();
    await until(() => delivered().length >= 2);
    const [a, b] = delivered();
    expect(a!.body).toMatchObject({
      event: 'alert.raised',
      site: { id: 'branch-9', name: 'Branch Nine' },
      alert: { kind: 'caller_angry', severity: 'critical', state: 'open', callId: first },
    });
    expect(b!.body).toMatchObject({ event: 'alert.raised', alert: { callId: second } });
    // three attempts of the first (500, 500, 200) under one delivery id, all before the second went out
    expect(hits.map((h) => [h.delivery === a!.delivery ? 'first' : 'other', h.status])).toEqual([
      ['first', 500],
      ['first', 500],
      ['first', 200],
      ['other', 200],
    ]);
    expect(hits.every((h) => h.signed)).toBe(true);
    expect(b!.body.counts).toMatchObject({ open: { critical: 2 } });

    const res = await app.http.inject({
      method: 'POST',
      url: `/api/v1/alerts/${a!.body.alert.id}/ack`,
      headers: authHeader(app, 'supervisor'),
      payload: { note: `called back on ${PHONE}` },
    });
    expect(res.statusCode).toBe(200);
    await until(() => delivered().length >= 3);
    expect(delivered()[2]!.body).toMatchObject({ event: 'alert.acknowledged', alert: { id: a!.body.alert.id, state: 'acknowledged' } });
    expect(plantedIn(JSON.stringify(hits), [PHONE])).toEqual([]);

    // both critical alerts were e-mailed as plain text over STARTTLS; the acknowledgement was not
    await until(() => mails.length >= 2);
    expect(mails.every((m) => m.secure)).toBe(true);
    expect(mails[0]!.raw).toMatch(/^Subject: \[EdgeVox Branch Nine\] critical alert caller_angry \(new\)/m);
    expect(mails[0]!.raw).toMatch(/^Content-Type: text\/plain/m);
    expect(mails[0]!.raw).toContain(`Call: ${first}`);
    expect(mails[0]!.raw).toMatch(/^To: supervisors@branch9\.example/m);
  });

  it('keeps the queue bounded: with one request held, the oldest waiting alerts are dropped and counted', async () => {
    const before = delivered().length;
    holdNext = true;
    publishInfo(101);
    await until(() => hold !== null);
    for (const id of [102, 103, 104, 105]) publishInfo(id);
    hold!.release();
    await until(() => delivered().length >= before + 2);
    const metrics = await app.http.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^edgevox_alert_push_total\{channel="webhook",outcome="dropped"\} 3$/m);
    expect(metrics.body).toMatch(/^edgevox_alert_push_total\{channel="webhook",outcome="delivered"\} 5$/m);
    // the one in flight and the newest arrived; 2, 3 and 4 were dropped
    expect(
      delivered()
        .slice(before)
        .map((h) => h.body.alert.id),
    ).toEqual([101, 105]);
  });

  it('never retries a 4xx answer: the next alert follows it at once', async () => {
    const before = hits.length;
    refuseNextNew = true;
    publishInfo(201);
    publishInfo(202);
    await until(() => delivered().some((h) => h.body.alert.id === 202));
    expect(hits.slice(before).map((h) => [h.body.alert.id, h.status])).toEqual([
      [201, 400],
      [202, 200],
    ]);
    const metrics = await app.http.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^edgevox_alert_push_total\{channel="webhook",outcome="rejected"\} 1$/m);
  });

  it('pushes nothing personal from an alert whose context holds a phone number and transcript text', async () => {
    const hitsBefore = hits.length;
    const mailsBefore = mails.length;
    app.bus.publish({
      type: 'alert',
      at: Date.now(),
      callId: `${PHONE}@pbx.example`,
      kind: 'caller_angry',
      severity: 'critical',
      message: `caller said "${WORDS}"`,
      details: { alertId: 999, callerNumber: PHONE, transcript: WORDS, agentName: 'Grace Hopper' },
    });
    await until(() => hits.length > hitsBefore && mails.length > mailsBefore);
    const out =
      JSON.stringify(hits.slice(hitsBefore)) +
      mails
        .slice(mailsBefore)
        .map((m) => m.raw)
        .join('\n');
    expect(plantedIn(out, [PHONE, '15550177', WORDS, 'nine nine', 'Grace', 'Hopper'])).toEqual([]);
    expect(hits[hits.length - 1]!.body.alert).toMatchObject({ id: 999, callId: null, severity: 'critical' });
  });
});
