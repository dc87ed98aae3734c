/**
 * The transcript stage of a call leg: feeds the leg's audio to its transcriber, redacts what it
 * hears (finals that end open are held so a value split across utterances is redacted as one),
 * publishes partials, stores and publishes finals (redacted text only), raises keyword events,
 * and turns a failing transcriber into a supervisor alert while the call goes on. Every stored
 * final is handed, unredacted and in memory only, to `onStored` (the analysis stage).
 */
import type { LanguageChoice, LanguageDecision } from '../asr/language.js';
import { LegRedaction, type JoinedRedactor } from '../privacy/legRedaction.js';
import type { LegContext } from './legContext.js';
import type { LegTranscriber, TranscriberFactory, TranscriberStats, TranscriptFinal } from './transcriber.js';

export interface LegTranscriptOptions {
  readonly factory: TranscriberFactory | null;
  readonly redactor?: (JoinedRedactor & { readonly holdMs: number; readonly maxHoldMs?: number }) | undefined;
  readonly hotwords: readonly string[];
  /** The leg's speech language (its call's); absent = the transcriber's default. */
  readonly language?: LanguageChoice | undefined;
  /** `auto` decided this leg's language. */
  readonly onLanguage?: ((decision: LanguageDecision) => void) | undefined;
  /** A stored final (unredacted `t`, in memory only) and the id it was stored under. */
  readonly onStored: (t: TranscriptFinal, utteranceId: number | null) => void;
  /** Recognition failed on this leg (counted by the call manager). */
  readonly onFailed: () => void;
}

export class LegTranscript {
  private readonly transcriber: LegTranscriber | null;
  private readonly redaction: LegRedaction<TranscriptFinal> | null;
  private failed = false;

  constructor(
    private readonly leg: LegContext,
    private readonly options: LegTranscriptOptions,
  ) {
    const redactor = options.redactor;
    this.redaction =
      redactor === undefined
        ? null
        : new LegRedaction<TranscriptFinal>(
            redactor,
            {
              holdMs: redactor.holdMs,
              ...(redactor.maxHoldMs !== undefined ? { maxHoldMs: redactor.maxHoldMs } : {}),
              now: () => leg.now(),
            },
            (finals) => {
              for (const f of finals) this.storeFinal(f.source, f.text, f.words, f.heldMs);
            },
          );
    this.transcriber =
      options.factory === null
        ? null
        : options.factory(
            {
              callId: leg.callId,
              legId: leg.legId,
              speaker: leg.speaker,
              sampleRateHz: leg.sampleRateHz,
              hotwords: options.hotwords,
              ...(options.language === undefined ? {} : { language: options.language }),
            },
            {
              partial: (text, latencyMs) => this.onPartial(text, latencyMs),
              final: (t) => (this.redaction !== null ? this.redaction.final(t) : this.storeFinal(t, t.text, t.words, 0)),
              keyword: (k) =>
                leg.publish({
                  type: 'asr.keyword',
                  at: leg.now(),
                  callId: leg.callId,
                  legId: leg.legId,
                  speaker: leg.speaker,
                  phrase: k.phrase,
                  startMs: k.startMs,
                  score: k.score,
                }),
              failed: (code, recoverable) => this.onFailed(code, recoverable),
              language: (decision) => options.onLanguage?.(decision),
            },
          );
  }

  write(samples: Int16Array, sampleRateHz: number): void {
    if (!this.failed) this.transcriber?.write(samples, sampleRateHz);
  }

  /** Audio waiting to be recognised (ms). */
  lagMs(): number {
    return this.transcriber?.lagMs() ?? 0;
  }

  /**
   * Flush the transcriber (its last final is stored) and release held finals. Returns the leg's
   * recognition and redaction figures for its quality record.
   */
  async close(): Promise<{ stats: TranscriberStats | null; quality: Record<string, number> }> {
    try {
      await this.transcriber?.close();
    } finally {
      this.redaction?.close();
    }
    const quality: Record<string, number> = {};
    if (this.redaction !== null && this.redaction.stats.held > 0) {
      const r = this.redaction.stats;
      Object.assign(quality, {
        redactionHeldFinals: r.held,
        redactionHeldMsMax: r.heldMsMax,
        redactionHeldMsMean: Math.round(r.heldMsTotal / r.held),
      });
    }
    const stats = this.transcriber?.stats() ?? null;
    if (stats !== null)
      Object.assign(quality, {
        asrDroppedFrames: stats.droppedFrames,
        asrDecodedMs: stats.decodedMs,
        asrSkippedMs: stats.skippedMs,
        asrChunkLatencyP95Ms: stats.chunkLatencyP95Ms,
      });
    return { stats, quality };
  }

  private onPartial(raw: string, latencyMs: number | undefined): void {
    const leg = this.leg;
    leg.publish({
      type: 'asr.partial',
      at: leg.now(),
      callId: leg.callId,
      legId: leg.legId,
      speaker: leg.speaker,
      text: this.redaction?.partial(raw) ?? raw,
      latencyMs: latencyMs ?? null,
    });
  }

  /**
   * Store and publish a final: only the redacted text and words; `t` (raw) goes to analysis. The
   * pinyin of a Mandarin final is kept only when redaction left the text as it was: it spells what
   * was said, so it would carry what redaction removed.
   */
  private storeFinal(t: TranscriptFinal, text: string, words: TranscriptFinal['words'], heldMs: number): void {
    const leg = this.leg;
    const language = t.language ?? 'en';
    const pinyin = language === 'zh' && t.pinyin !== undefined && t.pinyin !== '' && text === t.text ? t.pinyin : undefined;
    const utteranceId =
      leg.persist('utterances.insert', () =>
        leg.store.utterances.insert({
          callId: leg.callId,
          legId: leg.legId,
          speaker: leg.speaker,
          startMs: t.startMs,
          endMs: t.endMs,
          text,
          words,
          confidence: t.confidence,
          analysis: {},
          createdAt: leg.now(),
          language,
          pinyin: pinyin ?? null,
        }),
      ) ?? null;
    leg.publish({
      type: 'asr.final',
      at: leg.now(),
      callId: leg.callId,
      legId: leg.legId,
      speaker: leg.speaker,
      utteranceId,
      text,
      words,
      startMs: t.startMs,
      endMs: t.endMs,
      confidence: t.confidence,
      // End of speech to this final being published: a final held for redaction waited heldMs more.
      latencyMs: t.latencyMs + heldMs,
      language,
      ...(pinyin === undefined ? {} : { pinyin }),
    });
    this.options.onStored(t, utteranceId);
  }

  /** The leg carries on without transcripts; supervisors are told, other calls are unaffected. */
  private onFailed(code: string, recoverable: boolean): void {
    const leg = this.leg;
    if (!recoverable) this.failed = true;
    this.options.onFailed();
    leg.persist('calls.meta', () =>
      leg.store.calls.mergeMeta(leg.callId, { transcription: { legId: leg.legId, [recoverable ? 'gap' : 'failed']: code } }),
    );
    leg.publish({
      type: 'alert',
      at: leg.now(),
      callId: leg.callId,
      kind: recoverable ? 'transcription-gap' : 'transcription-failed',
      severity: 'warning',
      message: recoverable
        ? 'Speech recognition restarted on a call leg; part of the transcript is missing'
        : 'Speech recognition failed on a call leg; the call continues without a transcript',
      details: { legId: leg.legId, code },
    });
  }
}
