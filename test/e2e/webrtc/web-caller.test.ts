/**
 * A web caller in headless Chromium: the "call us" page served by the appliance calls in with the
 * fake microphone playing speech-en/0.wav; the appliance transcribes the caller leg and
 * /api/v1/calls/:id holds the transcript within a few words of the reference. Then the softphone
 * page in Chromium answers a node-webrtc caller from its queue: audio flows both ways (RTP energy
 * measured on each side), the agent page shows the live transcript and both legs are stored.
 * A supervisor on the same page listens to caller and agent and whispers to the agent only.
 * Last, a sipp caller (PCMU) is bridged to the softphone: the agent's browser receives the phone's
 * RTP, the phone's side (captured with tcpdump) receives the agent's voice, both legs transcribed.
 */
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { WebRtcPeer } from '../../../tools/webrtc/client/peer.js';
import { loadWav48k } from '../../../tools/webrtc/probeClient.js';
import type { CallerSession } from '../../../appliance/webrtc/signalling.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch } from '../../helpers/auth.js';
import { SHARED_DIR } from '../../helpers/paths.js';
import { speechClip, wordErrors } from '../../helpers/speech.js';
import { workerBin } from '../../integration/webrtc/harness.js';
import { haveTool, prepareClip, runSipp, SCENARIOS, freePort } from '../sip/harness.js';
import { buildPages, captureWav, haveChromium, launchChromium } from './browser.js';
import { captureLoopback, mulawRtpEnergy, udpPayloads } from './pcap.js';

interface StoredCall {
  source: string;
  state: string;
  legs: { label: string; codec: string }[];
  utterances: { speaker: string; text: string }[];
}

async function waitEnded(app: Appliance, callId: string): Promise<StoredCall> {
  const get = authedFetch(app);
  for (let i = 0; i < 200; i++) {
    const res = await get(`/api/v1/calls/${callId}`);
    if (res.status === 200) {
      const call = (await res.json()) as StoredCall;
      if (call.state === 'ended') return call;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`call ${callId} did not end`);
}

const clipPath = path.join(SHARED_DIR, 'datasets', 'speech-en', '0.wav');

describe.skipIf(workerBin === undefined || !haveChromium())('WebRTC pages in headless Chromium', () => {
  let app: Appliance;
  let browser: Browser;
  let mic: ReturnType<typeof captureWav>;
  beforeAll(async () => {
    buildPages();
    mic = captureWav(clipPath, 1, 3);
    browser = await launchChromium(mic.file);
    // WebRTC ports above the test SIP RTP ranges (30000-59999), so the phone-side capture sees SIP RTP only.
    ({ app } = await startTestAppliance({ webrtc: { workers: 1, rtcPortMin: 61000, rtcPortMax: 61999 } }));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    mic?.cleanup();
  });

  it('a web caller on the "call us" page is transcribed into /api/v1/calls/:id', async () => {
    const { reference } = speechClip('0.wav');
    const page = await browser.newPage();
    try {
      await page.goto(`${app.httpUrl}/call`);
      await page.click('#call');
      await page.waitForSelector('body[data-state="waiting"]', { timeout: 15_000 });
      const callId = await page.getAttribute('body', 'data-call-id');
      expect(callId).toBeTruthy();
      // The fake microphone started at getUserMedia, just before the media connected: hang up
      // before the file loops (its last 3 s are silence, so the utterance has ended by then).
      await page.waitForTimeout((mic.durationS - 1) * 1000);
      await page.click('#hangup');
      await page.waitForSelector('body[data-state="ended"]', { timeout: 10_000 });

      const call = await waitEnded(app, callId!);
      expect(call.source).toBe('webrtc');
      expect(call.legs.map((l) => `${l.label}/${l.codec}`)).toEqual(['caller/opus']);
      const text = call.utterances.map((u) => u.text).join(' ');
      expect(wordErrors(reference, text), text).toBeLessThanOrEqual(4);
      expect(app.webrtc!.plane.activeCalls).toBe(0);
    } finally {
      await page.close();
    }
  }, 60_000);

  it('the softphone answers a caller from its queue: two-way audio, live transcript, both legs stored', async () => {
    const page = await browser.newPage();
    const samples = await loadWav48k(clipPath);
    const session = (await (await fetch(`${app.httpUrl}/api/v1/webrtc/caller-sessions`, { method: 'POST' })).json()) as CallerSession;
    const caller = await WebRtcPeer.join({ url: `${app.httpUrl.replace('http', 'ws')}${session.signallingPath}`, token: session.token });
    try {
      await caller.startSending('opus');
      const token = app.webrtc!.mintAgentToken('agent-e2e');
      await page.goto(`${app.httpUrl}/agent#token=${encodeURIComponent(token)}`);
      await page.click(`button.answer[data-call-id="${session.callId}"]`, { timeout: 10_000 });
      await page.waitForSelector('body[data-state="in-call"]', { timeout: 15_000 });
      // The agent (Chromium's fake microphone) is heard by the caller.
      const agentProducer = await caller.waitForProducer(10_000, (p) => p.role === 'agent');
      const fromAgent = await caller.receive(agentProducer.producerId);
      await caller.play(samples);
      await caller.play(new Int16Array(48_000 * 2)); // 2 s of silence: the endpoint closes the utterance
      // The agent page shows the caller's finals live (pushed over its signalling socket).
      const callerFinals =
        "[...document.querySelectorAll('#transcript p.final')].filter((p) => p.firstChild.textContent === 'caller').map((p) => p.lastChild.textContent).join(' ')";
      // Polled from here with page.evaluate: waitForFunction polls inside the page by eval, which the
      // page's CSP refuses, so it only passed when the words were already there at its first check.
      await expect
        .poll(async () => (await page.evaluate<string>(callerFinals)).split(' ').length, { timeout: 15_000 })
        .toBeGreaterThanOrEqual(12);
      const shown = await page.evaluate<string>(callerFinals);
      const agentSide = await page.evaluate<{ packetsReceived: number; totalAudioEnergy: number }>('window.evxAgent.stats()');
      // caller -> agent: RTP with energy arrived in the browser; agent -> caller: speech-level audio.
      expect(agentSide.packetsReceived).toBeGreaterThan(200);
      expect(agentSide.totalAudioEnergy).toBeGreaterThan(0.01);
      expect(fromAgent.stats.frames).toBeGreaterThan(200);
      expect(fromAgent.stats.rmsMax).toBeGreaterThan(500);
      expect(wordErrors(speechClip('0.wav').reference, shown), shown).toBeLessThanOrEqual(4);

      await page.click('#hangup');
      const call = await waitEnded(app, session.callId);
      expect(call.legs.map((l) => `${l.label}/${l.codec}`).sort()).toEqual(['agent/opus', 'caller/opus']);
      expect(call.utterances.some((u) => u.speaker === 'caller')).toBe(true);
      expect(call.utterances.some((u) => u.speaker === 'agent')).toBe(true);
      expect(app.webrtc!.plane.activeCalls).toBe(0);
      expect(app.calls.activeCount).toBe(0);
    } finally {
      caller.close();
      await page.close();
    }
  }, 90_000);

  it('a supervisor on the softphone page listens to both sides and whispers to the agent only', async () => {
    const page = await browser.newPage();
    const session = (await (await fetch(`${app.httpUrl}/api/v1/webrtc/caller-sessions`, { method: 'POST' })).json()) as CallerSession;
    const wsUrl = `${app.httpUrl.replace('http', 'ws')}${session.signallingPath}`;
    const caller = await WebRtcPeer.join({ url: wsUrl, token: session.token });
    const agent = await WebRtcPeer.join({ url: wsUrl, token: app.webrtc!.mintAgentToken('agent-9'), callId: session.callId });
    try {
      await caller.startSending('opus');
      await agent.startSending('opus');
      await page.goto(`${app.httpUrl}/agent#token=${encodeURIComponent(app.webrtc!.mintAgentToken('sup-1', 'supervisor'))}`);
      await page.fill('#join-id', session.callId);
      await page.click('#join');
      await page.waitForSelector('body[data-state="in-call"]', { timeout: 15_000 });
      await expect.poll(() => page.evaluate<number>("document.querySelectorAll('#players audio').length"), { timeout: 10_000 }).toBe(2);
      await page.click('#whisper');
      const whisper = await agent.waitForProducer(10_000, (p) => p.role === 'supervisor');
      const agentHearsWhisper = await agent.receive(whisper.producerId);
      const signal = await loadWav48k(clipPath);
      await Promise.all([caller.play(signal.subarray(0, 48_000 * 3)), agent.play(signal.subarray(0, 48_000 * 3))]);
      const heard = await page.evaluate<{ packetsReceived: number; totalAudioEnergy: number }>('window.evxAgent.stats()');
      // Both streams reach the supervisor; the whisper reaches the agent and is never offered to the caller.
      expect(heard.packetsReceived).toBeGreaterThan(2 * 100);
      expect(heard.totalAudioEnergy).toBeGreaterThan(0.01);
      expect(agentHearsWhisper.stats.rmsMax).toBeGreaterThan(500);
      expect(caller.producers().map((p) => p.role)).toEqual(['agent']);
      await page.click('#hangup');
      await new Promise((r) => setTimeout(r, 300));
      expect(app.webrtc!.registry.get(session.callId)?.ended).toBe(false);
      await caller.hangup();
      expect(app.webrtc!.registry.size).toBe(0);
    } finally {
      caller.close();
      agent.close();
      await page.close();
    }
  }, 60_000);

  it.skipIf(!haveTool('sipp') || !haveTool('tcpdump'))(
    'a sipp caller bridged to the softphone: audio both ways, both legs transcribed',
    async () => {
      // 5 s of silence first: the agent answers in that time, then hears the whole clip.
      const work = prepareClip(clipPath, 'speech.ulaw', ['pad', '5', '2']);
      const { rtpPortMin, rtpPortMax } = app.config.sip;
      const capture = await captureLoopback(path.join(work.dir, 'phone.pcap'), `udp and src portrange ${rtpPortMin}-${rtpPortMax}`);
      const page = await browser.newPage();
      try {
        await page.goto(`${app.httpUrl}/agent#token=${encodeURIComponent(app.webrtc!.mintAgentToken('agent-sip'))}`);
        const durationMs = Math.ceil(work.ulaw.length / 8) + 1000;
        const sipp = runSipp(
          [
            `127.0.0.1:${app.sip!.port}`,
            '-sf',
            path.join(SCENARIOS, 'uac-pcmu-speech.xml'),
            '-m',
            '1',
            '-d',
            String(durationMs),
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
        await page.click('button.answer', { timeout: 15_000 });
        await page.waitForSelector('body[data-state="in-call"]', { timeout: 15_000 });
        const callId = await page.getAttribute('body', 'data-call-id');
        // Sample the browser's inbound audio while the call lasts (the figures go with the call).
        let fromPhone = { packetsReceived: 0, totalAudioEnergy: 0 };
        let done = false;
        const result = sipp.finally(() => (done = true));
        while (!done) {
          const s = await page.evaluate<typeof fromPhone | undefined>('window.evxAgent.stats()');
          if (s !== undefined && s.packetsReceived >= fromPhone.packetsReceived) fromPhone = s;
          await new Promise((r) => setTimeout(r, 250));
        }
        const r = await result;
        expect(r.code, r.stdout + r.stderr).toBe(0);
        // phone -> agent: the browser received the SIP caller's speech through the router.
        expect(fromPhone.packetsReceived).toBeGreaterThan(200);
        expect(fromPhone.totalAudioEnergy).toBeGreaterThan(0.01);
        // agent -> phone: the RTP the appliance sent to sipp carries the agent's voice (PCMU, unchanged).
        const toPhone = mulawRtpEnergy(udpPayloads(await capture.stop()));
        console.info(
          `bridge figures: phone->agent ${fromPhone.packetsReceived} packets, energy ${fromPhone.totalAudioEnergy.toFixed(3)}; agent->phone ${toPhone.packets} packets, rms ${toPhone.rms.toFixed(0)}`,
        );
        expect(toPhone.packets).toBeGreaterThan(150);
        expect(toPhone.rms).toBeGreaterThan(300);

        const call = await waitEnded(app, callId!);
        expect(call.source).toBe('sip');
        expect(call.legs.map((l) => `${l.label}/${l.codec}`).sort()).toEqual(['agent/PCMU', 'caller/PCMU']);
        const caller = call.utterances
          .filter((u) => u.speaker === 'caller')
          .map((u) => u.text)
          .join(' ');
        expect(wordErrors(speechClip('0.wav').reference, caller), caller).toBeLessThanOrEqual(4);
        expect(
          call.utterances.some((u) => u.speaker === 'agent' && u.text.trim() !== ''),
          JSON.stringify(call.utterances),
        ).toBe(true);
        await page.waitForSelector('body[data-state="idle"]', { timeout: 10_000 });
        expect(app.webrtc!.sipBridge.activeRelays).toBe(0);
        expect(app.webrtc!.plane.activeCalls).toBe(0);
      } finally {
        await capture.stop().catch(() => undefined);
        await page.close();
        work.cleanup();
      }
    },
    90_000,
  );
});
