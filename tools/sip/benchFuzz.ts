/**
 * `make bench-sip-fuzz`: >= 100k mutated inputs through the SIP, SDP/SIPREC and RTP/RTCP parsers,
 * plus a live-server run over loopback UDP. Prints counts, throughput and heap growth; exits 1 on
 * any crash, unanswered malformed request or leftover resource.
 * Usage: node dist/tools/sip/benchFuzz.js [--n 120000] [--server-n 20000] [--seed 1]
 */
import { fuzzRtp, fuzzSdp, fuzzSip, type FuzzCounts } from './fuzz.js';
import { fuzzServer } from './fuzz-server.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

function heapMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1048576;
}

async function main(): Promise<void> {
  const n = arg('n', 120_000);
  const serverN = arg('server-n', 20_000);
  const seed = arg('seed', 1);
  const heap0 = heapMb();
  let failed = false;
  const row = (name: string, c: FuzzCounts, ms: number): void => {
    console.log(
      `${name.padEnd(22)} inputs=${c.inputs} accepted=${c.parsed} rejected=${c.rejected} crashes=${c.crashes} ` +
        `(${Math.round((c.inputs / ms) * 1000)} inputs/s)${c.firstCrash !== undefined ? `  first crash: ${c.firstCrash}` : ''}`,
    );
    if (c.crashes > 0) failed = true;
  };
  const split = { sip: Math.round(n * 0.5), sdp: Math.round(n * 0.25), rtp: n - Math.round(n * 0.5) - Math.round(n * 0.25) };
  let t = performance.now();
  row('sip parser+framer', fuzzSip(split.sip, seed), performance.now() - t);
  t = performance.now();
  row('sdp/siprec', fuzzSdp(split.sdp, seed + 1), performance.now() - t);
  t = performance.now();
  row('rtp/rtcp/dtmf/receiver', fuzzRtp(split.rtp, seed + 2), performance.now() - t);
  const heap1 = heapMb();
  t = performance.now();
  const s = await fuzzServer(serverN, seed + 3, 47000);
  const ms = performance.now() - t;
  console.log(
    `live server (UDP)      sent=${s.sent} malformed counted=${s.malformedCounted}/${s.expectedMalformed} ` +
      `error responses=${s.errorResponses} (addressable malformed=${s.expectedErrorResponses}) other responses=${s.otherResponses} ` +
      `internal errors=${s.internalErrors} alive after=${s.aliveAfter} leftover after close=${JSON.stringify(s.leftoverAfterClose)} (${Math.round(ms)} ms)`,
  );
  if (
    s.internalErrors > 0 ||
    s.malformedCounted !== s.expectedMalformed ||
    s.errorResponses < s.expectedErrorResponses ||
    !s.aliveAfter ||
    Object.keys(s.leftoverAfterClose).length > 0
  ) {
    failed = true;
  }
  const heap2 = heapMb();
  console.log(
    `total inputs=${n + s.sent} heap MB: start=${heap0.toFixed(1)} after parsers=${heap1.toFixed(1)} after server=${heap2.toFixed(1)}`,
  );
  console.log(failed ? 'RESULT: FAIL' : 'RESULT: OK (no crash, every addressable malformed request answered, nothing leaked)');
  process.exitCode = failed ? 1 : 0;
}

void main();
