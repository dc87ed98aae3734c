import { describe, expect, it } from 'vitest';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { buildAnswer, isHoldOffer, selectStreams } from '../../../appliance/sdp/offer-answer.js';
import { parseMultipart, multipartBoundary } from '../../../appliance/sdp/multipart.js';
import { direction, parseSdp, rtpMaps, serializeSdp } from '../../../appliance/sdp/sdp.js';
import { parseSiprecOffer, parseRecordingMetadata } from '../../../appliance/sip/siprec.js';
import { parseXml } from '../../../appliance/sip/xml.js';
import { SipHeaders, type SipRequest } from '../../../appliance/sip/message.js';
import { SDP_OFFER } from './fixtures.js';

describe('SDP', () => {
  it('parses media, rtpmaps (static and dynamic) and round-trips', () => {
    const s = parseSdp(SDP_OFFER);
    expect(s.media).toHaveLength(2);
    expect(rtpMaps(s.media[0]!).map((m) => [m.payloadType, m.encoding, m.clockRateHz])).toEqual([
      [9, 'G722', 8000],
      [8, 'PCMA', 8000],
      [0, 'PCMU', 8000],
      [101, 'TELEPHONE-EVENT', 8000],
    ]);
    expect(parseSdp(serializeSdp(s))).toEqual(s);
    expect(parseSdp(SDP_OFFER.replace(/\r\n/g, '\n'))).toEqual(s); // LF-only tolerated
  });

  it.each([
    ['no v=0', SDP_OFFER.replace('v=0', 'v=1')],
    ['garbage line', SDP_OFFER.replace('s=-', 'garbage')],
    ['m before o', 'v=0\r\nm=audio 1 RTP/AVP 0\r\n'],
    ['bad m line', SDP_OFFER.replace('m=audio 49170 RTP/AVP 9 8 0 101', 'm=audio x RTP/AVP')],
    ['no connection', SDP_OFFER.replace('c=IN IP4 127.0.0.1\r\n', '')],
    ['bad c line', SDP_OFFER.replace('c=IN IP4 127.0.0.1', 'c=IN IPX foo')],
  ])('rejects %s with EVX_ERR_SDP_PARSE', (_n, text) => {
    expect(() => parseSdp(text)).toThrowError(expect.objectContaining({ code: 'EVX_ERR_SDP_PARSE' }));
  });

  it('answers with the first offered codec we support, keeps telephone-event, rejects video', () => {
    const offer = parseSdp(SDP_OFFER);
    const streams = selectStreams(offer);
    expect(streams).toHaveLength(1);
    expect(streams[0]).toMatchObject({
      codec: 'G722',
      payloadType: 9,
      sampleRateHz: 16000,
      rtpClockHz: 8000,
      telephoneEventPt: 101,
      comfortNoisePt: undefined,
      remotePort: 49170,
    });
    const pcmuOnly = selectStreams(offer, ['PCMU']);
    expect(pcmuOnly[0]).toMatchObject({ codec: 'PCMU', payloadType: 0 });
    const ans = buildAnswer(offer, streams, {
      localAddress: '127.0.0.1',
      localPorts: new Map([[0, 20000]]),
      sessionId: '1',
      sessionVersion: 1,
    });
    const text = serializeSdp(ans);
    expect(text).toContain('m=audio 20000 RTP/AVP 9 101\r\n');
    expect(text).toContain('m=video 0 RTP/AVP 31\r\n');
    expect(text).toContain('a=sendrecv');
    const sendonly = parseSdp(SDP_OFFER.replace('a=ptime:20', 'a=ptime:20\r\na=sendonly'));
    expect(direction(sendonly, sendonly.media[0]!)).toBe('sendonly');
    expect(
      serializeSdp(
        buildAnswer(sendonly, selectStreams(sendonly), {
          localAddress: '127.0.0.1',
          localPorts: new Map([[0, 2]]),
          sessionId: '1',
          sessionVersion: 2,
        }),
      ),
    ).toContain('a=recvonly');
    expect(isHoldOffer(sendonly)).toBe(true);
    expect(isHoldOffer(offer)).toBe(false);
    expect(isHoldOffer(parseSdp(SDP_OFFER.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 0.0.0.0')))).toBe(true);
  });

  it('refuses an IPv6 media address (the box answers and sends on IPv4 only) and takes an IPv4 stream next to it', () => {
    const v6 = parseSdp(SDP_OFFER.replace('c=IN IP4 127.0.0.1', 'c=IN IP6 2001:db8::1'));
    expect(() => selectStreams(v6)).toThrowError(expect.objectContaining({ code: 'EVX_ERR_SDP_NO_COMMON_CODEC' }));
    const mixed = parseSdp(
      SDP_OFFER.replace('m=video 51372 RTP/AVP 31', 'm=audio 49180 RTP/AVP 0\r\nc=IN IP4 192.0.2.7').replace(
        'a=ptime:20',
        'a=ptime:20\r\nc=IN IP6 2001:db8::1',
      ),
    );
    expect(mixed.media[0]!.connection?.addrType).toBe('IP6');
    expect(selectStreams(mixed).map((s) => [s.mediaIndex, s.remoteAddress])).toEqual([[1, '192.0.2.7']]);
  });

  it('refuses an offer without a supported codec', () => {
    const offer = parseSdp(
      SDP_OFFER.replace('m=audio 49170 RTP/AVP 9 8 0 101', 'm=audio 49170 RTP/AVP 18').replace(/a=rtpmap:(9|8|0) .*\r\n/g, ''),
    );
    try {
      selectStreams(offer);
      expect.unreachable();
    } catch (err) {
      expect(isEdgeVoxError(err, 'EVX_ERR_SDP_NO_COMMON_CODEC')).toBe(true);
    }
  });
});

const METADATA = `<?xml version="1.0" encoding="UTF-8"?>
<recording xmlns='urn:ietf:params:xml:ns:recording:1'>
  <datamode>complete</datamode>
  <session session_id="S1"/>
  <participant participant_id="P1"><nameID aor="sip:+15550100@example.com"><name>Caller &amp; Co</name></nameID></participant>
  <participant participant_id="P2"><nameID aor="sip:agent7@pbx.example.com"/></participant>
  <stream stream_id="A" session_id="S1"><label>1</label></stream>
  <stream stream_id="B" session_id="S1"><label>2</label></stream>
  <participantstreamassoc participant_id="P1"><send>B</send><recv>A</recv></participantstreamassoc>
  <participantstreamassoc participant_id="P2"><send>A</send><recv>B</recv></participantstreamassoc>
</recording>`;

function siprecRequest(metadata = METADATA): SipRequest {
  const sdp = [
    'v=0',
    'o=SRC 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    'm=audio 4000 RTP/AVP 0',
    'a=label:1',
    'a=sendonly',
    'm=audio 4002 RTP/AVP 8',
    'a=label:2',
    'a=sendonly',
    '',
  ].join('\r\n');
  const body = `--b1\r\nContent-Type: application/sdp\r\n\r\n${sdp}\r\n--b1\r\nContent-Type: application/rs-metadata+xml\r\nContent-Disposition: recording-session\r\n\r\n${metadata}\r\n--b1--\r\n`;
  const headers = new SipHeaders().set('content-type', 'multipart/mixed;boundary=b1').set('require', 'siprec');
  return { kind: 'request', method: 'INVITE', uri: 'sip:srs@127.0.0.1', headers, body: Buffer.from(body) };
}

describe('SIPREC', () => {
  it('splits the multipart body and ties streams to participants through labels', () => {
    const o = parseSiprecOffer(siprecRequest());
    expect(o.sdp.media).toHaveLength(2);
    expect(o.streams.map((s) => [s.label, s.participantId, s.role])).toEqual([
      ['1', 'P2', 'agent'],
      ['2', 'P1', 'caller'],
    ]);
    expect(o.metadata.participants[0]!.name).toBe('Caller & Co');
  });

  it('uses the agent AOR pattern when configured', () => {
    const o = parseSiprecOffer(siprecRequest(), { agentAor: /^sip:\+1555/ });
    expect(o.streams.map((s) => s.role)).toEqual(['caller', 'agent']);
  });

  it('falls back to stream order without associations', () => {
    const meta = METADATA.replace(/<participantstreamassoc[\s\S]*?<\/participantstreamassoc>/g, '');
    const o = parseSiprecOffer(siprecRequest(meta));
    expect(o.streams.map((s) => [s.participantId, s.role])).toEqual([
      ['P1', 'caller'],
      ['P2', 'agent'],
    ]);
  });

  it.each([
    ['a DTD', '<!DOCTYPE x [<!ENTITY a "b">]><recording/>'],
    ['mismatched tags', '<recording><a></b></recording>'],
    ['two roots', '<recording/><recording/>'],
    ['deep nesting', '<a>'.repeat(40) + '</a>'.repeat(40)],
    ['unterminated', '<recording><participant'],
  ])('rejects metadata with %s', (_n, xml) => {
    expect(() => parseRecordingMetadata(xml)).toThrowError(expect.objectContaining({ code: 'EVX_ERR_SIPREC_METADATA' }));
  });

  it('rejects multipart bodies without the close delimiter or boundary', () => {
    expect(() => parseMultipart(Buffer.from('--b\r\nContent-Type: a/b\r\n\r\nx'), 'b')).toThrowError(
      expect.objectContaining({ code: 'EVX_ERR_SIPREC_METADATA' }),
    );
    expect(() => multipartBoundary('multipart/mixed')).toThrowError(expect.objectContaining({ code: 'EVX_ERR_SIPREC_METADATA' }));
    expect(multipartBoundary('application/sdp')).toBeUndefined();
    expect(parseXml('<a x="1" y=\'2\'>t<b/></a>')).toMatchObject({ name: 'a', text: 't', children: [{ name: 'b' }] });
  });
});
