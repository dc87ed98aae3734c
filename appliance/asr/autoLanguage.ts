/**
 * Language `auto`: one stream per language model hears the same audio until the first seconds of
 * speech decide; then the losing stream is closed and the winner's events (held until then, in a
 * bounded queue) flow as if it had been the only stream. The evidence is each model's confidence
 * in its own hypothesis (exp of the mean token log-probability): a model hearing a language it
 * was not trained on spells it with low-confidence units. Measured by `make eval-asr-zh`.
 */
import { evxError } from '../errors.js';
import { TypedEmitter } from '../events/typedEmitter.js';
import type { SpeechStream } from './api.js';
import type { FinalEvent, StreamEvents, StreamStats } from './events.js';
import type { LanguageDecision, SpeechLanguage } from './language.js';

export interface AutoLanguageOptions {
  /** Speech heard (from the first partial of either model) before deciding without a final. */
  readonly decideAfterMs: number;
  /** The language chosen when the evidence is even (the site's default). */
  readonly preferred: SpeechLanguage;
}

export const DEFAULT_AUTO_LANGUAGE: AutoLanguageOptions = { decideAfterMs: 2500, preferred: 'en' };

/** Events held per candidate before the decision; partials beyond it are dropped (a newer one follows). */
const MAX_HELD_EVENTS = 64;

type HeldEvent = { [K in keyof StreamEvents]: { name: K; payload: StreamEvents[K] } }[keyof StreamEvents];

interface Candidate {
  readonly language: SpeechLanguage;
  readonly stream: SpeechStream;
  readonly held: HeldEvent[];
  confidence: number;
  heard: boolean;
  failed: boolean;
  readonly unsubscribe: (() => void)[];
}

export class AutoLanguageStream extends TypedEmitter<StreamEvents> implements SpeechStream {
  private readonly candidates: Candidate[];
  private readonly options: AutoLanguageOptions;
  private winner: Candidate | undefined;
  private firstSpeechMs: number | undefined;
  private closed = false;

  constructor(streams: Readonly<Record<SpeechLanguage, SpeechStream>>, options: AutoLanguageOptions = DEFAULT_AUTO_LANGUAGE) {
    super();
    this.options = options;
    this.candidates = (Object.keys(streams) as SpeechLanguage[]).map((language) => {
      const c: Candidate = { language, stream: streams[language], held: [], confidence: 0, heard: false, failed: false, unsubscribe: [] };
      for (const name of ['partial', 'final', 'keyword', 'error'] as const) {
        c.unsubscribe.push(c.stream.on(name, (payload) => this.onEvent(c, { name, payload } as HeldEvent)));
      }
      return c;
    });
  }

  /** The decision, once made. */
  get decision(): SpeechLanguage | undefined {
    return this.winner?.language;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  push(samples: Int16Array | Float32Array, arrivedAtMs?: number): void {
    if (this.closed) throw evxError('EVX_ERR_STREAM_CLOSED', 'push() on a closed recognition stream');
    for (const c of this.live()) c.stream.push(samples, arrivedAtMs);
  }

  async flush(): Promise<FinalEvent | null> {
    if (this.closed) throw evxError('EVX_ERR_STREAM_CLOSED', 'flush() on a closed recognition stream');
    if (this.winner !== undefined) return this.winner.stream.flush();
    const results = await Promise.all(this.live().map(async (c) => ({ c, final: await c.stream.flush().catch(() => null) })));
    if (this.winner === undefined) this.decide(this.maxSpeechMs());
    return results.find((r) => r.c === this.winner)?.final ?? null;
  }

  async whenIdle(): Promise<void> {
    await Promise.all(this.live().map((c) => c.stream.whenIdle()));
  }

  stats(): StreamStats {
    const live = this.live();
    if (live.length === 0) return this.candidates[0]!.stream.stats();
    // undecided: the candidate furthest behind speaks for the leg (it holds the leg's audio back)
    let worst = live[0]!.stream.stats();
    for (const c of live.slice(1)) {
      const s = c.stream.stats();
      if (s.lagMs > worst.lagMs) worst = s;
    }
    return { ...worst, listenerErrors: worst.listenerErrors + this.listenerErrors };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.candidates) {
      for (const u of c.unsubscribe) u();
      c.stream.close();
    }
  }

  private live(): Candidate[] {
    if (this.winner !== undefined) return [this.winner];
    return this.candidates.filter((c) => !c.failed && !c.stream.isClosed);
  }

  private onEvent(c: Candidate, ev: HeldEvent): void {
    if (this.winner !== undefined) {
      if (c === this.winner) this.forward(ev);
      return;
    }
    if (ev.name === 'error') {
      c.failed = true;
      const others = this.live();
      if (others.length === 0) return this.forward(ev);
      // the other model decides alone; this candidate's failure is not the leg's
      c.held.length = 0;
      return this.decide(this.maxSpeechMs());
    }
    this.hold(c, ev);
    if (ev.name === 'partial' || ev.name === 'final') {
      c.confidence = ev.payload.confidence;
      c.heard = true;
      const at = ev.name === 'partial' ? ev.payload.audioMs : ev.payload.endMs;
      this.firstSpeechMs ??= at;
      if (ev.name === 'final' || at - this.firstSpeechMs >= this.options.decideAfterMs) this.decide(at);
    }
  }

  private hold(c: Candidate, ev: HeldEvent): void {
    if (c.held.length >= MAX_HELD_EVENTS) {
      const i = c.held.findIndex((e) => e.name === 'partial');
      c.held.splice(i >= 0 ? i : 0, 1);
    }
    c.held.push(ev);
  }

  private maxSpeechMs(): number {
    let at = 0;
    for (const c of this.candidates) {
      for (const e of c.held) if (e.name === 'partial') at = Math.max(at, e.payload.audioMs);
    }
    return at;
  }

  private decide(atMs: number): void {
    const live = this.live();
    if (live.length === 0) return;
    let best = live.find((c) => c.language === this.options.preferred) ?? live[0]!;
    for (const c of live) if (c.confidence > best.confidence) best = c;
    const total = live.reduce((s, c) => s + c.confidence, 0);
    const decision: LanguageDecision = {
      language: best.language,
      confidence: total > 0 ? best.confidence / total : 1 / live.length,
      decidedAtMs: Math.round(atMs),
    };
    this.winner = best;
    for (const c of this.candidates) {
      if (c === best) continue;
      for (const u of c.unsubscribe) u();
      c.stream.close();
      c.held.length = 0;
    }
    this.emit('language', { type: 'language', ...decision });
    for (const ev of best.held.splice(0)) this.forward(ev);
  }

  private forward(ev: HeldEvent): void {
    this.emit(ev.name, ev.payload);
  }
}
