/**
 * Endpoint rules, after sherpa-onnx: an utterance ends when any rule holds. A rule needs
 * `trailingSilenceMs` of silence at the end (time since the last decoded token, or since the
 * utterance started when there is none), an utterance of at least `minUtteranceMs`, and, when
 * `mustContainSpeech`, at least one decoded token. Defaults: 2.4 s of silence with no speech,
 * 1.2 s after speech, and a 20 s maximum utterance.
 */
export interface EndpointRule {
  readonly mustContainSpeech: boolean;
  readonly minTrailingSilenceMs: number;
  readonly minUtteranceMs: number;
}

export interface EndpointConfig {
  readonly enabled: boolean;
  readonly rules: readonly EndpointRule[];
}

export const DEFAULT_ENDPOINT_CONFIG: EndpointConfig = {
  enabled: true,
  rules: [
    { mustContainSpeech: false, minTrailingSilenceMs: 2400, minUtteranceMs: 0 },
    { mustContainSpeech: true, minTrailingSilenceMs: 1200, minUtteranceMs: 0 },
    { mustContainSpeech: false, minTrailingSilenceMs: 0, minUtteranceMs: 20000 },
  ],
};

export interface EndpointInput {
  readonly utteranceMs: number;
  readonly trailingSilenceMs: number;
  readonly hasSpeech: boolean;
}

/** Index of the first rule that fires, or -1. */
export function endpointRule(config: EndpointConfig, s: EndpointInput): number {
  if (!config.enabled) return -1;
  for (let i = 0; i < config.rules.length; i++) {
    const r = config.rules[i]!;
    if ((s.hasSpeech || !r.mustContainSpeech) && s.trailingSilenceMs >= r.minTrailingSilenceMs && s.utteranceMs >= r.minUtteranceMs) {
      return i;
    }
  }
  return -1;
}
