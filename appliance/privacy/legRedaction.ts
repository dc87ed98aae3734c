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
 * The hold is bounded twice:
 * - the next utterance must start (a partial arrives) within `holdMs` of the last held final, or
 *   the group is released as it is (the number was complete);
 * - no final waits more than `maxHoldMs`: when the oldest held final reaches it, the group is
 *   released with a trailing digit run masked (it is still being read out), and its raw text stays
 *   in memory as context for the next final, so the rest of the number is still recognised as one.
 * At most `maxHeldFinals` finals are held. flush()/close() release what is held (leg end). Only
 * finals that end open are delayed; the release reports how long each one waited.
 *
 * Partials of the next utterance are redacted with the held finals (and the context) before them,
 * so digits that continue a held number are masked in the partial too.
 *
 * Each final's language and (Mandarin) pinyin go with its text to the redactor, for holding and for
 * redaction: a Mandarin number split over two finals (我的手机号是幺三八 | 一二三四五六七八) is held
 * and redacted as one like an English one. A partial has no language of its own: the last final's
 * is used.
 */
import type { SpeechLanguage } from '../asr/language.js';
import type { JoinedOptions, OpenEnding, RedactionPart, RedactionResult, TimedWord } from './redactor.js';

/** What the leg needs from the redactor (the Redactor class implements it). */
export interface JoinedRedactor {
  redactJoined(parts: readonly RedactionPart[], options?: JoinedOptions): RedactionResult[];
  redactPartial(text: string, context?: readonly (string | RedactionPart)[], language?: SpeechLanguage): RedactionResult;
  /** Given parts: each with its language (and Chinese pinyin), joined by the redactor. */
  openEnding(text: string | readonly RedactionPart[]): OpenEnding | null;
}

/** What the leg reads of a final: its text and words, and for Chinese its language and pinyin. */
export interface RedactableFinal {
  text: string;
  words: readonly TimedWord[];
  language?: SpeechLanguage | undefined;
  pinyin?: string | undefined;
}

export interface LegRedactionOptions {
  /** How long the next utterance may take to start after a held final; 0 = never hold. */
  holdMs: number;
  /** Longest any final is held (default 3 × holdMs). */
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
  /** Groups released because the next utterance did not start in time. */
  timeouts: number;
  /** Groups released because their oldest final reached maxHoldMs. */
  maxedOut: number;
}

interface Held<T> {
  final: T;
  at: number;
  /** It ended open and waited for a following final (the one that closes a group does not). */
  waited: boolean;
}

/** Finals kept as context after a group was released at maxHoldMs. */
const MAX_CONTEXT_FINALS = 8;

export class LegRedaction<T extends RedactableFinal> {
  private held: Held<T>[] = [];
  /** Raw finals released at maxHoldMs while their value went on (text, language, pinyin), and when the last arrived. */
  private context: RedactionPart[] = [];
  private contextAt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** A partial arrived after the last held final: the next utterance has started. */
  private resumed = false;
  private lastAt = 0;
  /** The language of the last final: partials carry none of their own. */
  private language: SpeechLanguage | undefined;
  private closed = false;
  private readonly maxHoldMs: number;
  private readonly maxHeldFinals: number;
  readonly stats: LegRedactionStats = { finals: 0, held: 0, heldMsTotal: 0, heldMsMax: 0, timeouts: 0, maxedOut: 0 };

  constructor(
    private readonly redactor: JoinedRedactor,
    private readonly options: LegRedactionOptions,
    private readonly release: (finals: ReleasedFinal<T>[]) => void,
  ) {
    this.maxHoldMs = Math.max(options.holdMs, options.maxHoldMs ?? 3 * options.holdMs);
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
    // Context from a group released at maxHoldMs applies to the finals that go on from it, not to one much later.
    if (this.held.length === 0 && this.context.length > 0 && now - this.contextAt > this.maxHoldMs) this.context = [];
    const entry: Held<T> = { final: t, at: now, waited: false };
    this.held.push(entry);
    this.language = t.language;
    // Judged on the run so far: "MY EMAIL IS" | "MARY DOT JONES" still ends inside an address.
    const hold =
      !this.closed &&
      this.options.holdMs > 0 &&
      this.held.length < this.maxHeldFinals &&
      this.redactor.openEnding([...this.context, ...this.held.map((h) => partOf(h.final))]) !== null;
    if (!hold) {
      this.releaseHeld('ended');
      return;
    }
    entry.waited = true;
    this.resumed = false;
    this.lastAt = now;
    this.schedule();
  }

  /** The redacted text of a partial; it also tells a hold that the next utterance has started. */
  partial(text: string): string {
    const before = [...this.context, ...this.held.map((h) => partOf(h.final))];
    if (this.held.length > 0 && !this.resumed && text.trim() !== '') {
      this.resumed = true;
      this.schedule();
    }
    return this.redactor.redactPartial(text, before, this.language).text;
  }

  /** Release what is held now. */
  flush(): void {
    this.releaseHeld('ended');
  }

  /** Release what is held; later finals are released as they arrive. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    this.context = [];
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Wake at the nearer bound: the next utterance not started in time, or the oldest final at maxHoldMs. */
  private schedule(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const oldest = this.held[0];
    if (oldest === undefined) return;
    const due = Math.min(this.resumed ? Infinity : this.lastAt + this.options.holdMs, oldest.at + this.maxHoldMs);
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, due - this.now()));
    this.timer.unref?.();
  }

  private onTimer(): void {
    this.timer = null;
    const oldest = this.held[0];
    if (oldest === undefined) return;
    const now = this.now();
    if (!this.resumed && now >= this.lastAt + this.options.holdMs) {
      this.stats.timeouts++;
      this.releaseHeld('ended');
    } else if (now >= oldest.at + this.maxHoldMs) {
      this.stats.maxedOut++;
      this.releaseHeld('maxed');
    } else this.schedule();
  }

  private releaseHeld(why: 'ended' | 'maxed'): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.held.length === 0) return;
    const group = this.held;
    this.held = [];
    const context = this.context;
    const parts = group.map((h) => ({ ...partOf(h.final), words: h.final.words }));
    const results = this.redactor.redactJoined(parts, { context, openTail: why === 'maxed' });
    if (why === 'maxed') {
      // The value goes on in the next final: keep this run's raw text (memory only) as its context.
      this.context = [...context, ...group.map((h) => partOf(h.final))].slice(-MAX_CONTEXT_FINALS);
      this.contextAt = group[group.length - 1]!.at;
    } else {
      this.context = [];
      this.resumed = false;
    }
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

/** A final as a part for the redactor: text, and for Chinese its language and pinyin (no words). */
function partOf(f: RedactableFinal): RedactionPart {
  return {
    text: f.text,
    ...(f.language !== undefined ? { language: f.language } : {}),
    ...(f.pinyin !== undefined ? { pinyin: f.pinyin } : {}),
  };
}
