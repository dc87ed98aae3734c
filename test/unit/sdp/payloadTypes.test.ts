/**
 * Payload types 72-76 are reserved (RFC 3551 §6): our RTP parser takes them for multiplexed RTCP
 * (RFC 5761 §4) and drops them. Offered anyway, they must not be chosen: before, a PCMU on 72 was
 * answered and every packet of the call dropped as malformed; DTMF on 72 was promised and lost.
 */
import { describe, expect, it } from 'vitest';
import { selectStreams } from '../../../appliance/sdp/offer-answer.js';
import { parseRtp, writeRtp } from '../../../appliance/rtp/packet.js';
import { parseSdp } from '../../../appliance/sdp/sdp.js';

function offer(formats: string, attributes: string[]): string {
  return [
    'v=0',
    'o=- 1 1 IN IP4 192.0.2.1',
    's=-',
    'c=IN IP4 192.0.2.1',
    't=0 0',
    `m=audio 30000 RTP/AVP ${formats}`,
    ...attributes,
    '',
  ].join('\r\n');
}

describe('payload types 72-76 in an offer', () => {
  it('are what our RTP parser refuses', () => {
    const out = new Uint8Array(172);
    const len = writeRtp(out, { marker: true, payloadType: 72, sequence: 1, timestamp: 160, ssrc: 7 }, new Uint8Array(160));
    expect(parseRtp(out.subarray(0, len))).toBe('rtcp');
  });

  it('are never chosen for audio: the next offered codec is', () => {
    const [s] = selectStreams(parseSdp(offer('72 8', ['a=rtpmap:72 PCMU/8000'])));
    expect(s).toMatchObject({ codec: 'PCMA', payloadType: 8 });
    expect(() => selectStreams(parseSdp(offer('76', ['a=rtpmap:76 PCMU/8000'])))).toThrow(
      expect.objectContaining({ code: 'EVX_ERR_SDP_NO_COMMON_CODEC' }),
    );
  });

  it('are never taken for telephone-event or comfort noise', () => {
    const [s] = selectStreams(parseSdp(offer('0 74 75', ['a=rtpmap:74 telephone-event/8000', 'a=rtpmap:75 CN/8000'])));
    expect(s).toMatchObject({ codec: 'PCMU', telephoneEventPt: undefined, comfortNoisePt: undefined });
  });

  it('leave the payload types around them alone', () => {
    const [s] = selectStreams(parseSdp(offer('71 77', ['a=rtpmap:71 PCMU/8000', 'a=rtpmap:77 telephone-event/8000'])));
    expect(s).toMatchObject({ codec: 'PCMU', payloadType: 71, telephoneEventPt: 77 });
  });
});
