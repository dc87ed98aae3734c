/**
 * Fuzz a live SipServer over loopback UDP: mutated SIP requests go in; every one our parser
 * rejects with enough headers to address a response must come back as 400/413/505, the server
 * must still answer OPTIONS afterwards, and after close() nothing may be left allocated.
 */
import dgram from 'node:dgram';
import { parseSipMessage, canAddressResponse } from '../../appliance/sip/parser.js';
import { SipServer } from '../../appliance/telephony/sip-server.js';
import { mutate, Prng, SIP_SEEDS } from './fuzz.js';

export interface ServerFuzzResult {
  sent: number;
  expectedErrorResponses: number;
  errorResponses: number;
  otherResponses: number;
  malformedCounted: number;
  expectedMalformed: number;
  internalErrors: number;
  aliveAfter: boolean;
  leftoverAfterClose: Record<string, number>;
}

const OPTIONS_PROBE = (port: number, n: number): Buffer =>
  Buffer.from(
    [
      `OPTIONS sip:edgevox@127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-probe-${n}`,
      'From: <sip:probe@127.0.0.1>;tag=p',
      'To: <sip:edgevox@127.0.0.1>',
      `Call-ID: probe-${n}`,
      'CSeq: 1 OPTIONS',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );

/** Resolve once `done()` holds, or after `ms` (the caller's assertions then tell what is missing). */
async function until(done: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!done() && Date.now() < end) await new Promise((res) => setTimeout(res, 2));
}

export async function fuzzServer(n: number, seed: number, rtpBase = 47000): Promise<ServerFuzzResult> {
  const server = new SipServer({ port: 0, rtpPortMin: rtpBase, rtpPortMax: rtpBase + 19, rateLimitPerSec: 0, maxCalls: 2 });
  const port = await server.listen();
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  let errorResponses = 0;
  let otherResponses = 0;
  let probeOk = false;
  sock.on('message', (m) => {
    const head = m.toString('latin1', 0, 12);
    if (/^SIP\/2\.0 (400|413|505)/.test(head)) errorResponses++;
    else if (m.includes('probe-final')) probeOk = probeOk || head.startsWith('SIP/2.0 200');
    else otherResponses++;
  });
  const rng = new Prng(seed);
  const seeds = SIP_SEEDS.filter((s) => !s.startsWith('SIP/')).map((s) => Buffer.from(s, 'latin1'));
  let expected = 0;
  let expectedMalformed = 0;
  let sent = 0;
  for (let i = 0; i < n; i++) {
    const input = Buffer.from(mutate(rng.pick(seeds), rng, seeds));
    if (input.length === 0 || input.length > 60_000) continue;
    const r = parseSipMessage(input);
    const keepalive = input.length <= 4 && input.every((b) => b === 0x0d || b === 0x0a || b === 0x00);
    if (!r.ok && !keepalive) expectedMalformed++;
    if (!r.ok && canAddressResponse(r)) expected++;
    sock.send(input, port, '127.0.0.1');
    sent++;
    // Flow control: after each small batch wait until the server has read what it was sent (its
    // malformed count catches up), so a loaded machine never overflows the loopback socket buffer.
    if (sent % 10 === 0) await until(() => server.counters.malformed >= expectedMalformed, 2000);
  }
  const probe = OPTIONS_PROBE(port, 0).toString('latin1').replace('probe-0', 'probe-final');
  sock.send(Buffer.from(probe, 'latin1'), port, '127.0.0.1');
  // datagrams from one socket are read in order: once the probe is answered, every input was read
  await until(() => probeOk, 5000);
  const malformedCounted = server.counters.malformed;
  const internalErrors = server.counters.internalErrors;
  await server.close();
  sock.close();
  const left = server.resources();
  return {
    sent,
    expectedErrorResponses: expected,
    errorResponses,
    otherResponses,
    malformedCounted,
    expectedMalformed,
    internalErrors,
    aliveAfter: probeOk,
    leftoverAfterClose: Object.fromEntries(Object.entries(left).filter(([, v]) => v !== 0)),
  };
}
