/**
 * An offer whose RTP port is 65535 leaves no "RTP port + 1" for RTCP (RFC 3550 §11). Our RTCP timer
 * sent to port 65536 anyway: dgram throws ERR_SOCKET_BAD_PORT synchronously, from a timer, so one
 * INVITE took the whole process down. Now no report goes until latching names a real port
 * (the peer's own RTCP, or its RTP from another port).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RtpPortAllocator } from '../../../appliance/rtp/ports.js';
import { RtpSession } from '../../../appliance/rtp/session.js';
import { tagOf } from '../../../appliance/sip/serialize.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import { TestUac } from './uac.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Uncaught exceptions while `body` runs (vitest would report them as errors of the whole run). */
async function uncaughtDuring(body: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const onError = (err: unknown): void => void seen.push(err);
  const previous = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  process.on('uncaughtException', onError);
  try {
    await body();
  } finally {
    process.removeListener('uncaughtException', onError);
    for (const l of previous) process.on('uncaughtException', l);
  }
  return seen;
}

describe('RTP port 65535 in the remote SDP', () => {
  it('sends no RTCP report or BYE to port 65536, and nothing is thrown', async () => {
    const base = 36000 + 2 * Math.floor(Math.random() * 1000);
    const ports = new RtpPortAllocator('127.0.0.1', base, base + 3);
    const pair = await ports.allocate();
    const errors = await uncaughtDuring(async () => {
      const s = new RtpSession({
        pair,
        codec: 'PCMU',
        payloadType: 0,
        telephoneEventPt: undefined,
        frameMs: 20,
        remote: { address: '127.0.0.1', port: 65535 },
        latching: true,
        rtcpIntervalMs: 20,
        cname: 'x',
        onFrame: () => {},
        onDtmf: () => {},
      });
      expect(() => s.sendRtcpReport()).not.toThrow();
      await tick(150);
      expect(s.counters.rtcpSent).toBe(0);
      s.sendPayload(new Uint8Array(160), 0, 0, true);
      expect(() => s.close()).not.toThrow();
    });
    expect(errors).toEqual([]);
    await tick(20);
    expect(ports.allocated).toBe(0);
  });

  it('answered through the SIP server, does not take the process down', async () => {
    const errors = await uncaughtDuring(async () => {
      const base = 36000 + 2 * Math.floor(Math.random() * 1000);
      const server = new SipServer({ port: 0, rtpPortMin: base, rtpPortMax: base + 9, rtcpIntervalMs: 20 });
      const port = await server.listen();
      open.push(server);
      const uac = await new TestUac(port).open();
      open.push(uac);
      const cseq = uac.cseq;
      uac.sendRaw(uac.request('INVITE', { body: uac.sdp(65535), noToTag: true }));
      const ok = await uac.waitResponse('INVITE', 200, cseq);
      uac.remoteTag = tagOf(ok.headers.get('to'));
      uac.sendRaw(uac.request('ACK', { cseq }));
      await tick(200);
      expect(server.resources()).toMatchObject({ calls: 1 });
    });
    expect(errors).toEqual([]);
  });
});
