import { describe, expect, it } from 'vitest';
import { DEFAULT_ENDPOINT_CONFIG, endpointRule } from '../../../appliance/asr/endpoint.js';

describe('endpointRule (sherpa-onnx defaults)', () => {
  const c = DEFAULT_ENDPOINT_CONFIG;
  it('rule 1: 2.4 s of silence without speech', () => {
    expect(endpointRule(c, { utteranceMs: 2300, trailingSilenceMs: 2300, hasSpeech: false })).toBe(-1);
    expect(endpointRule(c, { utteranceMs: 2400, trailingSilenceMs: 2400, hasSpeech: false })).toBe(0);
  });
  it('rule 2: 1.2 s of silence after speech', () => {
    expect(endpointRule(c, { utteranceMs: 5000, trailingSilenceMs: 1100, hasSpeech: true })).toBe(-1);
    expect(endpointRule(c, { utteranceMs: 5000, trailingSilenceMs: 1200, hasSpeech: true })).toBe(1);
  });
  it('rule 3: 20 s maximum utterance', () => {
    expect(endpointRule(c, { utteranceMs: 19990, trailingSilenceMs: 0, hasSpeech: true })).toBe(-1);
    expect(endpointRule(c, { utteranceMs: 20000, trailingSilenceMs: 0, hasSpeech: true })).toBe(2);
  });
  it('can be disabled', () => {
    expect(endpointRule({ ...c, enabled: false }, { utteranceMs: 60000, trailingSilenceMs: 9000, hasSpeech: true })).toBe(-1);
  });
});
