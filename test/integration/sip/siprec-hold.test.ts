/**
 * A SIPREC recorder's streams are sendonly by nature (RFC 7866): its session refresh re-INVITE,
 * repeating the same sendonly offer, is not a hold. Only a recording paused (every stream inactive)
 * is reported held, and resumes when the streams flow again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import type { CallEndedEvent, CallStartedEvent } from '../../../appliance/telephony/types.js';
import { TestUac } from './uac.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

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

function siprecBody(rtpPort: number, dir: string): string {
  const sdp = [
    'v=0',
    'o=SRC 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    ...[0, 1].flatMap((i) => [`m=audio ${rtpPort + 2 * i} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', `a=label:${i + 1}`, `a=${dir}`]),
    '',
  ].join('\r\n');
  return `--b1\r\nContent-Type: application/sdp\r\n\r\n${sdp}\r\n--b1\r\nContent-Type: application/rs-metadata+xml\r\nContent-Disposition: recording-session\r\n\r\n${METADATA}\r\n--b1--\r\n`;
}

const SIPREC = { contentType: 'multipart/mixed;boundary=b1', extra: ['Require: siprec'] };

describe('SIPREC and hold', () => {
  it('a refresh re-INVITE (sendonly as ever) is no hold; every stream inactive is, sendonly again resumes', async () => {
    const base = 36000 + 2 * Math.floor(Math.random() * 1500);
    const server = new SipServer({ port: 0, rtpPortMin: base, rtpPortMax: base + 19 });
    const events: string[] = [];
    server.events.on('call.held', () => events.push('held'));
    server.events.on('call.resumed', () => events.push('resumed'));
    const started = new Promise<CallStartedEvent>((r) => server.events.on('call.started', r));
    await server.listen();
    open.push(server);
    const uac = await new TestUac(server.port).open();
    open.push(uac);

    const reInvite = async (dir: string): Promise<void> => {
      const cseq = uac.cseq;
      uac.sendRaw(uac.request('INVITE', { body: siprecBody(31000, dir), ...SIPREC }));
      await uac.waitResponse('INVITE', 200, cseq);
      uac.sendRaw(uac.request('ACK', { cseq }));
    };
    const cseq = uac.cseq;
    uac.sendRaw(uac.request('INVITE', { body: siprecBody(31000, 'sendonly'), noToTag: true, ...SIPREC }));
    const ok = await uac.waitResponse('INVITE', 200, cseq);
    uac.remoteTag = ok.headers.get('to')!.match(/tag=([^;]+)/)![1];
    uac.sendRaw(uac.request('ACK', { cseq }));
    await started;

    await reInvite('sendonly'); // the SRC refreshing the session
    expect(events).toEqual([]);
    await reInvite('inactive'); // recording paused
    expect(events).toEqual(['held']);
    await reInvite('sendonly');
    expect(events).toEqual(['held', 'resumed']);
  });

  it('a recorder gone silent after a refresh re-INVITE is still ended by the media timeout', async () => {
    const base = 36000 + 2 * Math.floor(Math.random() * 1500);
    const server = new SipServer({ port: 0, rtpPortMin: base, rtpPortMax: base + 19, rtpTimeoutMs: 1000, qualityIntervalMs: 50 });
    const ended = new Promise<CallEndedEvent>((r) => server.events.on('call.ended', r));
    await server.listen();
    open.push(server);
    const uac = await new TestUac(server.port).open();
    open.push(uac);
    const cseq = uac.cseq;
    uac.sendRaw(uac.request('INVITE', { body: siprecBody(31000, 'sendonly'), noToTag: true, ...SIPREC }));
    const ok = await uac.waitResponse('INVITE', 200, cseq);
    uac.remoteTag = ok.headers.get('to')!.match(/tag=([^;]+)/)![1];
    uac.sendRaw(uac.request('ACK', { cseq }));
    const re = uac.cseq;
    uac.sendRaw(uac.request('INVITE', { body: siprecBody(31000, 'sendonly'), ...SIPREC }));
    await uac.waitResponse('INVITE', 200, re);
    uac.sendRaw(uac.request('ACK', { cseq: re }));
    // no RTP ever comes: the session ends (before the fix it counted as held and stayed up for good)
    expect((await ended).reason).toBe('media_timeout');
  });
});
