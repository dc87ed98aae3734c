/**
 * RFC 4733 telephone-event decoding: turns the stream of event packets (start, updates, three
 * redundant end packets) into one DTMF event per key press. An event whose end packets were all lost
 * is still reported when the next event (a new RTP timestamp) starts, or on `flush()`.
 *
 * A key held longer than the duration field holds (0xFFFF timestamp units, about 8 s at 8 kHz) is
 * sent in segments (RFC 4733 §2.5.1.3): the next segment carries the same event with the timestamp
 * advanced by 0xFFFF, its duration counted from there, and only the last one sets the E bit. Such
 * a segment continues the open event (one key press, its whole duration, its first timestamp)
 * rather than starting a new one.
 */

export interface DtmfEvent {
  /** '0'-'9', '*', '#', 'A'-'D', or 'flash'. */
  readonly digit: string;
  readonly durationMs: number;
  readonly volumeDbm0: number;
  /** RTP timestamp of the event start. */
  readonly rtpTimestamp: number;
  /** False when the end packets never arrived. */
  readonly ended: boolean;
}

const DIGITS = '0123456789*#ABCD';
/** The longest duration one packet can carry: a longer event continues in a new segment. */
const MAX_SEGMENT_DURATION = 0xffff;

export function eventCodeToDigit(code: number): string | undefined {
  if (code < 16) return DIGITS[code];
  if (code === 16) return 'flash';
  return undefined;
}

export class DtmfDecoder {
  /** RTP timestamp of the open event's first segment (-1: none open). */
  private currentTs = -1;
  /** RTP timestamp of the open event's segment being received. */
  private segmentTs = -1;
  private currentCode = -1;
  /** Duration of the open event's earlier segments, timestamp units. */
  private earlierSegments = 0;
  private currentDuration = 0;
  private currentVolume = 0;
  private reported = new Set<number>();
  private readonly recent: number[] = [];

  constructor(
    private readonly clockHz: number,
    private readonly onEvent: (e: DtmfEvent) => void,
  ) {}

  /** Feed one telephone-event payload with its RTP timestamp. Malformed payloads are ignored (returns false). */
  push(payload: Uint8Array, rtpTimestamp: number): boolean {
    if (payload.length < 4) return false;
    const code = payload[0]!;
    const end = (payload[1]! & 0x80) !== 0;
    const volume = payload[1]! & 0x3f;
    const duration = (payload[2]! << 8) | payload[3]!;
    if (eventCodeToDigit(code) === undefined) return false;
    if (this.reported.has(rtpTimestamp)) return true; // redundant end packets
    if (this.isEarlierSegment(code, rtpTimestamp)) return true; // late, its segment is over
    if (this.continuesOpenEvent(code, rtpTimestamp)) {
      this.earlierSegments += MAX_SEGMENT_DURATION;
      this.segmentTs = rtpTimestamp;
      this.currentDuration = 0;
    } else if (rtpTimestamp !== this.segmentTs) {
      this.flush();
      this.currentTs = rtpTimestamp;
      this.segmentTs = rtpTimestamp;
      this.currentCode = code;
    }
    this.currentDuration = Math.max(this.currentDuration, duration);
    this.currentVolume = volume;
    if (end) this.report(true);
    return true;
  }

  /** Report an event still open (end packets lost). */
  flush(): void {
    if (this.segmentTs >= 0 && !this.reported.has(this.segmentTs)) this.report(false);
    this.currentTs = -1;
    this.segmentTs = -1;
    this.earlierSegments = 0;
    this.currentDuration = 0;
  }

  /** The next segment of the open, unfinished event: same event, timestamp one full segment later. */
  private continuesOpenEvent(code: number, rtpTimestamp: number): boolean {
    if (this.segmentTs < 0 || code !== this.currentCode || this.reported.has(this.segmentTs)) return false;
    return rtpTimestamp === (this.segmentTs + MAX_SEGMENT_DURATION) >>> 0;
  }

  /** A packet of the open event's previous segment, arriving after the next segment began (reordered). */
  private isEarlierSegment(code: number, rtpTimestamp: number): boolean {
    if (this.earlierSegments === 0 || code !== this.currentCode) return false;
    return rtpTimestamp === (this.segmentTs - MAX_SEGMENT_DURATION) >>> 0;
  }

  private report(ended: boolean): void {
    const digit = eventCodeToDigit(this.currentCode);
    if (digit === undefined) return;
    // the redundant end packets repeat the last segment's timestamp
    this.reported.add(this.segmentTs);
    this.recent.push(this.segmentTs);
    if (this.recent.length > 16) this.reported.delete(this.recent.shift()!);
    const e: DtmfEvent = {
      digit,
      durationMs: Math.round(((this.earlierSegments + this.currentDuration) * 1000) / this.clockHz),
      volumeDbm0: -this.currentVolume,
      rtpTimestamp: this.currentTs,
      ended,
    };
    this.onEvent(e);
  }
}

/** Encode one telephone-event payload (used by tests and by DTMF sending). */
export function encodeTelephoneEvent(code: number, end: boolean, volume: number, duration: number): Uint8Array {
  return Uint8Array.of(code, (end ? 0x80 : 0) | (volume & 0x3f), (duration >> 8) & 0xff, duration & 0xff);
}
