/**
 * Captures what a peer receives on the loopback interface with tcpdump and reads the RTP back:
 * how the "phone" side of a bridged call measures the audio it was sent (sipp reports no energy).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { MULAW_DECODE_TABLE } from '../../../appliance/codecs/g711.js';

export interface Capture {
  stop(): Promise<Buffer>;
}

/** Starts tcpdump on `lo` with a BPF filter, writing packets to `file` as they arrive. */
export async function captureLoopback(file: string, filter: string): Promise<Capture> {
  const child: ChildProcess = spawn('tcpdump', ['-i', 'lo', '-U', '-n', '-s', '0', '-w', file, filter], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 5000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`tcpdump exited with ${code}: ${err}`)));
  });
  const exited = new Promise((r) => child.once('exit', r));
  let stopping: Promise<Buffer> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        child.kill('SIGINT');
        await exited;
        return readFileSync(file);
      })();
      return stopping;
    },
  };
}

/** UDP payloads of a pcap file (Ethernet or Linux cooked link types, IPv4). */
export function udpPayloads(pcap: Buffer): Buffer[] {
  return udpPackets(pcap).map((p) => p.payload);
}

/** UDP packets of a pcap file with their capture time (Unix ms) and destination port. */
export function udpPackets(pcap: Buffer): { atMs: number; dstPort: number; payload: Buffer }[] {
  const magic = pcap.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const nanos = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  const u32 = (o: number) => (le ? pcap.readUInt32LE(o) : pcap.readUInt32BE(o));
  const linkType = u32(20);
  const linkHeader = linkType === 1 ? 14 : linkType === 113 ? 16 : linkType === 276 ? 20 : 0;
  const out: { atMs: number; dstPort: number; payload: Buffer }[] = [];
  for (let off = 24; off + 16 <= pcap.length;) {
    const atMs = u32(off) * 1000 + u32(off + 4) / (nanos ? 1e6 : 1e3);
    const incl = u32(off + 8);
    const pkt = pcap.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    const ip = pkt.subarray(linkHeader);
    if (ip.length < 28 || ip[0]! >> 4 !== 4 || ip[9] !== 17) continue;
    const ihl = (ip[0]! & 0x0f) * 4;
    out.push({ atMs, dstPort: ip.readUInt16BE(ihl + 2), payload: ip.subarray(ihl + 8) });
  }
  return out;
}

/** RTP packets with payload type `pt` among `payloads`: count and RMS of their μ-law audio. */
export function mulawRtpEnergy(payloads: Buffer[], pt = 0): { packets: number; rms: number } {
  let packets = 0;
  let energy = 0;
  let samples = 0;
  for (const p of payloads) {
    if (p.length <= 12 || p[0]! >> 6 !== 2 || (p[1]! & 0x7f) !== pt) continue;
    packets++;
    const cc = p[0]! & 0x0f;
    for (let i = 12 + cc * 4; i < p.length; i++) {
      const s = MULAW_DECODE_TABLE[p[i]!]!;
      energy += s * s;
      samples++;
    }
  }
  return { packets, rms: samples === 0 ? 0 : Math.sqrt(energy / samples) };
}
