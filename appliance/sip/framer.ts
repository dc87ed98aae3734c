/**
 * SIP stream framing for TCP (RFC 3261 §18.3): split a byte stream into messages using the header
 * terminator and the mandatory Content-Length. Leading CRLFs (keep-alive pings, RFC 5626 §3.5.1)
 * are skipped. The buffer is bounded: a peer that sends an endless header or a huge Content-Length
 * gets an error and the connection is closed by the transport.
 *
 * Linear in the bytes received, however they are segmented: chunks are kept in a list (joined once
 * the header is complete, and once more for the message), and each chunk is searched for the end of
 * the header once, with what the previous bytes left of a CRLFCRLF carried over. Before, a message
 * sent a byte at a time was re-joined and re-searched from its start on every byte.
 */
import type { SipParseLimits } from './parser.js';

export type FramerResult =
  | { readonly type: 'message'; readonly bytes: Buffer }
  | { readonly type: 'keepalive' }
  | { readonly type: 'error'; readonly reason: string };

const CR = 0x0d;
const LF = 0x0a;
const HEADER_END = Buffer.from('\r\n\r\n');
const LONE_CR = Buffer.from('\r');

export class SipStreamFramer {
  /** The bytes of the message being received, in arrival order. */
  private chunks: Buffer[] = [];
  private held = 0;
  /** How many bytes of a CRLFCRLF the bytes held so far end with (0-3), while the header is incomplete. */
  private terminatorRun = 0;
  /** Header length + 4 + Content-Length once the header is complete; -1 before. */
  private frameBytes = -1;
  /** A CR between messages whose LF has not come yet (half of a keep-alive CRLF). */
  private pendingCr = false;
  private failed = false;

  constructor(private readonly limits: SipParseLimits) {}

  /** Feed bytes; returns the complete frames they finish (in order). After an error, feeds nothing. */
  push(chunk: Buffer): FramerResult[] {
    const out: FramerResult[] = [];
    let rest: Buffer | undefined = chunk;
    while (rest !== undefined && rest.length > 0 && !this.failed) rest = this.take(rest, out);
    return out;
  }

  /** Bytes currently held (bounded by limits). */
  get bufferedBytes(): number {
    return this.held + (this.pendingCr ? 1 : 0);
  }

  /** Take `input` into the current message; returns what follows a message it completes. */
  private take(input: Buffer, out: FramerResult[]): Buffer | undefined {
    const data = this.held === 0 ? this.skipKeepalives(input, out) : input;
    if (data.length === 0) return undefined;
    this.chunks.push(data);
    this.held += data.length;
    if (this.frameBytes < 0 && !this.findFrameLength(data, out)) return undefined;
    if (this.held < this.frameBytes) return undefined;
    return this.emitMessage(out);
  }

  /** Between messages: drop CRLF pairs (one `keepalive` per run of them); returns the bytes after them. */
  private skipKeepalives(input: Buffer, out: FramerResult[]): Buffer {
    let at = 0;
    let pairs = 0;
    if (this.pendingCr) {
      this.pendingCr = false;
      if (input[0] === LF) {
        at = 1;
        pairs++;
      } else {
        // not a keep-alive after all: the CR starts the message
        this.chunks.push(LONE_CR);
        this.held = 1;
        this.terminatorRun = 1;
        return input;
      }
    }
    while (at + 1 < input.length && input[at] === CR && input[at + 1] === LF) {
      at += 2;
      pairs++;
    }
    if (pairs > 0) out.push({ type: 'keepalive' });
    if (at === input.length - 1 && input[at] === CR) {
      this.pendingCr = true;
      at++;
    }
    return input.subarray(at);
  }

  /** Search the new chunk for the header's end; once found, read the frame's length. False while incomplete or failed. */
  private findFrameLength(data: Buffer, out: FramerResult[]): boolean {
    const endInChunk = headerEndIn(data, this.terminatorRun);
    if (endInChunk < 0) {
      this.terminatorRun = terminatorRunAfter(data, this.terminatorRun);
      if (this.held > this.limits.maxHeaderBytes) this.fail(out, 'header block too large');
      return false;
    }
    const headerBytes = this.held - data.length + endInChunk - HEADER_END.length;
    if (headerBytes > this.limits.maxHeaderBytes) return this.fail(out, 'header block too large');
    const joined = Buffer.concat(this.chunks, this.held);
    this.chunks = [joined];
    const bodyBytes = streamContentLength(joined.toString('latin1', 0, headerBytes));
    if (typeof bodyBytes === 'string') return this.fail(out, bodyBytes);
    if (bodyBytes > this.limits.maxBodyBytes) return this.fail(out, 'body too large');
    this.frameBytes = headerBytes + HEADER_END.length + bodyBytes;
    return true;
  }

  /** The message is complete: hand it out (a copy of its own) and start the next with what follows it. */
  private emitMessage(out: FramerResult[]): Buffer | undefined {
    out.push({ type: 'message', bytes: Buffer.concat(this.chunks, this.frameBytes) });
    // bytes past the frame are all in the last chunk: the frame was checked after each chunk
    const last = this.chunks[this.chunks.length - 1]!;
    const extra = this.held - this.frameBytes;
    this.reset();
    return extra > 0 ? last.subarray(last.length - extra) : undefined;
  }

  private reset(): void {
    this.chunks = [];
    this.held = 0;
    this.terminatorRun = 0;
    this.frameBytes = -1;
  }

  private fail(out: FramerResult[], reason: string): false {
    this.failed = true;
    this.reset();
    this.pendingCr = false;
    out.push({ type: 'error', reason });
    return false;
  }
}

/** One step of matching CRLFCRLF: how much of it is matched after `byte`, given `run` matched before. */
function advanceTerminator(run: number, byte: number): number {
  if (byte === HEADER_END[run]) return run + 1;
  return byte === CR ? 1 : 0;
}

/**
 * Offset in `chunk` just past the first CRLFCRLF of the stream, given that the bytes before the
 * chunk ended with `run` bytes of one; -1 when the chunk completes none.
 */
function headerEndIn(chunk: Buffer, run: number): number {
  // a terminator begun in earlier chunks ends within the chunk's first three bytes, or not at all
  for (let i = 0; i < chunk.length && i < HEADER_END.length - 1 && run > 0; i++) {
    run = advanceTerminator(run, chunk[i]!);
    if (run === HEADER_END.length) return i + 1;
  }
  const at = chunk.indexOf(HEADER_END);
  return at < 0 ? -1 : at + HEADER_END.length;
}

/** How many bytes of a CRLFCRLF the stream ends with after `chunk` (which completed none). */
function terminatorRunAfter(chunk: Buffer, run: number): number {
  // at most three bytes of it can be pending, so a long chunk's last three decide alone
  const from = chunk.length >= HEADER_END.length - 1 ? chunk.length - (HEADER_END.length - 1) : 0;
  let state = from === 0 ? run : 0;
  for (let i = from; i < chunk.length; i++) state = advanceTerminator(state, chunk[i]!);
  return state;
}

/**
 * The body length a stream message's header block declares: Content-Length or its compact form
 * `l`, unfolded like the parser does (§7.3.1: a line starting with SP or HTAB continues the header),
 * so the framer and the parser agree on where the message ends. A reason string when missing,
 * malformed or given twice with different values (§20.14, and request smuggling).
 */
export function streamContentLength(head: string): number | string {
  let value: string | undefined;
  const lines = head.split('\r\n');
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i]!.indexOf(':');
    if (colon <= 0 || !isContentLengthName(lines[i]!.slice(0, colon))) continue;
    let v = lines[i]!.slice(colon + 1);
    while (i + 1 < lines.length && /^[ \t]/.test(lines[i + 1]!)) v += ' ' + lines[++i]!;
    v = v.trim();
    if (value !== undefined && v !== value) return 'conflicting Content-Length';
    value = v;
  }
  if (value === undefined) return 'Content-Length required on stream transports';
  if (!/^[0-9]{1,9}$/.test(value)) return 'bad Content-Length';
  return Number(value);
}

function isContentLengthName(raw: string): boolean {
  const name = raw.trimEnd().toLowerCase();
  return name === 'content-length' || name === 'l';
}
