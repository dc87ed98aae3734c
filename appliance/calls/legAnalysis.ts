/**
 * The analysis stage of a call leg: keeps the leg's recent audio, runs every utterance analyser
 * (intent, emotion, ...) on each final off the media path, stores each result with its utterance
 * and publishes it once — as the analyser's own typed event (`intent`, `emotion`) or, for an
 * analyser without one, as a generic `analysis` event. Ending waits (bounded) for analyses still
 * running, so the call is announced ended only after its last utterance was analysed.
 */
import { isEdgeVoxError, type ErrorCode } from '../errors.js';
import type { ApplianceEvent } from '../events/appEvents.js';
import { LegAudioHistory, type UtteranceAnalyser, type UtteranceContext } from './analysis.js';
import type { LegContext } from './legContext.js';
import type { TranscriptFinal } from './transcriber.js';

export class LegAnalysis {
  private readonly history: LegAudioHistory;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly leg: LegContext,
    private readonly analysers: readonly UtteranceAnalyser[],
    historyMs: number,
  ) {
    this.history = new LegAudioHistory(leg.sampleRateHz, historyMs);
  }

  /** Decoded audio of the leg, kept for cutting utterances out of it. */
  write(samples: Int16Array): void {
    this.history.write(samples);
  }

  /** Analyse one final (`t.text` unredacted, in memory only) stored as `utteranceId`. */
  analyse(t: TranscriptFinal, utteranceId: number | null): void {
    const leg = this.leg;
    const ctx: UtteranceContext = {
      callId: leg.callId,
      legId: leg.legId,
      speaker: leg.speaker,
      utteranceId,
      text: t.text,
      language: t.language,
      startMs: t.startMs,
      endMs: t.endMs,
      audio: this.history.slice(t.startMs, t.endMs),
      sampleRateHz: leg.sampleRateHz,
    };
    for (const analyser of this.analysers) {
      // The executor runs now and a throw in it rejects: an analyser (guarded or not) that throws
      // synchronously cannot unwind into the final-transcript callback that called us.
      const running: Promise<void> = new Promise<Record<string, unknown> | null>((resolve) => resolve(analyser.analyse(ctx)))
        .then((result) => {
          if (result === null) return;
          if (utteranceId !== null)
            leg.persist('utterances.analysis', () => leg.store.utterances.mergeAnalysis(utteranceId, { [analyser.name]: result }));
          leg.publish(analyser.eventOf?.(ctx, result, leg.now()) ?? genericEvent(ctx, analyser.name, result, leg.now()));
        })
        .catch((err: unknown) => {
          // Only our own error messages are logged: another error's message could quote the utterance.
          const code: ErrorCode = isEdgeVoxError(err) ? err.code : 'EVX_ERR_INFERENCE_FAILED';
          const reason = isEdgeVoxError(err) ? err.message : err instanceof Error ? err.name : typeof err;
          leg.logger.warn({ analyser: analyser.name, code, reason }, 'utterance analysis failed');
        })
        .finally(() => this.pending.delete(running));
      this.pending.add(running);
    }
  }

  /** Wait for the analyses still running, at most `maxWaitMs`: a hung analyser cannot hold the call. */
  async drain(maxWaitMs: number): Promise<void> {
    if (this.pending.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.pending]), new Promise<void>((r) => (timer = setTimeout(r, maxWaitMs).unref()))]);
    clearTimeout(timer);
  }
}

function genericEvent(ctx: UtteranceContext, name: string, result: Record<string, unknown>, at: number): ApplianceEvent {
  return { type: 'analysis', at, callId: ctx.callId, legId: ctx.legId, speaker: ctx.speaker, utteranceId: ctx.utteranceId, name, result };
}
