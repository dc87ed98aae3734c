/**
 * An INVITE flood from one address is rate limited (and counted) while an existing call from another
 * address keeps being answered and transcribed.
 */
import dgram from 'node:dgram';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { SHARED_DIR } from '../../helpers/paths.js';
import { speechClip, wordErrors } from '../../helpers/speech.js';
import { freePort, haveTool, prepareClip, runSipp, SCENARIOS, type Workdir } from '../../e2e/sip/harness.js';

function invite(n: number, port: number): Buffer {
  const callId = `flood-${n}@127.0.0.2`;
  return Buffer.from(
    [
      `INVITE sip:edgevox@127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.2:5099;branch=z9hG4bK-flood-${n}`,
      `From: <sip:flood@127.0.0.2>;tag=f${n}`,
      `To: <sip:edgevox@127.0.0.1>`,
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      'Contact: <sip:flood@127.0.0.2:5099>',
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
}

describe.runIf(haveTool('sipp') && haveTool('sox'))('INVITE flood from one address', () => {
  let app: Appliance;
  let work: Workdir;
  beforeAll(async () => {
    work = prepareClip(path.join(SHARED_DIR, 'datasets', 'speech-en', '0.wav'));
    ({ app } = await startTestAppliance({ sip: { rateLimitPerSec: 20, rateLimitBurst: 40 } }));
  });
  afterAll(async () => {
    await app?.close();
    work?.cleanup();
  });

  it('rate limits the flood and leaves the legitimate call unaffected', async () => {
    const { reference } = speechClip('0.wav');
    const sipPort = app.sip!.port;
    const finals: string[] = [];
    app.bus.subscribe((e: ApplianceEvent) => {
      if (e.type === 'asr.final') finals.push(e.text);
    });
    // The flood: 3000 INVITEs from 127.0.0.2 as fast as the socket takes them, during the call.
    const flooder = dgram.createSocket('udp4');
    await new Promise<void>((r) => flooder.bind(0, '127.0.0.2', () => r()));
    let sent = 0;
    const flood = (async () => {
      await new Promise((r) => setTimeout(r, 500));
      for (; sent < 3000; sent++) {
        flooder.send(invite(sent, sipPort), sipPort, '127.0.0.1');
        if (sent % 100 === 99) await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const call = runSipp(
      [
        `127.0.0.1:${sipPort}`,
        '-sf',
        path.join(SCENARIOS, 'uac-pcmu-speech.xml'),
        '-m',
        '1',
        '-d',
        String(Math.ceil(work.ulaw.length / 8) + 1500),
        '-i',
        '127.0.0.1',
        '-p',
        String(await freePort()),
        '-mi',
        '127.0.0.1',
        '-mp',
        String(await freePort(true)),
        '-timeout',
        '40s',
        '-timeout_error',
      ],
      work.dir,
      45_000,
    );
    const [result] = await Promise.all([call, flood]);
    flooder.close();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    for (let i = 0; i < 60 && app.calls.activeCount > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(wordErrors(reference, finals.join(' '))).toBeLessThanOrEqual(4);
    expect(app.sip!.counters.rejectedRateLimit).toBeGreaterThan(2000);
    const metrics = await (await fetch(`${app.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^edgevox_sip_rejected_total\{reason="rate_limit"\} [1-9]\d{3}/m);
    // No flood call became a call.
    expect(app.store.calls.list({ limit: 10 }).filter((c) => c.source === 'sip')).toHaveLength(1);
    expect(app.calls.activeCount).toBe(0);
  });
});
