/**
 * RFC 4733 telephone-event decoding: turns the stream of event packets (start, updates, three
 * redundant end packets) into one DTMF event per key press. An event whose end packets were all lost
 * is still reported when the next event (a new RTP timestamp) starts, or on `flush()`.
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

export function eventCodeToDigit(code: number): string | undefined {
  if (code < 16) return DIGITS[code];
  if (code === 16) return 'flash';
  return undefined;
}

export class DtmfDecoder {
  private currentTs = -1;
  private currentCode = -1;
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
    if (rtpTimestamp !== this.currentTs) {
      this.flush();
      this.currentTs = rtpTimestamp;
      this.currentCode = code;
    }
    this.currentDuration = Math.max(this.currentDuration, duration);
    this.currentVolume = volume;
    if (end) this.report(true);
    return true;
  }

  /** Report an event still open (end packets lost). */
  flush(): void {
    if (this.currentTs >= 0 && !this.reported.has(this.currentTs)) this.report(false);
    this.currentTs = -1;
    this.currentDuration = 0;
  }

  private report(ended: boolean): void {
    const digit = eventCodeToDigit(this.currentCode);
    if (digit === undefined) return;
    this.reported.add(this.currentTs);
    this.recent.push(this.currentTs);
    if (this.recent.length > 16) this.reported.delete(this.recent.shift()!);
    const e: DtmfEvent = {
      digit,
      durationMs: Math.round((this.currentDuration * 1000) / this.clockHz),
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
