/** The peer's `a=rtcp` (RFC 3605) read from an offer: port, optional IPv4 address, mux wins, junk ignored. */
import { describe, expect, it } from 'vitest';
import { selectStreams } from '../../../appliance/sdp/offer-answer.js';
import { parseSdp } from '../../../appliance/sdp/sdp.js';

function offer(extra: string[]): string {
  return ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 30000 RTP/AVP 0', ...extra, ''].join('\r\n');
}

const rtcpOf = (extra: string[]): unknown => selectStreams(parseSdp(offer(extra)))[0]!.remoteRtcp;

describe('a=rtcp in an offer', () => {
  it('names the RTCP port, on the connection address unless it gives one', () => {
    expect(rtcpOf(['a=rtcp:30011'])).toEqual({ address: '192.0.2.1', port: 30011 });
    expect(rtcpOf(['a=rtcp:40001 IN IP4 198.51.100.7'])).toEqual({ address: '198.51.100.7', port: 40001 });
  });

  it('is the default (undefined: RTP port + 1) when absent, unusable, or with rtcp-mux', () => {
    expect(rtcpOf([])).toBeUndefined();
    expect(rtcpOf(['a=rtcp:0'])).toBeUndefined();
    expect(rtcpOf(['a=rtcp:70000'])).toBeUndefined();
    expect(rtcpOf(['a=rtcp:x'])).toBeUndefined();
    expect(rtcpOf(['a=rtcp:30011 IN IP6 2001:db8::1'])).toBeUndefined();
    expect(rtcpOf(['a=rtcp:30011 IN IP4 rtcp.example.com'])).toBeUndefined();
    expect(rtcpOf(['a=rtcp:30000', 'a=rtcp-mux'])).toBeUndefined();
  });
});
