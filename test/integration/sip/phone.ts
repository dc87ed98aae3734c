/**
 * Test peers for calls the SipServer places: a scripted phone that answers our INVITE (over a
 * TestUac's socket, with the codec and SDES key the test wants) and a raw RTP endpoint that sends
 * and records packets (SRTP optional), for checking bridged media byte for byte.
 */
import dgram from 'node:dgram';
import { parseRtp, writeRtp } from '../../../appliance/rtp/packet.js';
import type { SrtpSession } from '../../../appliance/rtp/srtp.js';
import type { SipRequest } from '../../../appliance/sip/message.js';
import { buildResponse, serializeSipMessage } from '../../../appliance/sip/serialize.js';
import type { TestUac } from './uac.js';

export interface ReceivedRtp {
  readonly payloadType: number;
  readonly sequence: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly marker: boolean;
  readonly payload: Buffer;
  readonly atMs: number;
}

/** A UDP socket speaking RTP on loopback. */
export class RtpPeer {
  readonly received: ReceivedRtp[] = [];
  private seq = 1000;
  private ts = 50_000;
  private readonly ssrc = 0x1234abcd;

  private constructor(
    private readonly socket: dgram.Socket,
    readonly port: number,
    private readonly srtp: { send: SrtpSession; receive: SrtpSession } | undefined,
  ) {
    socket.on('message', (msg) => {
      const clear = srtp === undefined ? msg : srtp.receive.unprotectRtp(msg);
      if (typeof clear === 'string') return;
      const p = parseRtp(clear);
      if (typeof p === 'string') return;
      this.received.push({ ...p, payload: Buffer.from(p.payload), atMs: performance.now() });
    });
  }

  static async open(srtp?: { send: SrtpSession; receive: SrtpSession }): Promise<RtpPeer> {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    return new RtpPeer(s, s.address().port, srtp);
  }

  /** Send one packet to `port`; `timestampStep` 0 keeps the timestamp (a telephone-event's packets). */
  send(port: number, payloadType: number, payload: Uint8Array, opts: { marker?: boolean; timestampStep?: number } = {}): void {
    const buf = Buffer.alloc(12 + payload.length);
    writeRtp(buf, { marker: opts.marker ?? false, payloadType, sequence: this.seq, timestamp: this.ts, ssrc: this.ssrc }, payload);
    this.seq = (this.seq + 1) & 0xffff;
    this.ts = (this.ts + (opts.timestampStep ?? 160)) >>> 0;
    this.socket.send(this.srtp === undefined ? buf : this.srtp.send.protectRtp(buf), port, '127.0.0.1');
  }

  /** Send `payloads` paced at 20 ms (as a phone would). */
  async stream(port: number, payloadType: number, payloads: readonly Uint8Array[]): Promise<void> {
    for (let i = 0; i < payloads.length; i++) {
      this.send(port, payloadType, payloads[i]!, { marker: i === 0 });
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.socket.close();
  }
}

/** An SDP answer (or re-offer) for a phone on `rtpPort`: one codec (static payload type), telephone-event 101. */
export function phoneSdp(rtpPort: number, codec: 'PCMU' | 'G722', cryptoLine?: string, direction = 'sendrecv'): string {
  const pt = codec === 'PCMU' ? 0 : 9;
  return [
    'v=0',
    'o=phone 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${rtpPort} RTP/AVP ${pt} 101`,
    `a=rtpmap:${pt} ${codec}/8000`,
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16',
    ...(cryptoLine === undefined ? [] : [`a=crypto:${cryptoLine}`]),
    `a=${direction}`,
    '',
  ].join('\r\n');
}

/**
 * Answer the INVITE the server sends `phone`: 180, then 200 with `sdp` (and `headers`); resolves
 * with the INVITE once the ACK came.
 */
export async function answerInvite(phone: TestUac, sdp: string, headers: Record<string, string> = {}): Promise<SipRequest> {
  const invite = await phone.waitRequest('INVITE');
  const contact = `<sip:agent@127.0.0.1:${phone.port}>`;
  phone.sendRaw(serializeSipMessage(buildResponse(invite, 180, { toTag: 'p1', headers: { contact } })));
  phone.sendRaw(serializeSipMessage(buildResponse(invite, 200, { toTag: 'p1', headers: { contact, ...headers }, body: Buffer.from(sdp) })));
  await phone.waitRequest('ACK');
  return invite;
}

/**
 * A request the phone sends in the dialog our INVITE created (re-INVITE, its ACK, BYE): From/To/
 * Call-ID mirrored from our ACK, its own CSeq space, sent to our SIP port.
 */
export function phoneRequest(phone: TestUac, ack: SipRequest, method: string, cseq: number, body = ''): string {
  return [
    `${method} sip:edgevox@127.0.0.1:${phone.serverPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${phone.port};branch=z9hG4bK-phone-${method}-${cseq};rport`,
    'Max-Forwards: 70',
    `From: ${ack.headers.get('to')}`,
    `To: ${ack.headers.get('from')}`,
    `Call-ID: ${ack.headers.get('call-id')}`,
    `CSeq: ${cseq} ${method}`,
    `Contact: <sip:agent@127.0.0.1:${phone.port}>`,
    ...(body.length > 0 ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}
