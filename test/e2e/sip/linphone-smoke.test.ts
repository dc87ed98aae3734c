/**
 * linphonec 5.1 (liblinphone: belle-sip + oRTP + mediastreamer2, a SIP stack independent of
 * baresip) as a real phone against the SipServer: UDP + PCMU plain, and TLS (our self-signed
 * certificate, not verified) + SDES-SRTP required + PCMA. The call is established, its speech
 * reaches the leg sink, the leg is encrypted exactly when SRTP was asked for, and linphone's BYE
 * ends the call (remote_bye).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import type { CallEndedEvent, CallStartedEvent, LegInfo } from '../../../appliance/telephony/types.js';
import {
  haveLinphone,
  makeLinphoneWav,
  startLinphone,
  type LinphoneCodec,
  type LinphoneControl,
  type LinphoneMediaEnc,
  type LinphoneTransport,
} from '../../helpers/linphone.js';
import { haveTool, rms, SHARED } from './harness.js';

const CLIP = path.join(SHARED, 'datasets/speech-en/0.wav');

describe.skipIf(!haveLinphone() || !haveTool('sox') || !haveTool('openssl'))('linphonec 5.1 calling the SipServer', () => {
  let workDir = '';
  let wav = '';
  let material: { cert: string; key: string };
  const open: Array<{ close(): Promise<unknown> }> = [];
  beforeAll(() => {
    workDir = mkdtempSync(path.join(tmpdir(), 'evx-linphone-clip-'));
    // linphone loops the file (0.5 s gaps): no padding needed, the call never ends by itself
    wav = makeLinphoneWav(CLIP, path.join(workDir, 'speech-8k.wav'));
    const req = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2'];
    execFileSync('openssl', [...req, '-keyout', 'key.pem', '-out', 'cert.pem', '-subj', '/CN=edgevox-linphone-smoke'], {
      cwd: workDir,
      stdio: 'ignore',
    });
    material = { cert: readFileSync(path.join(workDir, 'cert.pem'), 'utf8'), key: readFileSync(path.join(workDir, 'key.pem'), 'utf8') };
  });
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
  });
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it.each<[LinphoneTransport, LinphoneCodec, LinphoneMediaEnc]>([
    ['udp', 'PCMU', 'none'],
    ['tls', 'PCMA', 'srtp-mand'],
  ])(
    'over %s with %s, media %s: established, speech reaches the sink, linphone hangs up (remote_bye)',
    async (transport, codec, mediaEnc) => {
      const rtpBase = 40000 + 2 * Math.floor(Math.random() * 5000);
      const frames: Int16Array[] = [];
      const legs: LegInfo[] = [];
      const sinkClosed: string[] = [];
      const server = new SipServer({
        port: 0,
        tlsPort: 0,
        transports: ['udp', 'tcp', 'tls'],
        tls: { certificate: () => material },
        rtpPortMin: rtpBase,
        rtpPortMax: rtpBase + 19,
        sinkFactory: (leg) => {
          legs.push(leg);
          return { onFrame: (pcm) => frames.push(Int16Array.from(pcm)), close: (reason) => sinkClosed.push(reason) };
        },
      });
      const started: CallStartedEvent[] = [];
      const ended: CallEndedEvent[] = [];
      server.events.on('call.started', (e) => started.push(e));
      server.events.on('call.ended', (e) => ended.push(e));
      await server.listen();
      open.push(server);

      const phone: LinphoneControl = await startLinphone({ wav, transport, codecs: [codec], mediaEnc });
      open.push(phone);
      const why = (): string => phone.describe();

      const port = transport === 'tls' ? server.tlsPort : server.port;
      const id = await phone.dial(`sip:edgevox@127.0.0.1:${port}`);
      const est = await phone.waitEstablished(id);
      // dial() adds the phone's ;transport= (linphonec prints a URI with parameters in <>)
      expect(est.peer).toBe(
        transport === 'udp' ? `sip:edgevox@127.0.0.1:${port}` : `<sip:edgevox@127.0.0.1:${port};transport=${transport}>`,
      );

      // ~1 s of speech (the clip starts at once: no leading silence to wait out)
      const deadline = Date.now() + 10_000;
      const loud = (): number => frames.filter((f) => rms(f) > 300).length;
      while (loud() < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(started, why()).toHaveLength(1);
      expect(started[0]!.transport).toBe(transport);
      expect(legs[0]).toMatchObject({ label: 'caller', codec, sampleRateHz: 8000, frameMs: 20 });
      expect(frames[0]?.length).toBe(160);
      expect(loud(), why()).toBeGreaterThanOrEqual(50);
      expect(server.leg(legs[0]!.callId, legs[0]!.legId).rtp.encrypted).toBe(mediaEnc !== 'none');

      const bye = await phone.hangup(id);
      expect(bye.reason).toBe('No error');
      const t0 = Date.now();
      while (ended.length === 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
      expect(ended, why()).toHaveLength(1);
      expect(ended[0]!.reason).toBe('remote_bye');
      expect(sinkClosed).toEqual(['remote_bye']);
      expect(ended[0]!.legs[0]!.packetsReceived).toBeGreaterThan(50);
    },
  );
});
