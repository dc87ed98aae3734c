/**
 * ONNX export of the intent classifier.
 *
 * Inputs:  feature_ids int64 [n], feature_counts float [n] (from IntentFeaturizer)
 * Graph:   x = (1 + ln count) * idf[ids]; x /= max(||x||, 1e-12)
 *          logits = x · dequant(W_q[ids]) + b            (linear; int8 per-class scales)
 *          or h = relu(x · dequant(W_q[ids]) + b1); logits = h · W2 + b2   (hidden layer)
 * Outputs: probabilities float [1, classes], logits float [1, classes]
 */
import { floatTensor, int64Tensor, int8Tensor, node, valueInfo, DT, writeModel } from '../common/onnx.js';
import { quantizeColumns, type IntentParams } from './model.js';

export const INTENT_INPUT_IDS = 'feature_ids';
export const INTENT_INPUT_COUNTS = 'feature_counts';
export const INTENT_OUTPUT_PROBS = 'probabilities';
export const INTENT_OUTPUT_LOGITS = 'logits';

export function exportIntentOnnx(path: string, p: IntentParams, metadata: Record<string, string>): number {
  const width = p.hidden > 0 ? p.hidden : p.classes;
  const { q, scale } = quantizeColumns(p.w1, p.dim, width);
  const initializers = [
    floatTensor('idf', [p.dim], p.idf),
    int8Tensor('w1_q', [p.dim, width], q),
    floatTensor('w1_scale', [width], scale),
    int8Tensor('w1_zero', [width], new Int8Array(width)),
    floatTensor('b1', [1, width], p.b1),
    floatTensor('one', [], [1]),
    floatTensor('eps', [], [1e-12]),
    int64Tensor('axes0', [1], [0]),
  ];
  const nodes = [
    node('Log', [INTENT_INPUT_COUNTS], ['log_count']),
    node('Add', ['log_count', 'one'], ['tf']),
    node('Gather', ['idf', INTENT_INPUT_IDS], ['idf_g'], { axis: 0 }),
    node('Mul', ['tf', 'idf_g'], ['tfidf']),
    node('ReduceL2', ['tfidf'], ['norm_raw'], { keepdims: 1 }),
    node('Max', ['norm_raw', 'eps'], ['norm']),
    node('Div', ['tfidf', 'norm'], ['x']),
    node('Unsqueeze', ['x', 'axes0'], ['x_row']),
    node('Gather', ['w1_q', INTENT_INPUT_IDS], ['rows_q'], { axis: 0 }),
    node('DequantizeLinear', ['rows_q', 'w1_scale', 'w1_zero'], ['rows'], { axis: 1 }),
    node('MatMul', ['x_row', 'rows'], ['h_mm']),
  ];
  if (p.hidden > 0) {
    initializers.push(floatTensor('w2', [p.hidden, p.classes], p.w2), floatTensor('b2', [1, p.classes], p.b2));
    nodes.push(
      node('Add', ['h_mm', 'b1'], ['h_pre']),
      node('Relu', ['h_pre'], ['h']),
      node('MatMul', ['h', 'w2'], ['o_mm']),
      node('Add', ['o_mm', 'b2'], [INTENT_OUTPUT_LOGITS]),
    );
  } else {
    nodes.push(node('Add', ['h_mm', 'b1'], [INTENT_OUTPUT_LOGITS]));
  }
  nodes.push(node('Softmax', [INTENT_OUTPUT_LOGITS], [INTENT_OUTPUT_PROBS], { axis: -1 }));
  return writeModel(path, {
    graphName: 'edgevox_intent',
    docString: 'EdgeVox intent classifier: hashed word/char n-grams, TF-IDF, int8 linear softmax (BANKING77)',
    nodes,
    initializers,
    inputs: [valueInfo(INTENT_INPUT_IDS, DT.INT64, ['n']), valueInfo(INTENT_INPUT_COUNTS, DT.FLOAT, ['n'])],
    outputs: [valueInfo(INTENT_OUTPUT_PROBS, DT.FLOAT, [1, p.classes]), valueInfo(INTENT_OUTPUT_LOGITS, DT.FLOAT, [1, p.classes])],
    metadata,
  });
}
