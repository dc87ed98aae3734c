/**
 * The failure boundary of an utterance analyser. The leg's analysis stage calls `analyse` from the
 * final-transcript callback and handles only a rejected promise; an analyser that threw there
 * synchronously would unwind into recognition's callback. A guarded analyser never throws: a
 * synchronous throw and a rejection are handled alike — logged with an error code (the analyser's
 * own EdgeVoxError code, else EVX_ERR_INFERENCE_FAILED) and the utterance gets no result (null).
 */
import type { UtteranceAnalyser, UtteranceContext } from '../calls/analysis.js';
import { isEdgeVoxError, type ErrorCode } from '../errors.js';
import type { Logger } from '../log/logger.js';

/** `analyser` with its failures, thrown or rejected, logged and turned into "no result". */
export function guardAnalyser(analyser: UtteranceAnalyser, logger: Logger): UtteranceAnalyser {
  const failed = (err: unknown): null => {
    // Only our own error messages are logged: another error's message could quote the utterance.
    const code: ErrorCode = isEdgeVoxError(err) ? err.code : 'EVX_ERR_INFERENCE_FAILED';
    const reason = isEdgeVoxError(err) ? err.message : err instanceof Error ? err.name : typeof err;
    logger.warn({ analyser: analyser.name, code, reason }, 'utterance analysis failed');
    return null;
  };
  const guarded: UtteranceAnalyser = {
    name: analyser.name,
    analyse(ctx: UtteranceContext): Promise<Record<string, unknown> | null> {
      // The executor runs now, and a throw in it rejects the promise: a synchronous throw is a rejection.
      return new Promise<Record<string, unknown> | null>((resolve) => resolve(analyser.analyse(ctx))).catch(failed);
    },
  };
  const eventOf = analyser.eventOf?.bind(analyser);
  return eventOf === undefined ? guarded : { ...guarded, eventOf };
}
