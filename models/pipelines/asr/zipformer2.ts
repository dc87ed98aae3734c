/**
 * What the batch rewrite needs to know about the zipformer2 streaming transducer family (icefall's
 * export, as sherpa-onnx runs it): which axis of each encoder input is the batch. The layout is the
 * family's contract (sherpa-onnx stacks states along the same axes); the names come from the model.
 */
export function encoderInputBatchAxis(name: string): number {
  if (name === 'x') return 0;
  if (/^cached_(key|nonlin_attn|val1|val2)_\d+$/.test(name)) return 1;
  if (/^cached_conv[12]_\d+$/.test(name) || name === 'embed_states' || name === 'processed_lens') return 0;
  throw new Error(`encoder input ${name} is not a zipformer2 streaming state this pipeline knows`);
}
