/**
 * CPU cost of SRTP per 160-byte (20 ms G.711) packet: protect and unprotect for each suite, next to
 * a plain Buffer copy of the same packet. Prints the median µs per packet over several rounds
 * (the machine is shared, so single runs are noisy); asserts nothing.
 *
 *   npx tsx tools/bench/srtpCost.ts [packets per round]
 */
import { generateMasterKey, SRTP_SUITES, SrtpSession, type SrtpSuite } from '../../appliance/rtp/srtp.js';

const PAYLOAD_BYTES = 160;
const ROUNDS = 7;
const BATCH = 1000;
const packetsPerRound = Number(process.argv[2] ?? 50_000);

function rtpPacket(seq: number): Buffer {
  const p = Buffer.alloc(12 + PAYLOAD_BYTES, 0x55);
  p[0] = 0x80;
  p[1] = 0;
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE((seq * 160) >>> 0, 4);
  p.writeUInt32BE(0x12345678, 8);
  return p;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function elapsedMicros(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1000;
}

/** Median over rounds of µs per packet, protect and unprotect timed separately, in batches. */
function benchSuite(suite: SrtpSuite): { protect: number; unprotect: number } {
  const { key, salt } = generateMasterKey(suite);
  const tx = new SrtpSession(suite, key, salt);
  const rx = new SrtpSession(suite, key, salt);
  const packet = rtpPacket(0);
  const batch: Buffer[] = new Array<Buffer>(BATCH);
  let seq = 0;
  const protectRounds: number[] = [];
  const unprotectRounds: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    let protectMicros = 0;
    let unprotectMicros = 0;
    for (let done = 0; done < packetsPerRound; done += BATCH) {
      let start = process.hrtime.bigint();
      for (let i = 0; i < BATCH; i++) {
        packet.writeUInt16BE(seq++ & 0xffff, 2);
        batch[i] = tx.protectRtp(packet);
      }
      protectMicros += elapsedMicros(start);
      start = process.hrtime.bigint();
      for (let i = 0; i < BATCH; i++) {
        if (typeof rx.unprotectRtp(batch[i]!) === 'string') throw new Error(`${suite}: a packet did not unprotect`);
      }
      unprotectMicros += elapsedMicros(start);
    }
    if (round === 0) continue; // warm-up
    protectRounds.push(protectMicros / packetsPerRound);
    unprotectRounds.push(unprotectMicros / packetsPerRound);
  }
  return { protect: median(protectRounds), unprotect: median(unprotectRounds) };
}

function benchCopy(): number {
  const source = rtpPacket(1);
  const rounds: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < packetsPerRound; i++) Buffer.from(source);
    if (round > 0) rounds.push(elapsedMicros(start) / packetsPerRound);
  }
  return median(rounds);
}

console.log(
  `SRTP cost per RTP packet with a ${PAYLOAD_BYTES}-byte payload: median of ${ROUNDS} rounds of ${packetsPerRound}, node ${process.version}`,
);
console.log(`${'suite'.padEnd(26)} ${'protect µs'.padStart(11)} ${'unprotect µs'.padStart(13)}`);
for (const suite of Object.keys(SRTP_SUITES) as SrtpSuite[]) {
  const r = benchSuite(suite);
  console.log(`${suite.padEnd(26)} ${r.protect.toFixed(2).padStart(11)} ${r.unprotect.toFixed(2).padStart(13)}`);
}
console.log(`${'Buffer copy (reference)'.padEnd(26)} ${benchCopy().toFixed(2).padStart(11)}`);
