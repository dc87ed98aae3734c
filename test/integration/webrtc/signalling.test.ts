import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AudioReceiver, WebRtcPeer } from '../../../tools/webrtc/client/peer.js';
import { SignallingClient } from '../../../tools/webrtc/client/signallingClient.js';
import type { PcmSink } from '../../../appliance/audio/pcmSink.js';
import { mintCallerToken } from '../../../appliance/webrtc/tokens.js';
import { SECRET, SKIP_REASON, startHarness, testSignal48k, workerBin, type Harness } from './harness.js';

class CollectingSink implements PcmSink {
  samples = 0;
  energy = 0;
  rates = new Set<number>();
  closed = 0;
  write(samples: Int16Array, sampleRateHz: number): void {
    this.samples += samples.length;
    this.rates.add(sampleRateHz);
    for (let i = 0; i < samples.length; i++) this.energy += samples[i]! * samples[i]!;
  }
  close(): void {
    this.closed++;
  }
  get rms(): number {
    return this.samples === 0 ? 0 : Math.sqrt(this.energy / this.samples);
  }
}

describe.skipIf(workerBin === undefined)(
  `WebRTC signalling + media (${workerBin === undefined ? SKIP_REASON : 'real mediasoup worker'})`,
  () => {
    let h: Harness;
    beforeEach(async () => {
      h = await startHarness();
    });
    afterEach(async () => {
      await h.close();
      // the worker process is gone after close
      expect(h.plane.workerPids()).toEqual([]);
    });

    it('web caller -> agent: audio arrives at the agent and at the ASR tap with energy; hangup leaves nothing open', async () => {
      const taps: CollectingSink[] = [];
      h.calls.events.on('producerAdded', ({ call, role, producer }) => {
        if (role !== 'caller') return;
        const sink = new CollectingSink();
        taps.push(sink);
        void call.media.tapProducer(producer.id, sink);
      });
      const session = (await (await fetch(`${h.httpUrl}/api/v1/webrtc/caller-sessions`, { method: 'POST' })).json()) as {
        callId: string;
        token: string;
      };
      const caller = await WebRtcPeer.join({ url: h.wsUrl, token: session.token });
      const agent = await WebRtcPeer.join({ url: h.wsUrl, token: 'agent-token-1', callId: session.callId });
      expect(agent.joined.role).toBe('agent');
      try {
        const producerId = await caller.startSending('opus');
        const announced = await agent.waitForProducer(5000);
        expect(announced.producerId).toBe(producerId);
        expect(announced.role).toBe('caller');
        const receiver: AudioReceiver = await agent.receive(producerId);
        const sent = await caller.play(testSignal48k(2000));
        await new Promise((r) => setTimeout(r, 300));
        expect(sent.framesSent).toBe(200);
        // The agent heard the caller (node-webrtc decodes to 48 kHz mono frames).
        expect(receiver.stats.frames).toBeGreaterThan(100);
        expect(receiver.stats.rmsMax).toBeGreaterThan(2000);
        // The tap decoded Opus to 48 kHz PCM with the signal's energy (bursts at ~4.7k RMS, half duty).
        expect(taps).toHaveLength(1);
        const tap = taps[0]!;
        expect([...tap.rates]).toEqual([48000]);
        expect(tap.samples).toBeGreaterThan(48000);
        expect(tap.rms).toBeGreaterThan(1000);
        const call = h.calls.get(session.callId)!;
        expect(call.media.openResources().taps).toBe(1);

        const ended = new Promise<string>((resolve) => agent.signalling.events.on('callEnded', (e) => resolve(e.reason)));
        await caller.hangup();
        expect(await ended).toBe('caller-left');
        expect(tap.closed).toBe(1);
        expect(call.media.closed).toBe(true);
        expect(call.media.openResources()).toEqual({ transports: 0, producers: 0, consumers: 0, taps: 0, sipLegs: 0 });
        expect(h.calls.size).toBe(0);
        expect(h.plane.activeCalls).toBe(0);
      } finally {
        caller.close();
        agent.close();
      }
    });

    it('a supervisor listens to caller and agent and whispers to the agent only; leaving does not end the call', async () => {
      const session = (await (await fetch(`${h.httpUrl}/api/v1/webrtc/caller-sessions`, { method: 'POST' })).json()) as {
        callId: string;
        token: string;
      };
      const caller = await WebRtcPeer.join({ url: h.wsUrl, token: session.token });
      const agent = await WebRtcPeer.join({ url: h.wsUrl, token: 'agent-token-1', callId: session.callId });
      const supervisor = await WebRtcPeer.join({ url: h.wsUrl, token: 'supervisor-token-1', callId: session.callId });
      expect(supervisor.joined.role).toBe('supervisor');
      try {
        const callerProducer = await caller.startSending('opus');
        const agentProducer = await agent.startSending('opus');
        const whisperProducer = await supervisor.startSending('opus');
        const supHearsCaller = await supervisor.receive(
          (await supervisor.waitForProducer(5000, (p) => p.producerId === callerProducer)).producerId,
        );
        const supHearsAgent = await supervisor.receive(
          (await supervisor.waitForProducer(5000, (p) => p.producerId === agentProducer)).producerId,
        );
        const agentHearsCaller = await agent.receive(callerProducer);
        const agentHearsWhisper = await agent.receive((await agent.waitForProducer(5000, (p) => p.role === 'supervisor')).producerId);
        const callerHearsAgent = await caller.receive(agentProducer);
        // The whisper is never offered to the caller, and asking for it is refused.
        expect(caller.producers().map((p) => p.role)).toEqual(['agent']);
        await expect(
          caller.signalling.request('createTransport', { direction: 'recv' }).then((t) =>
            caller.signalling.request('consume', {
              transportId: t.transportId,
              producerId: whisperProducer,
              rtpCapabilities: caller.joined.routerRtpCapabilities,
            }),
          ),
        ).rejects.toMatchObject({ code: 'EVX_ERR_WEBRTC_SIGNALLING' });

        const signal = testSignal48k(1500);
        await Promise.all([caller.play(signal), agent.play(signal), supervisor.play(signal)]);
        await new Promise((r) => setTimeout(r, 300));
        for (const r of [supHearsCaller, supHearsAgent, agentHearsCaller, agentHearsWhisper, callerHearsAgent])
          expect(r.stats.rmsMax).toBeGreaterThan(1000);

        await supervisor.hangup();
        await new Promise((r) => setTimeout(r, 200));
        const call = h.calls.get(session.callId)!;
        expect(call.ended).toBe(false);
        expect(call.participantCount).toBe(2);
        await caller.hangup();
        expect(h.calls.size).toBe(0);
      } finally {
        caller.close();
        agent.close();
        supervisor.close();
      }
    });

    it('refuses a second consumer of one producer for the same participant (each would forward every packet again)', async () => {
      const session = (await (await fetch(`${h.httpUrl}/api/v1/webrtc/caller-sessions`, { method: 'POST' })).json()) as {
        callId: string;
        token: string;
      };
      const caller = await SignallingClient.connect(h.wsUrl);
      const agent = await SignallingClient.connect(h.wsUrl);
      try {
        await caller.request('join', { token: session.token });
        const joined = await agent.request('join', { token: 'agent-token-1', callId: session.callId });
        const leg = await h.calls.get(session.callId)!.attachSipLeg({ ssrc: 1234 });
        const { transportId } = await agent.request('createTransport', { direction: 'recv' });
        const consume = () =>
          agent.request('consume', { transportId, producerId: leg.producer.id, rtpCapabilities: joined.routerRtpCapabilities });
        await consume();
        await expect(consume()).rejects.toMatchObject({ code: 'EVX_ERR_WEBRTC_SIGNALLING' });
        await expect(consume()).rejects.toMatchObject({ code: 'EVX_ERR_WEBRTC_SIGNALLING' });
      } finally {
        caller.close();
        agent.close();
      }
    });

    it('rejects bad credentials and requests before join', async () => {
      const expectJoinError = async (token: string, callId?: string) => {
        const c = await SignallingClient.connect(h.wsUrl);
        try {
          await expect(c.request('join', { token, ...(callId ? { callId } : {}) })).rejects.toMatchObject({ code: 'EVX_ERR_WEBRTC_AUTH' });
        } finally {
          c.close();
        }
      };
      await expectJoinError(mintCallerToken('another-secret-0123456789-abcdefghijklmn', 'call-1'));
      await expectJoinError(mintCallerToken(SECRET, 'call-1', { ttlMs: 1000, nowMs: Date.now() - 5000 }));
      const good = mintCallerToken(SECRET, 'call-1');
      await expectJoinError(good.slice(0, -2) + (good.endsWith('AA') ? 'BB' : 'AA'));
      await expectJoinError(good, 'call-2');
      await expectJoinError('not-an-agent', 'call-1');

      const c = await SignallingClient.connect(h.wsUrl);
      try {
        await expect(c.request('createTransport', { direction: 'send' })).rejects.toMatchObject({ code: 'EVX_ERR_WEBRTC_SIGNALLING' });
      } finally {
        c.close();
      }
      expect(h.calls.size).toBe(0);
    });
  },
);
