/**
 * ONNX export of the emotion model (an ensemble of K small MLPs averaged in the graph).
 *
 * Input:   features float [1, d] (EmotionFeaturizer output)
 * Member:  z = (x - mean) * inv_std; h = tanh(z W1 + b1); p = softmax(h Wc + bc); av = tanh(h Wr + br)
 * Outputs: probabilities float [1, classes] (mean of members), arousal_valence float [1, 2] (mean)
 */
import { floatTensor, node, valueInfo, DT, writeModel } from '../common/onnx.js';
import type { EmotionParams } from './model.js';

export const EMOTION_INPUT = 'features';
export const EMOTION_OUTPUT_PROBS = 'probabilities';
export const EMOTION_OUTPUT_AV = 'arousal_valence';

export function exportEmotionOnnx(path: string, members: readonly EmotionParams[], metadata: Record<string, string>): number {
  const first = members[0]!;
  const initializers = [floatTensor('inv_k', [], [1 / members.length])];
  const nodes = [];
  const probNames: string[] = [];
  const avNames: string[] = [];
  members.forEach((p, k) => {
    const n = (s: string): string => `m${k}_${s}`;
    initializers.push(
      floatTensor(n('mean'), [1, p.inputs], p.mean),
      floatTensor(n('inv_std'), [1, p.inputs], p.invStd),
      floatTensor(n('w1'), [p.inputs, p.hidden], p.w1),
      floatTensor(n('b1'), [1, p.hidden], p.b1),
      floatTensor(n('wc'), [p.hidden, p.classes], p.wc),
      floatTensor(n('bc'), [1, p.classes], p.bc),
      floatTensor(n('wr'), [p.hidden, 2], p.wr),
      floatTensor(n('br'), [1, 2], p.br),
    );
    nodes.push(
      node('Sub', [EMOTION_INPUT, n('mean')], [n('centered')]),
      node('Mul', [n('centered'), n('inv_std')], [n('z')]),
      node('MatMul', [n('z'), n('w1')], [n('h_mm')]),
      node('Add', [n('h_mm'), n('b1')], [n('h_pre')]),
      node('Tanh', [n('h_pre')], [n('h')]),
      node('MatMul', [n('h'), n('wc')], [n('c_mm')]),
      node('Add', [n('c_mm'), n('bc')], [n('logits')]),
      node('Softmax', [n('logits')], [n('probs')], { axis: -1 }),
      node('MatMul', [n('h'), n('wr')], [n('r_mm')]),
      node('Add', [n('r_mm'), n('br')], [n('r_pre')]),
      node('Tanh', [n('r_pre')], [n('av')]),
    );
    probNames.push(n('probs'));
    avNames.push(n('av'));
  });
  nodes.push(
    node('Sum', probNames, ['probs_sum']),
    node('Mul', ['probs_sum', 'inv_k'], [EMOTION_OUTPUT_PROBS]),
    node('Sum', avNames, ['av_sum']),
    node('Mul', ['av_sum', 'inv_k'], [EMOTION_OUTPUT_AV]),
  );
  return writeModel(path, {
    graphName: 'edgevox_emotion',
    docString: 'EdgeVox utterance emotion model: prosodic + spectral statistics -> MLP ensemble (RAVDESS, evaluation only)',
    nodes,
    initializers,
    inputs: [valueInfo(EMOTION_INPUT, DT.FLOAT, [1, first.inputs])],
    outputs: [valueInfo(EMOTION_OUTPUT_PROBS, DT.FLOAT, [1, first.classes]), valueInfo(EMOTION_OUTPUT_AV, DT.FLOAT, [1, 2])],
    metadata,
  });
}
