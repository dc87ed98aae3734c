/**
 * A host name in c= is refused, not resolved: sent to, it cost a DNS lookup per RTP packet until
 * latching (dgram resolves every send). The offer fails like one with only IPv6 streams, saying why.
 */
import { describe, expect, it } from 'vitest';
import { selectStreams } from '../../../appliance/sdp/offer-answer.js';
import { parseSdp } from '../../../appliance/sdp/sdp.js';

function offer(session: string, media: string[] = []): string {
  return ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', session, 't=0 0', 'm=audio 30000 RTP/AVP 0', ...media, ''].join('\r\n');
}

describe('c= host names', () => {
  it('refuses an offer whose only stream is addressed by a host name, saying so', () => {
    expect(() => selectStreams(parseSdp(offer('c=IN IP4 media.example.com')))).toThrow(
      expect.objectContaining({ code: 'EVX_ERR_SDP_ADDRESS', details: { reason: expect.stringContaining('host name') } }),
    );
    expect(() => selectStreams(parseSdp(offer('c=IN IP4 192.0.2.1', ['c=IN IP4 localhost'])))).toThrow(/host name/);
  });

  it('still takes IPv4 literals, the unspecified hold address included', () => {
    expect(selectStreams(parseSdp(offer('c=IN IP4 192.0.2.1')))[0]!.remoteAddress).toBe('192.0.2.1');
    expect(selectStreams(parseSdp(offer('c=IN IP4 0.0.0.0')))[0]!.remoteAddress).toBe('0.0.0.0');
  });

  it('keeps the other streams of an offer when one names a host', () => {
    const text = [
      'v=0',
      'o=- 1 1 IN IP4 192.0.2.1',
      's=-',
      't=0 0',
      'm=audio 30000 RTP/AVP 0',
      'c=IN IP4 media.example.com',
      'm=audio 30002 RTP/AVP 0',
      'c=IN IP4 192.0.2.9',
      '',
    ].join('\r\n');
    expect(selectStreams(parseSdp(text)).map((s) => [s.mediaIndex, s.remoteAddress])).toEqual([[1, '192.0.2.9']]);
  });
});

describe('c= multicast and broadcast addresses', () => {
  it('refuses a stream sent to a multicast group or the broadcast address', () => {
    for (const c of ['c=IN IP4 224.2.1.1/127', 'c=IN IP4 239.255.255.250', 'c=IN IP4 255.255.255.255']) {
      expect(() => selectStreams(parseSdp(offer(c)))).toThrow(
        expect.objectContaining({ code: 'EVX_ERR_SDP_ADDRESS', details: { reason: expect.stringContaining('multicast') } }),
      );
    }
  });

  it('are not taken from a=rtcp either', () => {
    const [s] = selectStreams(parseSdp(offer('c=IN IP4 192.0.2.1', ['a=rtcp:30011 IN IP4 224.0.0.1'])));
    expect(s!.remoteRtcp).toBeUndefined();
  });

  it('still takes the unicast addresses around them', () => {
    for (const a of ['223.255.255.1', '240.0.0.1', '10.0.0.255']) {
      expect(selectStreams(parseSdp(offer(`c=IN IP4 ${a}`)))[0]!.remoteAddress).toBe(a);
    }
  });
});
