/** SIP message builders for tests (CRLF line endings). */
export function sip(lines: string[], body = ''): Buffer {
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body, 'latin1');
}

export const SDP_OFFER = [
  'v=0',
  'o=alice 2890844526 2890844526 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 49170 RTP/AVP 9 8 0 101',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'm=video 51372 RTP/AVP 31',
  '',
].join('\r\n');

export function invite(
  opts: { body?: string; extra?: string[]; branch?: string; callId?: string; toTag?: string; cseq?: number; method?: string } = {},
): Buffer {
  const body = opts.body ?? SDP_OFFER;
  const method = opts.method ?? 'INVITE';
  return sip(
    [
      `${method} sip:edgevox@127.0.0.1:5060 SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=${opts.branch ?? 'z9hG4bK-test-1'};rport`,
      'Max-Forwards: 70',
      'From: "Alice" <sip:+15550100@127.0.0.1:5070>;tag=a1',
      `To: <sip:edgevox@127.0.0.1:5060>${opts.toTag === undefined ? '' : `;tag=${opts.toTag}`}`,
      `Call-ID: ${opts.callId ?? 'call-1@127.0.0.1'}`,
      `CSeq: ${opts.cseq ?? 1} ${method}`,
      'Contact: <sip:alice@127.0.0.1:5070>',
      ...(body.length > 0 ? ['Content-Type: application/sdp'] : []),
      ...(opts.extra ?? []),
      `Content-Length: ${Buffer.byteLength(body)}`,
    ],
    body,
  );
}
