/**
 * Starts utterance analysis: the intent and emotion analysers on the model store's active models
 * (only when routing is on: nothing else consumes them), and forgets a call's emotion trend when
 * the call ends.
 */
import { startAnalysis, type AnalysisRuntime } from '../analysis/loader.js';
import type { UtteranceAnalyser } from '../calls/analysis.js';
import type { ModelStore } from '../modelstore/modelStore.js';
import type { CapabilityDeps, Started } from './capability.js';

export interface StartedAnalysis extends Started {
  readonly runtime: AnalysisRuntime | null;
  readonly analysers: readonly UtteranceAnalyser[];
}

export async function startUtteranceAnalysis(deps: CapabilityDeps & { models: ModelStore }): Promise<StartedAnalysis> {
  const { config, bus, logger } = deps;
  const runtime = config.routing.enabled ? await startAnalysis({ models: deps.models, config, logger }) : null;
  // A call's emotion trend lives as long as the call (the tracker's own bound is only a backstop).
  const unsubscribe = bus.subscribe((e) => {
    if (e.type === 'call.ended') runtime?.trends.forgetCall(e.callId);
  });
  return {
    runtime,
    analysers: runtime?.analysers ?? [],
    async close() {
      unsubscribe();
      await runtime?.close();
    },
  };
}
