/**
 * Redaction across utterances on one call leg.
 *
 * A recogniser ends an utterance at a pause, and people pause while reading numbers out: a card
 * number arrives as "FOUR ONE ONE ONE" | "ONE ONE ONE ONE" | ... and each piece alone is too short
 * to be recognised as one. So a final that ends open (a digit run, "MY NAME IS", an e-mail cue —
 * Redactor.openEnding) is held, not released: the group of held finals is redacted together with
 * the next final (Redactor.redactJoined) and released in order, each final with its own share of
 * the placeholders and word timings. The group keeps growing while each new final ends open.
 *
 * The hold is bounded: the next utterance must start (a partial arrives) within `holdMs` of the
 * last held final, and its final must arrive within `maxHoldMs`; otherwise the group is released
 * as it is. At most `maxHeldFinals` finals are held. flush()/close() release what is held (leg end).
 * Only finals that end open are delayed; the release reports how long each one waited.
 *
 * Partials of the next utterance are redacted with the held finals as context, so digits that
 * continue a held number are masked in the partial too.
 */
import type { OpenEnding, RedactionPart, RedactionResult, TimedWord } from './redactor.js';

/** What the leg needs from the redactor (the Redactor class implements it). */
export interface JoinedRedactor {
  redactJoined(parts: readonly RedactionPart[]): RedactionResult[];
  redactPartial(text: string, context?: readonly string[]): RedactionResult;
  openEnding(text: string): OpenEnding | null;
}

export interface LegRedactionOptions {
  /** How long the next utterance may take to start after a held final; 0 = never hold. */
  holdMs: number;
  /** How long a held final may wait at most, once the next utterance has started (default 4 × holdMs). */
  maxHoldMs?: number;
  /** Most finals held in one group (default 8). */
  maxHeldFinals?: number;
  now?: () => number;
}

/** A final as released: the source (raw, for in-memory analysis only) and its redacted text and words. */
export interface ReleasedFinal<T> {
  source: T;
  text: string;
  words: TimedWord[];
  /** How long this final was held before release, ms (0: released as it arrived). */
  heldMs: number;
}

export interface LegRedactionStats {
  finals: number;
  /** Finals that were held (ended open) before release. */
  held: number;
  heldMsTotal: number;
  heldMsMax: number;
  /** Groups released because the next utterance did not come in time. */
  timeouts: number;
}

interface Held<T> {
  final: T;
  at: number;
  /** It ended open and waited for a following final (the one that closes a group does not). */
  waited: boolean;
}

export class LegRedaction<T extends { text: string; words: readonly TimedWord[] }> {
  private held: Held<T>[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** A partial arrived after the last held final: the next utterance has started. */
  private resumed = false;
  private deadline = 0;
  private closed = false;
  private readonly maxHoldMs: number;
  private readonly maxHeldFinals: number;
  readonly stats: LegRedactionStats = { finals: 0, held: 0, heldMsTotal: 0, heldMsMax: 0, timeouts: 0 };

  constructor(
    private readonly redactor: JoinedRedactor,
    private readonly options: LegRedactionOptions,
    private readonly release: (finals: ReleasedFinal<T>[]) => void,
  ) {
    this.maxHoldMs = Math.max(options.holdMs, options.maxHoldMs ?? 4 * options.holdMs);
    this.maxHeldFinals = Math.max(1, options.maxHeldFinals ?? 8);
  }

  /** Finals waiting for the next utterance. */
  get heldCount(): number {
    return this.held.length;
  }

  /** A final from the recogniser: released now, or held (with the group before it) when it ends open. */
  final(t: T): void {
    this.stats.finals++;
    const now = this.now();
    const entry: Held<T> = { final: t, at: now, waited: false };
    this.held.push(entry);
    // Judged on the group so far: "MY EMAIL IS" | "MARY DOT JONES" still ends inside an address.
    const hold =
      !this.closed && this.options.holdMs > 0 && this.held.length < this.maxHeldFinals && this.redactor.openEnding(this.held.map((h) => h.final.text).join(' ')) !== null;
    if (!hold) {
      this.releaseHeld(false);
      return;
    }
    entry.waited = true;
    this.resumed = false;
    this.deadline = now + this.maxHoldMs;
    this.arm(this.options.holdMs);
  }

  /** The redacted text of a partial; it also tells a hold that the next utterance has started. */
  partial(text: string): string {
    if (this.held.length === 0) return this.redactor.redactPartial(text).text;
    if (text.trim() !== '') this.resumed = true;
    return this.redactor.redactPartial(
      text,
      this.held.map((h) => h.final.text),
    ).text;
  }

  /** Release what is held now. */
  flush(): void {
    this.releaseHeld(false);
  }

  /** Release what is held; later finals are released as they arrive. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.flush();
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private arm(ms: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, ms));
    this.timer.unref?.();
  }

  private onTimer(): void {
    this.timer = null;
    const left = this.deadline - this.now();
    // The next utterance has started: wait for its final, up to the deadline.
    if (this.resumed && left > 0 && this.held.length > 0) {
      this.arm(left);
      return;
    }
    this.releaseHeld(true);
  }

  private releaseHeld(timeout: boolean): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.held.length === 0) return;
    const group = this.held;
    this.held = [];
    this.resumed = false;
    if (timeout) this.stats.timeouts++;
    const results = this.redactor.redactJoined(group.map((h) => ({ text: h.final.text, words: h.final.words })));
    const now = this.now();
    const out = group.map((h, i) => {
      const r = results[i]!;
      const heldMs = Math.max(0, now - h.at);
      if (h.waited) {
        this.stats.held++;
        this.stats.heldMsTotal += heldMs;
        this.stats.heldMsMax = Math.max(this.stats.heldMsMax, heldMs);
      }
      return { source: h.final, text: r.text, words: r.words, heldMs };
    });
    this.release(out);
  }
}
