import dgram from 'node:dgram';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeMulaw } from '../../../appliance/codecs/g711.js';
import type { PcmSink } from '../../../appliance/audio/pcmSink.js';
import { MediaPlane } from '../../../appliance/webrtc/mediaPlane.js';
import { writeRtp } from '../../../appliance/rtp/packet.js';
import { SKIP_REASON, workerBin } from './harness.js';

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
}

/** Sends `packets` 20 ms PCMU packets (the first one `first` packets into the stream) of a 440 Hz tone (amplitude 8000) from `socket` to port. */
async function sendPcmuTone(socket: dgram.Socket, port: number, ssrc: number, packets: number, first = 0): Promise<void> {
  const pcm = new Int16Array(160);
  const payload = new Uint8Array(160);
  const out = new Uint8Array(12 + 160);
  for (let k = first; k < first + packets; k++) {
    for (let i = 0; i < 160; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * (k * 160 + i)) / 8000));
    encodeMulaw(pcm, payload);
    const len = writeRtp(out, { marker: k === first, payloadType: 0, sequence: 1000 + k, timestamp: 5000 + k * 160, ssrc }, payload);
    await new Promise<void>((resolve, reject) =>
      socket.send(out.subarray(0, len), port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
    );
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe.skipIf(workerBin === undefined)(
  `MediaPlane with a real mediasoup worker (${workerBin === undefined ? SKIP_REASON : 'built'})`,
  () => {
    let plane: MediaPlane;
    beforeEach(async () => {
      plane = await MediaPlane.start({ numWorkers: 1 });
    });
    afterEach(async () => {
      await plane.close();
      await plane.close(); // idempotent
      expect(plane.workerPids()).toEqual([]);
    });

    it('SIP leg (PCMU, comedia) -> ASR tap: decoded 8 kHz audio with energy; call close releases everything', async () => {
      const call = await plane.createCall('call-plain-1');
      const leg = await call.createSipLeg({ ssrc: 0x1234abcd });
      const sink = new CollectingSink();
      const tap = await call.tapProducer(leg.producer.id, sink);
      expect(tap.codec).toBe('pcmu');
      const webrtc = await call.createWebRtcTransport();
      expect(webrtc.iceCandidates[0]?.address).toBe('127.0.0.1');
      expect(call.openResources()).toEqual({ transports: 3, producers: 1, consumers: 1, taps: 1, sipLegs: 1 });

      const phone = dgram.createSocket('udp4');
      await new Promise<void>((r) => phone.bind(0, '127.0.0.1', () => r()));
      try {
        await sendPcmuTone(phone, leg.localPort, 0x1234abcd, 25);
        const deadline = Date.now() + 3000;
        while (tap.stats().packets < 25 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        const stats = tap.stats();
        expect(stats.packets).toBe(25);
        expect(stats.lostPackets).toBe(0);
        expect(sink.samples).toBe(25 * 160);
        expect([...sink.rates]).toEqual([8000]);
        const rms = Math.sqrt(sink.energy / sink.samples);
        expect(rms).toBeGreaterThan(5000); // 8000 * 0.707, minus mu-law error
        expect(rms).toBeLessThan(6500);
      } finally {
        phone.close();
      }

      const dumpBefore = await plane['slots'][0]!.worker!.dump();
      expect(dumpBefore.routerIds).toHaveLength(1);
      call.close('test');
      call.close('again'); // idempotent
      expect(call.closed).toBe(true);
      expect(tap.closed).toBe(true);
      expect(sink.closed).toBe(1);
      expect(leg.closed).toBe(true);
      expect(webrtc.closed).toBe(true);
      expect(call.openResources()).toEqual({ transports: 0, producers: 0, consumers: 0, taps: 0, sipLegs: 0 });
      expect(plane.activeCalls).toBe(0);
      const dumpAfter = await plane['slots'][0]!.worker!.dump();
      expect(dumpAfter.routerIds).toEqual([]);
    });

    it('the ASR tap reads only what its mediasoup transport sends: datagrams from elsewhere are dropped and counted', async () => {
      const call = await plane.createCall('call-tap-forged');
      const leg = await call.createSipLeg({ ssrc: 0x1234abcd });
      const sink = new CollectingSink();
      const tap = await call.tapProducer(leg.producer.id, sink);
      const phone = dgram.createSocket('udp4');
      const intruder = dgram.createSocket('udp4');
      await new Promise<void>((r) => phone.bind(0, '127.0.0.1', () => r()));
      await new Promise<void>((r) => intruder.bind(0, '127.0.0.1', () => r()));
      try {
        await sendPcmuTone(phone, leg.localPort, 0x1234abcd, 5);
        const waitFor = async (n: number) => {
          const deadline = Date.now() + 3000;
          while (tap.stats().packets < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        };
        await waitFor(5);
        // forged RTP straight at the tap's socket, with sequence numbers far ahead: taken, it would
        // inject audio into the transcript and make the real stream "late" for minutes
        const forged = new Uint8Array(12 + 160);
        for (const seq of [20000, 40000, 60000]) {
          writeRtp(forged, { marker: false, payloadType: 0, sequence: seq, timestamp: seq * 160, ssrc: 7 }, new Uint8Array(160));
          await new Promise<void>((r) => intruder.send(forged, tap.localPort, '127.0.0.1', () => r()));
        }
        await new Promise((r) => setTimeout(r, 50));
        await sendPcmuTone(phone, leg.localPort, 0x1234abcd, 5, 5);
        await waitFor(10);
        const stats = tap.stats();
        expect({ packets: stats.packets, late: stats.latePackets, lost: stats.lostPackets }).toEqual({ packets: 10, late: 0, lost: 0 });
        expect(stats.foreignPackets).toBe(3);
        expect(sink.samples).toBe(10 * 160);
      } finally {
        phone.close();
        intruder.close();
        call.close('test');
      }
    });

    it('a killed worker closes its calls, emits workerDied and is replaced', async () => {
      const call = await plane.createCall('call-crash-1');
      const closed = new Promise<string>((r) => call.events.on('closed', (e) => r(e.reason)));
      const died = new Promise<{ closedCalls: number }>((r) => plane.events.on('workerDied', r));
      const restarted = new Promise<{ pid: number }>((r) => plane.events.on('workerRestarted', r));
      const [pid] = plane.workerPids();
      process.kill(pid!, 'SIGKILL');
      expect(await closed).toBe('worker-died');
      expect((await died).closedCalls).toBe(1);
      const fresh = await restarted;
      expect(fresh.pid).not.toBe(pid);
      expect(plane.workerPids()).toEqual([fresh.pid]);
      const again = await plane.createCall('call-crash-2');
      expect(again.closed).toBe(false);
    });
  },
);
