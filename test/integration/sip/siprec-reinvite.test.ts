/**
 * A SIPREC session's re-INVITE (an SRC refreshing the session or updating its metadata) keeps each
 * recorded stream on its own leg: both streams usually carry the same codec, and each has its own
 * SRTP key, so a leg must be matched to its m= line, not to the first stream with its codec.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { writeRtp } from '../../../appliance/rtp/packet.js';
import { generateMasterKey, SrtpSession } from '../../../appliance/rtp/srtp.js';
import { formatCryptoAttribute } from '../../../appliance/sdp/crypto.js';
import { SRTP_SUITE_PREFERENCE } from '../../../appliance/sdp/offer-answer.js';
import { parseSdp } from '../../../appliance/sdp/sdp.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import type { CallStartedEvent } from '../../../appliance/telephony/types.js';
import { TestUac } from './uac.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

const tick = (ms = 50): Promise<void> => new Promise((r) => setTimeout(r, ms));

const METADATA = `<?xml version="1.0" encoding="UTF-8"?>
<recording xmlns='urn:ietf:params:xml:ns:recording:1'>
  <datamode>complete</datamode>
  <session session_id="S1"/>
  <participant participant_id="P1"><nameID aor="sip:+15550100@example.com"/></participant>
  <participant participant_id="P2"><nameID aor="sip:agent7@pbx.example.com"/></participant>
  <stream stream_id="A" session_id="S1"><label>1</label></stream>
  <stream stream_id="B" session_id="S1"><label>2</label></stream>
  <participantstreamassoc participant_id="P1"><send>A</send></participantstreamassoc>
  <participantstreamassoc participant_id="P2"><send>B</send></participantstreamassoc>
</recording>`;

const SUITE = 'AES_CM_128_HMAC_SHA1_80';

/** Two sendonly PCMU streams (labels 1 and 2), each with its own SDES key. */
function siprecBody(rtpPort: number, keys: ReadonlyArray<{ key: Buffer; salt: Buffer }>): string {
  const sdp = [
    'v=0',
    'o=SRC 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    ...keys.flatMap((k, i) => [
      `m=audio ${rtpPort + 2 * i} RTP/SAVP 0`,
      'a=rtpmap:0 PCMU/8000',
      `a=crypto:1 ${formatCryptoAttribute(1, SUITE, k.key, k.salt).slice(2)}`,
      `a=label:${i + 1}`,
      'a=sendonly',
    ]),
    '',
  ].join('\r\n');
  return `--b1\r\nContent-Type: application/sdp\r\n\r\n${sdp}\r\n--b1\r\nContent-Type: application/rs-metadata+xml\r\nContent-Disposition: recording-session\r\n\r\n${METADATA}\r\n--b1--\r\n`;
}

const SIPREC = { contentType: 'multipart/mixed;boundary=b1', extra: ['Require: siprec'] };

function srtpPacket(s: SrtpSession, seq: number, ssrc: number): Buffer {
  const buf = Buffer.alloc(172);
  const n = writeRtp(buf, { marker: false, payloadType: 0, sequence: seq, timestamp: seq * 160, ssrc }, new Uint8Array(160).fill(0x55));
  return s.protectRtp(buf.subarray(0, n));
}

describe('SIPREC re-INVITE', () => {
  it('keeps each encrypted stream on its own leg: both legs still open their SRC’s packets afterwards', async () => {
    const base = 36000 + 2 * Math.floor(Math.random() * 1500);
    const server = new SipServer({
      port: 0,
      rtpPortMin: base,
      rtpPortMax: base + 19,
      mediaSecurity: () => ({ policy: 'optional', suites: SRTP_SUITE_PREFERENCE }),
      sinkFactory: () => ({ onFrame: () => {}, close: () => {} }),
    });
    const started = new Promise<CallStartedEvent>((r) => server.events.on('call.started', r));
    await server.listen();
    open.push(server);
    const uac = await new TestUac(server.port).open();
    open.push(uac);
    const rtp = dgram.createSocket('udp4');
    await new Promise<void>((r) => rtp.bind(0, '127.0.0.1', () => r()));
    open.push({ close: () => rtp.close() });
    const keys = [generateMasterKey(SUITE), generateMasterKey(SUITE)];
    const body = siprecBody(rtp.address().port, keys);

    const cseq = uac.cseq;
    uac.sendRaw(uac.request('INVITE', { body, noToTag: true, ...SIPREC }));
    const ok = await uac.waitResponse('INVITE', 200, cseq);
    uac.remoteTag = ok.headers.get('to')!.match(/tag=([^;]+)/)![1];
    uac.sendRaw(uac.request('ACK', { cseq }));
    const boxPorts = parseSdp(ok.body).media.map((m) => m.port);
    const s = await started;

    const re = uac.cseq;
    uac.sendRaw(uac.request('INVITE', { body, ...SIPREC }));
    const reOk = await uac.waitResponse('INVITE', 200, re);
    uac.sendRaw(uac.request('ACK', { cseq: re }));
    // the answer still keys each stream (our keys are per leg)
    expect(parseSdp(reOk.body).media.map((m) => m.attributes.some((a) => a.name === 'crypto'))).toEqual([true, true]);

    const senders = keys.map((k) => new SrtpSession(SUITE, k.key, k.salt));
    for (let seq = 1; seq <= 3; seq++) {
      for (let i = 0; i < 2; i++) rtp.send(srtpPacket(senders[i]!, seq, 0x100 + i), boxPorts[i], '127.0.0.1');
    }
    await tick(150);
    for (const legId of ['leg0', 'leg1']) {
      const c = server.leg(s.callId, legId).rtp.counters;
      expect({ legId, received: c.rtpPacketsReceived, authFailures: c.srtpAuthFailures }).toEqual({
        legId,
        received: 3,
        authFailures: 0,
      });
    }
  });
});
