/**
 * The ACD rings an agent's browser softphone (headless Chromium): the box runs in `acd.mode: 'acd'`
 * with one skill group, `general`, served by alice, who has no desk phone but has the softphone page
 * open with her agent token (minted by a supervisor through POST /api/v1/webrtc/agent-tokens). The
 * page's presence socket makes her available. A sipp caller (PCMU) dials the box, which answers,
 * greets and routes the call by the caller's first utterance to general/alice; her softphone shows
 * the offer; Answer joins the call through the WebRTC SIP bridge, the box stops its hold music and
 * the caller and alice talk: the browser receives the phone's speech (RTP energy in the page) and the
 * phone receives alice's voice (RTP captured with tcpdump: energy, and one stream only — no music on
 * top of it). The caller hangs up: the page goes idle, alice goes to wrap-up, every SIP call, RTP
 * port, relay and router is released, and the stored call has a `caller` and an `agent` leg, both
 * transcribed. Closing the page logs alice out.
 *
 * Then alice's page again, a second caller: she answers, clicks Hold (the browser receives no packet
 * of the caller for 2.5 s, the phone gets the ACD's hold music, one 50 pps stream with energy),
 * Resume (the browser hears the caller again), and Transfer to the general queue: the page's call
 * ends (`Transferred.`), the caller's call goes on in the queue (its music on the phone), one
 * transfer in the KPIs, and alice's softphone no longer holds the call.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { startTestAppliance, type CapturedLog } from '../../helpers/appliance.js';
import { authedFetch } from '../../helpers/auth.js';
import { SHARED_DIR } from '../../helpers/paths.js';
import { workerBin } from '../../integration/webrtc/harness.js';
import { tally } from '../acd/harness.js';
import { haveTool, runSipp, sippUacArgs } from '../sip/harness.js';
import { buildPages, captureWav, haveChromium, launchChromium } from './browser.js';
import { captureLoopback, mulawRtpEnergy, udpPackets } from './pcap.js';

const clipPath = path.join(SHARED_DIR, 'datasets', 'speech-en', '0.wav');
/** WebRTC ports above the test SIP RTP ranges (30000-59999) and apart from web-caller.test.ts's. */
const RTC_PORTS = { rtcPortMin: 62000, rtcPortMax: 62999 };

interface StoredCall {
  source: string;
  state: string;
  legs: { label: string; codec: string }[];
  utterances: { speaker: string; text: string }[];
}

/** Bus events as they come, with waiters that never miss an early one. */
class Watch {
  readonly items: { at: number; e: ApplianceEvent }[] = [];
  private waiters: { pred: (e: ApplianceEvent) => boolean; resolve: (at: number) => void }[] = [];
  push(e: ApplianceEvent): void {
    const at = Date.now();
    this.items.push({ at, e });
    for (const w of this.waiters.filter((x) => x.pred(e))) {
      this.waiters = this.waiters.filter((x) => x !== w);
      w.resolve(at);
    }
  }
  wait(pred: (e: ApplianceEvent) => boolean, timeoutMs: number, what: string, explain: () => string): Promise<number> {
    const seen = this.items.find((i) => pred(i.e));
    if (seen) return Promise.resolve(seen.at);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms\n${explain()}`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      });
    });
  }
}

const agentState = (agentId: string, to: string) => (e: ApplianceEvent) => e.type === 'agent.state' && e.agentId === agentId && e.to === to;

async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return cond();
}

describe.skipIf(workerBin === undefined || !haveChromium() || !haveTool('sipp') || !haveTool('tcpdump') || !haveTool('sox'))(
  'ACD: a phone caller offered to the agent’s browser softphone',
  () => {
    let app: Appliance;
    let log: CapturedLog;
    let browser: Browser;
    let mic: ReturnType<typeof captureWav>;
    let work = '';
    const bus = new Watch();
    /** A sipp caller playing `speech.ulaw` of `dir` for `talkMs`; `started`: its call id at the box. */
    const dial = async (dir: string, talkMs: number, timeoutS: number) => {
      const started = new Promise<string>((resolve) => app.sip!.events.once('call.started', (e) => resolve(e.callId)));
      const args = await sippUacArgs(`127.0.0.1:${app.sip!.port}`, 'uac-pcmu-speech.xml', [
        '-d',
        String(talkMs),
        '-timeout',
        `${timeoutS}s`,
        '-timeout_error',
      ]);
      // the phone's own RTP port: what is sent to it (its own packets, from a port the kernel picked,
      // can fall inside the box's RTP range and would match a capture filter by source port)
      const mediaPort = Number(args[args.indexOf('-mp') + 1]);
      return { started, sipp: runSipp(args, dir, (timeoutS + 10) * 1000), mediaPort };
    };

    beforeAll(async () => {
      buildPages();
      mic = captureWav(clipPath, 1, 3);
      browser = await launchChromium(mic.file);
      ({ app, log } = await startTestAppliance({
        webrtc: { workers: 1, ...RTC_PORTS },
        acd: { mode: 'acd', ringTimeoutS: 20 },
        // the caller's first utterance routes the call (to the default group when its intent is in no group)
        routing: { maxUtterancesBeforeDefault: 1 },
      }));
      app.bus.subscribe((e) => {
        if (e.type !== 'asr.partial') bus.push(e);
      });
      work = mkdtempSync(path.join(tmpdir(), 'evx-acd-softphone-'));
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      await app?.close();
      mic?.cleanup();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('rings alice’s softphone; Answer bridges the phone caller: audio both ways, caller + agent legs, all released at hang-up', async () => {
      const explain = (): string =>
        [
          `bus: ${bus.items
            .map(({ e }) =>
              e.type === 'agent.state'
                ? `agent.state:${e.agentId}:${e.from}->${e.to}(${e.reason})`
                : e.type === 'route.decision'
                  ? `decision:${e.action}:${e.groupId}:${e.agentId}:${e.trigger}`
                  : e.type === 'asr.final'
                    ? `final(${e.speaker}):${e.text}`
                    : e.type,
            )
            .join(', ')}`,
          `log:\n${log.lines
            .filter((l) => (l['level'] as number) >= 30)
            .slice(-30)
            .map((l) => JSON.stringify(l))
            .join('\n')}`,
        ].join('\n');

      // 1. routing: one group, general, served by alice (no SIP account: her only phone is the browser)
      const put = await authedFetch(app)('/api/v1/routing/config', {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          groups: [{ id: 'general', name: 'General', intents: [], adjacent: [], overflow: { maxWaitMs: 300_000, action: 'none' } }],
          agents: [
            { id: 'alice', name: 'Alice', sipUri: 'sip:alice@127.0.0.1:5060', senior: false, skills: [{ group: 'general', level: 3 }] },
          ],
          rules: { defaultGroup: 'general' },
        }),
      });
      expect(put.status, await put.clone().text()).toBe(200);

      // 2. a supervisor mints alice's token; her softphone page connects and she becomes available
      const minted = await authedFetch(app, 'supervisor')('/api/v1/webrtc/agent-tokens', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ agentId: 'alice', role: 'agent', ttlMs: 3_600_000 }),
      });
      expect(minted.status).toBe(201);
      const { token } = (await minted.json()) as { token: string };
      const page = await browser.newPage();
      // the caller: the clip after 1 s, 7 s of silence (routing, ringing, answering), the clip again, 2 s
      const a = path.join(work, 'a.wav');
      const b = path.join(work, 'b.wav');
      execFileSync('sox', [clipPath, '-r', '8000', '-c', '1', '-b', '16', a, 'pad', '1', '7']);
      execFileSync('sox', [clipPath, '-r', '8000', '-c', '1', '-b', '16', b, 'pad', '0', '2']);
      execFileSync('sox', [a, b, '-t', 'ul', path.join(work, 'speech.ulaw')]);
      // raw μ-law at 8 kHz: one byte a sample
      const talkMs = Math.ceil(statSync(path.join(work, 'speech.ulaw')).size / 8) + 500;
      const { rtpPortMin, rtpPortMax } = app.config.sip;
      const capture = await captureLoopback(
        path.join(work, 'phone.pcap'),
        `udp and src portrange ${rtpPortMin}-${rtpPortMax} and not dst portrange ${RTC_PORTS.rtcPortMin}-${RTC_PORTS.rtcPortMax}`,
      );
      try {
        await page.goto(`${app.httpUrl}/agent#token=${encodeURIComponent(token)}`);
        await page.waitForSelector('body[data-presence="ready"]', { timeout: 10_000 });
        await bus.wait(
          agentState('alice', 'available'),
          5000,
          'alice available (softphone connected; is wireAcdSoftphones wired in app/app.ts?)',
          explain,
        );
        expect(app.webrtc!.softphones.connectedAgents().get('alice')).toBe(1);

        // 3. the phone call
        const { started, sipp, mediaPort } = await dial(work, talkMs, 60);
        let sippDone = false;
        const result = sipp.finally(() => (sippDone = true));
        const callId = await started;

        // 4. the caller's words route the call to alice: her softphone rings
        await bus.wait(
          (e) => e.type === 'route.decision' && e.callId === callId && e.action === 'agent' && e.agentId === 'alice',
          30_000,
          'route.decision to alice',
          explain,
        );
        await page.waitForSelector('body[data-offer="ringing"]', { timeout: 10_000 });
        expect(await page.getAttribute('body', 'data-offer-call-id')).toBe(callId);
        expect(await page.isVisible('#offer')).toBe(true);
        await bus.wait(agentState('alice', 'ringing'), 5000, 'alice ringing', explain);

        // 5. Answer: the page joins the call; the ACD stops the music and marks the call bridged
        await page.click('#offer-answer');
        const answeredAt = await bus.wait(agentState('alice', 'on-call'), 10_000, 'alice on-call', explain);
        await page.waitForSelector('body[data-state="in-call"]', { timeout: 15_000 });
        expect(await page.getAttribute('body', 'data-call-id')).toBe(callId);
        expect(await page.getAttribute('body', 'data-offer')).toBe('none');
        expect(app.webrtc!.softphones.ringing).toBe(0);

        // 6. talk until the caller hangs up; sample the browser's inbound audio meanwhile
        let fromPhone = { packetsReceived: 0, totalAudioEnergy: 0 };
        while (!sippDone) {
          const s = await page.evaluate<typeof fromPhone | undefined>('window.evxAgent.stats()');
          if (s !== undefined && s.packetsReceived >= fromPhone.packetsReceived) fromPhone = s;
          await new Promise((r) => setTimeout(r, 250));
        }
        const hangupAt = Date.now();
        const r = await result;
        expect(r.code, r.stdout + r.stderr).toBe(0);

        // phone -> agent: the browser received the caller's speech through the router
        expect(fromPhone.packetsReceived, explain()).toBeGreaterThan(200);
        expect(fromPhone.totalAudioEnergy).toBeGreaterThan(0.01);
        // agent -> phone: after the answer the phone gets alice's voice, one 50 pps stream (the music stopped)
        const packets = udpPackets(await capture.stop());
        const toPhone = (from: number, to: number) =>
          packets.filter(
            (p) => p.dstPort === mediaPort && p.atMs >= from && p.atMs < to && p.payload.length > 12 && (p.payload[1]! & 0x7f) === 0,
          );
        const before = mulawRtpEnergy(toPhone(0, answeredAt).map((p) => p.payload));
        const talkFrom = answeredAt + 2000;
        const talkTo = hangupAt - 1000;
        const talk = toPhone(talkFrom, talkTo);
        const after = mulawRtpEnergy(talk.map((p) => p.payload));
        const pps = talk.length / ((talkTo - talkFrom) / 1000);
        console.info(
          `acd softphone figures: before answer ${before.packets} packets rms ${before.rms.toFixed(0)}; ` +
            `phone->agent ${fromPhone.packetsReceived} packets, energy ${fromPhone.totalAudioEnergy.toFixed(3)}; ` +
            `agent->phone ${after.packets} packets (${pps.toFixed(1)} pps), rms ${after.rms.toFixed(0)}`,
        );
        expect(before.packets).toBeGreaterThan(100); // greeting and hold music
        expect(after.packets).toBeGreaterThan(150);
        expect(after.rms).toBeGreaterThan(300);
        expect(pps).toBeGreaterThan(35);
        expect(pps).toBeLessThan(65);

        // 7. the caller's BYE ended everything
        await page.waitForSelector('body[data-state="idle"]', { timeout: 10_000 });
        await bus.wait(
          (e) => e.type === 'agent.state' && e.agentId === 'alice' && e.from === 'on-call',
          10_000,
          'alice off the call',
          explain,
        );
        expect(
          await until(() => {
            const res = app.sip!.resources();
            return res.calls === 0 && res.rtpPortPairs === 0 && res.pendingInvites === 0 && app.calls.activeCount === 0;
          }, 10_000),
          JSON.stringify(app.sip!.resources()),
        ).toBe(true);
        expect(app.webrtc!.sipBridge.activeRelays).toBe(0);
        expect(await until(() => app.webrtc!.plane.activeCalls === 0 && app.webrtc!.registry.size === 0, 5000)).toBe(true);

        const stored = (await (await authedFetch(app)(`/api/v1/calls/${callId}`)).json()) as StoredCall;
        const dump = JSON.stringify({ legs: stored.legs, utterances: stored.utterances });
        expect(stored.source, dump).toBe('sip');
        expect(stored.state).toBe('ended');
        expect(stored.legs.map((l) => `${l.label}/${l.codec}`).sort(), dump).toEqual(['agent/PCMU', 'caller/PCMU']);
        const words = (speaker: string) =>
          stored.utterances
            .filter((u) => u.speaker === speaker)
            .map((u) => u.text)
            .join(' ')
            .split(/\s+/)
            .filter(Boolean);
        expect(words('caller').length, dump).toBeGreaterThanOrEqual(8);
        expect(words('agent').length, dump).toBeGreaterThanOrEqual(3);
        expect(
          stored.utterances.every((u) => u.speaker === 'caller' || u.speaker === 'agent'),
          dump,
        ).toBe(true);

        // 8. the page closing is the softphone disconnecting: alice is logged out
        await page.close();
        await bus.wait(agentState('alice', 'logged-out'), 10_000, 'alice logged out', explain);
        expect(app.webrtc!.softphones.connectedAgents().size).toBe(0);
      } finally {
        await capture.stop().catch(() => undefined);
        if (!page.isClosed()) await page.close();
      }
    }, 120_000);

    it('alice’s softphone holds the call (the caller hears music, the browser nothing), resumes it, then transfers it to the general queue', async () => {
      const explain = (): string =>
        log.lines
          .filter((l) => (l['level'] as number) >= 30)
          .slice(-30)
          .map((l) => JSON.stringify(l))
          .join('\n');
      // the routing config of the test above: general, served by alice
      const minted = await authedFetch(app, 'supervisor')('/api/v1/webrtc/agent-tokens', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ agentId: 'alice', role: 'agent', ttlMs: 3_600_000 }),
      });
      const { token } = (await minted.json()) as { token: string };
      const page = await browser.newPage();
      // the caller: the clip after 1 s, then silence long enough to answer, hold, resume and transfer
      // the scenario plays `speech.ulaw` from its folder: a folder of this test's own
      const dir = mkdtempSync(path.join(work, 'hold-'));
      const speech = path.join(dir, 'speech.ulaw');
      execFileSync('sox', [clipPath, '-r', '8000', '-c', '1', '-b', '16', '-t', 'ul', speech, 'pad', '1', '25']);
      const talkMs = Math.ceil(statSync(speech).size / 8) + 500;
      const { rtpPortMin, rtpPortMax } = app.config.sip;
      const capture = await captureLoopback(
        path.join(work, 'hold.pcap'),
        `udp and src portrange ${rtpPortMin}-${rtpPortMax} and not dst portrange ${RTC_PORTS.rtcPortMin}-${RTC_PORTS.rtcPortMax}`,
      );
      const inbound = async () =>
        (await page.evaluate<{ packetsReceived: number } | undefined>('window.evxAgent.stats()'))?.packetsReceived ?? 0;
      try {
        await page.goto(`${app.httpUrl}/agent#token=${encodeURIComponent(token)}`);
        await page.waitForSelector('body[data-presence="ready"]', { timeout: 10_000 });
        const { started, sipp, mediaPort } = await dial(dir, talkMs, 90);
        const callId = await started;
        await page.waitForSelector('body[data-offer="ringing"]', { timeout: 40_000 });
        await page.click('#offer-answer');
        await page.waitForSelector('body[data-state="in-call"]', { timeout: 15_000 });
        await new Promise((r) => setTimeout(r, 1000));

        // Hold: the phone gets the ACD's music, the browser stops receiving the caller
        await page.click('#hold');
        await page.waitForSelector('body[data-held="true"]', { timeout: 5000 });
        const heldAt = Date.now();
        await new Promise((r) => setTimeout(r, 500));
        const inHoldFrom = await inbound();
        await new Promise((r) => setTimeout(r, 2500));
        const inHoldTo = await inbound();
        // Resume: the browser hears the caller again
        await page.click('#hold');
        await page.waitForSelector('body[data-held="false"]', { timeout: 5000 });
        await new Promise((r) => setTimeout(r, 2000));
        const afterResume = await inbound();

        // Transfer to the general queue: the page's call ends (transferred), the caller stays, in the queue
        await page.selectOption('#transfer-kind', 'group');
        await page.fill('#transfer-id', 'general');
        await page.click('#transfer');
        await page.waitForSelector('body[data-transfer="done"]', { timeout: 10_000 });
        await page.waitForSelector('body[data-state="idle"]', { timeout: 10_000 });
        const transferredAt = Date.now();
        expect(await page.textContent('#control-status')).toBe('Transferred.');
        expect(app.sip!.resources().calls, explain()).toBeGreaterThanOrEqual(1); // the caller's call goes on
        await new Promise((r) => setTimeout(r, 2000));

        const r = await sipp;
        expect(r.code, r.stdout + r.stderr).toBe(0);
        const packets = udpPackets(await capture.stop());
        const toPhone = (from: number, to: number) =>
          mulawRtpEnergy(
            packets
              .filter(
                (p) => p.dstPort === mediaPort && p.atMs >= from && p.atMs < to && p.payload.length > 12 && (p.payload[1]! & 0x7f) === 0,
              )
              .map((p) => p.payload),
          );
        const music = toPhone(heldAt + 500, heldAt + 3000);
        const queued = toPhone(transferredAt + 200, transferredAt + 2000);
        console.info(
          `softphone hold figures: browser packets in 2.5 s of hold ${inHoldTo - inHoldFrom}, 2 s after resume ${afterResume - inHoldTo}; ` +
            `to the phone on hold ${music.packets} packets rms ${music.rms.toFixed(0)}; after the transfer ${queued.packets} rms ${queued.rms.toFixed(0)}`,
        );
        expect(inHoldTo - inHoldFrom, explain()).toBeLessThan(10);
        expect(afterResume - inHoldTo).toBeGreaterThan(50);
        expect(music.packets).toBeGreaterThan(75);
        expect(music.packets).toBeLessThan(150); // one 50 pps stream: the music, not the agent on top of it
        expect(music.rms).toBeGreaterThan(100);
        expect(queued.packets).toBeGreaterThan(40); // hold music of the queue again
        // over every interval the call spanned: a 15-minute boundary may fall between the transfer and this read
        expect(await tally(app)).toMatchObject({ transferred: 1 });
        expect(app.webrtc!.softphones.answeredBy(callId, 'alice')).toBeUndefined();
      } finally {
        await capture.stop().catch(() => undefined);
        if (!page.isClosed()) await page.close();
      }
    }, 150_000);
  },
);
