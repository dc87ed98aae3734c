/**
 * Mutation fuzzing in the suite (a few thousand inputs; `make bench-sip-fuzz` runs >= 100k):
 * no crash, malformed input rejected with a clear result, addressable malformed requests answered
 * with 400/413/505 by a live server, nothing left allocated after close().
 */
import { describe, expect, it } from 'vitest';
import { fuzzRtp, fuzzSdp, fuzzSip } from '../../../tools/sip/fuzz.js';
import { fuzzServer } from '../../../tools/sip/fuzz-server.js';

describe('mutation fuzzing', () => {
  it('SIP parser + serializer round trip + TCP framer: 3000 inputs, no crash', () => {
    const c = fuzzSip(3000, 0x5eed01);
    expect(c.firstCrash).toBeUndefined();
    expect(c.crashes).toBe(0);
    // the mutator must produce both accepted and rejected inputs, or it tests nothing
    expect(c.parsed).toBeGreaterThan(100);
    expect(c.rejected).toBeGreaterThan(500);
  });

  it('SDP offer/answer and SIPREC multipart + metadata: 2000 inputs, only coded errors', () => {
    const c = fuzzSdp(2000, 0x5eed02);
    expect(c.firstCrash).toBeUndefined();
    expect(c.parsed).toBeGreaterThan(100);
    expect(c.rejected).toBeGreaterThan(100);
  });

  it('RTP / RTCP / telephone-event / receive pipeline: 3000 inputs, no crash', () => {
    const c = fuzzRtp(3000, 0x5eed03);
    expect(c.firstCrash).toBeUndefined();
    expect(c.parsed).toBeGreaterThan(100);
    expect(c.rejected).toBeGreaterThan(100);
  });

  it('a live server answers every addressable malformed request and leaks nothing', async () => {
    const r = await fuzzServer(400, 0x5eed04, 47000 + 2 * Math.floor(Math.random() * 1000));
    expect(r.internalErrors).toBe(0);
    expect(r.malformedCounted).toBe(r.expectedMalformed);
    expect(r.expectedErrorResponses).toBeGreaterThan(50);
    expect(r.errorResponses).toBeGreaterThanOrEqual(r.expectedErrorResponses);
    expect(r.aliveAfter).toBe(true);
    expect(r.leftoverAfterClose).toEqual({});
  });
});
