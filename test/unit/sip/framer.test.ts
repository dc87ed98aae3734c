/**
 * The TCP stream framer's work and its reading of Content-Length. Work is counted, not timed: the
 * bytes Buffer.concat copies and the bytes Buffer#indexOf searches (from its start offset), the two
 * ways it touches what it holds. A message sent a byte at a time cost the square of its length
 * (re-joined and re-searched from its start per byte) before the framer kept a chunk list and a
 * scan state.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SipStreamFramer, streamContentLength, type FramerResult } from '../../../appliance/sip/framer.js';
import { DEFAULT_SIP_LIMITS, parseSipMessage } from '../../../appliance/sip/parser.js';
import { invite, sip } from './fixtures.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Bytes copied by Buffer.concat plus bytes searched by Buffer#indexOf while `run` runs. */
function bufferWork(run: () => void): number {
  let bytes = 0;
  const concat = Buffer.concat.bind(Buffer);
  vi.spyOn(Buffer, 'concat').mockImplementation((list, total) => {
    const joined = concat(list, total);
    bytes += joined.length;
    return joined;
  });
  const indexOf = Buffer.prototype.indexOf;
  vi.spyOn(Buffer.prototype, 'indexOf').mockImplementation(function (this: Buffer, value, from, encoding): number {
    const start = typeof from === 'number' ? (from < 0 ? Math.max(0, this.length + from) : from) : 0;
    bytes += Math.max(0, this.length - start);
    return Reflect.apply<Buffer, unknown[], number>(indexOf, this, [value, from, encoding]);
  });
  try {
    run();
  } finally {
    vi.restoreAllMocks();
  }
  return bytes;
}

function feedInPieces(f: SipStreamFramer, stream: Buffer, pieceBytes: number): FramerResult[] {
  const out: FramerResult[] = [];
  for (let i = 0; i < stream.length; i += pieceBytes) out.push(...f.push(stream.subarray(i, i + pieceBytes)));
  return out;
}

function messages(results: FramerResult[]): Buffer[] {
  return results.flatMap((r) => {
    if (r.type === 'error') throw new Error(r.reason);
    return r.type === 'message' ? [r.bytes] : [];
  });
}

/** An INVITE with a large header block (many Via-like headers), as a PBX behind proxies sends. */
function bigInvite(): Buffer {
  const extra = Array.from({ length: 120 }, (_, i) => `X-Hop-${i}: ${'h'.repeat(80)}`);
  return invite({ extra });
}

describe('TCP stream framer: work per byte', () => {
  it('frames a message sent a byte at a time with work linear in its length', () => {
    const msg = bigInvite();
    const stream = Buffer.concat([msg, Buffer.from('\r\n\r\n'), msg]);
    const f = new SipStreamFramer(DEFAULT_SIP_LIMITS);
    let out: FramerResult[] = [];
    const work = bufferWork(() => {
      out = feedInPieces(f, stream, 1);
    });
    expect(messages(out)).toEqual([msg, msg]);
    expect(out.filter((r) => r.type === 'keepalive')).toHaveLength(2);
    expect(f.bufferedBytes).toBe(0);
    // each byte: searched once (with a few bytes of carried state) and copied twice at most
    expect(work).toBeLessThan(8 * stream.length);
  });

  it('holds a body arriving a byte at a time without re-reading it', () => {
    const body = 'v=0\r\n'.repeat(2000);
    const msg = invite({ body });
    const f = new SipStreamFramer(DEFAULT_SIP_LIMITS);
    let out: FramerResult[] = [];
    const work = bufferWork(() => {
      out = feedInPieces(f, msg, 1);
    });
    expect(messages(out)).toEqual([msg]);
    expect(work).toBeLessThan(8 * msg.length);
  });

  it('finds a header end split across chunks at every position, and messages back to back in one chunk', () => {
    const a = invite();
    const b = invite({ branch: 'z9hG4bK-2', body: '' });
    const stream = Buffer.concat([a, b, Buffer.from('\r\n'), a]);
    for (const piece of [1, 2, 3, 5, 7, 64, stream.length]) {
      const f = new SipStreamFramer(DEFAULT_SIP_LIMITS);
      expect(messages(feedInPieces(f, stream, piece))).toEqual([a, b, a]);
      expect(f.bufferedBytes).toBe(0);
    }
  });

  it('still bounds an endless header sent a byte at a time', () => {
    const f = new SipStreamFramer(DEFAULT_SIP_LIMITS);
    const endless = Buffer.alloc(DEFAULT_SIP_LIMITS.maxHeaderBytes + 10, 0x41);
    const out = feedInPieces(f, endless, 1);
    expect(out).toEqual([{ type: 'error', reason: 'header block too large' }]);
    expect(f.bufferedBytes).toBe(0);
  });
});

describe('TCP stream framer: Content-Length', () => {
  const head = ['OPTIONS sip:x@127.0.0.1 SIP/2.0', 'Via: SIP/2.0/TCP 10.0.0.1;branch=z9hG4bKa', 'f: <sip:a@b>;tag=1', 't: <sip:c@d>'];
  const tail = ['i: abc', 'CSeq: 7 OPTIONS', 'c: text/plain'];

  it('reads a folded Content-Length (RFC 3261 §7.3.1) as the parser does', () => {
    const msg = sip([...head, 'Content-Length:', '   5', ...tail], 'hello');
    const next = sip([...head, 'l: 0', ...tail.slice(0, 2)]);
    const f = new SipStreamFramer(DEFAULT_SIP_LIMITS);
    const out = messages(feedInPieces(f, Buffer.concat([msg, next]), 3));
    expect(out).toEqual([msg, next]);
    const parsed = parseSipMessage(out[0]!, DEFAULT_SIP_LIMITS, false);
    expect(parsed.ok && parsed.message.body.toString()).toBe('hello');
  });

  it('reads the compact form l, in any case, with space before the colon', () => {
    for (const line of ['l: 5', 'L:5', 'l : 5', 'Content-Length\t:\t5 ']) {
      const msg = sip([...head, line, ...tail], 'hello');
      const f = new SipStreamFramer(DEFAULT_SIP_LIMITS);
      expect(messages(f.push(msg))).toEqual([msg]);
    }
  });

  it('does not take a folded continuation line of another header for a Content-Length', () => {
    expect(streamContentLength(['INVITE sip:x SIP/2.0', 'Subject: a', ' l: 99', 'l: 3'].join('\r\n'))).toBe(3);
  });

  it('refuses a missing, malformed or conflicting Content-Length', () => {
    expect(streamContentLength(['INVITE sip:x SIP/2.0', 'Subject: l: 4'].join('\r\n'))).toBe(
      'Content-Length required on stream transports',
    );
    expect(streamContentLength(['INVITE sip:x SIP/2.0', 'Content-Length: 4', ' 2'].join('\r\n'))).toBe('bad Content-Length');
    expect(streamContentLength(['INVITE sip:x SIP/2.0', 'Content-Length: 4', 'l: 5'].join('\r\n'))).toBe('conflicting Content-Length');
    expect(streamContentLength(['INVITE sip:x SIP/2.0', 'Content-Length: 4', 'l: 4'].join('\r\n'))).toBe(4);
    const f = new SipStreamFramer(DEFAULT_SIP_LIMITS);
    expect(f.push(sip([...head, 'Content-Length: 4', 'l: 5', ...tail], 'hello'))).toEqual([
      { type: 'error', reason: 'conflicting Content-Length' },
    ]);
  });
});
