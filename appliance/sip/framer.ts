/**
 * SIP stream framing for TCP (RFC 3261 §18.3): split a byte stream into messages using the header
 * terminator and the mandatory Content-Length. Leading CRLFs (keep-alive pings, RFC 5626 §3.5.1)
 * are skipped. The buffer is bounded: a peer that sends an endless header or a huge Content-Length
 * gets an error and the connection is closed by the transport.
 */
import { findHeaderEnd, type SipParseLimits } from './parser.js';

export type FramerResult =
  | { readonly type: 'message'; readonly bytes: Buffer }
  | { readonly type: 'keepalive' }
  | { readonly type: 'error'; readonly reason: string };

const CL_RE = /^(?:content-length|l)[ \t]*:[ \t]*([0-9]+)[ \t]*$/im;

export class SipStreamFramer {
  private buf: Buffer = Buffer.alloc(0);
  private failed = false;

  constructor(private readonly limits: SipParseLimits) {}

  /** Feed bytes; returns the complete frames they finish (in order). After an error, feeds nothing. */
  push(chunk: Buffer): FramerResult[] {
    if (this.failed) return [];
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: FramerResult[] = [];
    for (;;) {
      let skip = 0;
      while (skip + 1 < this.buf.length && this.buf[skip] === 0x0d && this.buf[skip + 1] === 0x0a) skip += 2;
      if (skip > 0) {
        this.buf = this.buf.subarray(skip);
        out.push({ type: 'keepalive' });
      }
      if (this.buf.length === 0) break;
      const headerEnd = findHeaderEnd(this.buf);
      if (headerEnd < 0) {
        if (this.buf.length > this.limits.maxHeaderBytes) return this.error(out, 'header block too large');
        break;
      }
      if (headerEnd > this.limits.maxHeaderBytes) return this.error(out, 'header block too large');
      const head = this.buf.toString('latin1', 0, headerEnd);
      const m = CL_RE.exec(head);
      if (m === null) return this.error(out, 'Content-Length required on stream transports');
      const bodyLen = Number(m[1]);
      if (!Number.isSafeInteger(bodyLen) || bodyLen > this.limits.maxBodyBytes) return this.error(out, 'body too large');
      const total = headerEnd + 4 + bodyLen;
      if (this.buf.length < total) break;
      out.push({ type: 'message', bytes: Buffer.from(this.buf.subarray(0, total)) });
      this.buf = this.buf.subarray(total);
    }
    if (this.buf.length === 0) this.buf = Buffer.alloc(0);
    return out;
  }

  /** Bytes currently held (bounded by limits). */
  get bufferedBytes(): number {
    return this.buf.length;
  }

  private error(out: FramerResult[], reason: string): FramerResult[] {
    this.failed = true;
    this.buf = Buffer.alloc(0);
    out.push({ type: 'error', reason });
    return out;
  }
}
