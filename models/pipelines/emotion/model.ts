/**
 * Emotion model training: standardised utterance features -> one tanh hidden layer -> a softmax
 * category head and a 2-unit tanh head for (arousal, valence). Cross-entropy + MSE, AdamW,
 * mini-batches, fixed seed. Plain Float32Array/Float64Array math.
 */
import { Rng } from '../common/rng.js';
import type { RavdessEmotion } from './data.js';

/** Output categories. RAVDESS "calm" is merged into "neutral". */
export const CATEGORIES = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgust', 'surprised'] as const;
export type Category = (typeof CATEGORIES)[number];

export function categoryOf(e: RavdessEmotion): Category {
  return e === 'calm' ? 'neutral' : e;
}

/**
 * Proxy (arousal, valence) targets in [-1, 1]: RAVDESS has no dimensional ratings, so each acted
 * emotion is placed on Russell's circumplex and "strong" intensity pushes it outwards.
 */
const CIRCUMPLEX: Record<RavdessEmotion, [number, number]> = {
  neutral: [0.0, 0.0],
  calm: [-0.5, 0.2],
  happy: [0.5, 0.8],
  sad: [-0.5, -0.7],
  angry: [0.8, -0.7],
  fearful: [0.6, -0.7],
  disgust: [0.2, -0.6],
  surprised: [0.7, 0.3],
};

export function arousalValenceTarget(e: RavdessEmotion, strong: boolean): [number, number] {
  const [a, v] = CIRCUMPLEX[e];
  const k = strong ? 1.25 : 1;
  return [Math.max(-1, Math.min(1, a * k)), Math.max(-1, Math.min(1, v * k))];
}

export interface EmotionTrainOptions {
  readonly hidden: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly weightDecay: number;
  /** Gaussian noise (in standard deviations) added to the standardised inputs while training. */
  readonly inputNoise: number;
  /** Weight of the arousal/valence MSE relative to the cross-entropy. */
  readonly avWeight: number;
  readonly seed: number;
}

/** The shipped recipe (chosen by speaker-independent CV; small and heavily regularised). */
export const DEFAULT_EMOTION_OPTIONS: EmotionTrainOptions = {
  hidden: 16,
  epochs: 120,
  batchSize: 32,
  learningRate: 0.003,
  weightDecay: 0.05,
  inputNoise: 0.5,
  avWeight: 0.5,
  seed: 20240501,
};

export interface EmotionSample {
  readonly x: Float32Array;
  /** Category index, or -1 when the sample only trains the arousal/valence head. */
  readonly y: number;
  readonly av: readonly [number, number];
}

export interface EmotionParams {
  readonly inputs: number;
  readonly hidden: number;
  readonly classes: number;
  readonly mean: Float32Array;
  /** 1 / standard deviation. */
  readonly invStd: Float32Array;
  readonly w1: Float32Array; // [inputs x hidden]
  readonly b1: Float32Array;
  readonly wc: Float32Array; // [hidden x classes]
  readonly bc: Float32Array;
  readonly wr: Float32Array; // [hidden x 2]
  readonly br: Float32Array;
}

export function trainEmotion(samples: readonly EmotionSample[], classes: number, opt: EmotionTrainOptions): EmotionParams {
  const rng = new Rng(opt.seed);
  const d = samples[0]!.x.length;
  const h = opt.hidden;
  const mean = new Float32Array(d);
  const invStd = new Float32Array(d);
  for (const s of samples) for (let i = 0; i < d; i++) mean[i] = mean[i]! + s.x[i]! / samples.length;
  for (let i = 0; i < d; i++) {
    let v = 0;
    for (const s of samples) v += (s.x[i]! - mean[i]!) ** 2;
    const sd = Math.sqrt(v / samples.length);
    invStd[i] = sd > 1e-8 ? 1 / sd : 1;
  }
  const xs = samples.map((s) => {
    const z = new Float32Array(d);
    for (let i = 0; i < d; i++) z[i] = (s.x[i]! - mean[i]!) * invStd[i]!;
    return z;
  });
  const params: EmotionParams = {
    inputs: d,
    hidden: h,
    classes,
    mean,
    invStd,
    w1: new Float32Array(d * h),
    b1: new Float32Array(h),
    wc: new Float32Array(h * classes),
    bc: new Float32Array(classes),
    wr: new Float32Array(h * 2),
    br: new Float32Array(2),
  };
  const s1 = Math.sqrt(1 / d);
  for (let i = 0; i < params.w1.length; i++) params.w1[i] = rng.normal() * s1;
  const s2 = Math.sqrt(1 / h);
  for (let i = 0; i < params.wc.length; i++) params.wc[i] = rng.normal() * s2;
  for (let i = 0; i < params.wr.length; i++) params.wr[i] = rng.normal() * s2;

  const tensors = [params.w1, params.b1, params.wc, params.bc, params.wr, params.br];
  const decays = [true, false, true, false, true, false];
  const grads = tensors.map((t) => new Float32Array(t.length));
  const m = tensors.map((t) => new Float32Array(t.length));
  const v = tensors.map((t) => new Float32Array(t.length));
  const [gw1, gb1, gwc, gbc, gwr, gbr] = grads as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];

  const xin = new Float32Array(d);
  const hid = new Float32Array(h);
  const logits = new Float32Array(classes);
  const gh = new Float32Array(h);
  const order = samples.map((_, i) => i);
  let step = 0;
  for (let epoch = 0; epoch < opt.epochs; epoch++) {
    rng.shuffle(order);
    for (let start = 0; start < order.length; start += opt.batchSize) {
      const end = Math.min(order.length, start + opt.batchSize);
      for (const g of grads) g.fill(0);
      const scale = 1 / (end - start);
      for (let bi = start; bi < end; bi++) {
        const idx = order[bi]!;
        const x = xs[idx]!;
        const s = samples[idx]!;
        for (let i = 0; i < d; i++) xin[i] = x[i]! + (opt.inputNoise > 0 ? rng.normal() * opt.inputNoise : 0);
        forwardHidden(params, xin, hid);
        gh.fill(0);
        if (s.y >= 0) {
          logits.set(params.bc);
          for (let k = 0; k < h; k++) for (let c = 0; c < classes; c++) logits[c] = logits[c]! + hid[k]! * params.wc[k * classes + c]!;
          softmaxInPlace(logits);
          for (let c = 0; c < classes; c++) {
            const g = (logits[c]! - (c === s.y ? 1 : 0)) * scale;
            gbc[c] = gbc[c]! + g;
            for (let k = 0; k < h; k++) {
              gwc[k * classes + c] = gwc[k * classes + c]! + hid[k]! * g;
              gh[k] = gh[k]! + params.wc[k * classes + c]! * g;
            }
          }
        }
        for (let r = 0; r < 2; r++) {
          let pre = params.br[r]!;
          for (let k = 0; k < h; k++) pre += hid[k]! * params.wr[k * 2 + r]!;
          const out = Math.tanh(pre);
          const g = opt.avWeight * 2 * (out - s.av[r]!) * (1 - out * out) * scale;
          gbr[r] = gbr[r]! + g;
          for (let k = 0; k < h; k++) {
            gwr[k * 2 + r] = gwr[k * 2 + r]! + hid[k]! * g;
            gh[k] = gh[k]! + params.wr[k * 2 + r]! * g;
          }
        }
        for (let k = 0; k < h; k++) {
          const g = gh[k]! * (1 - hid[k]! * hid[k]!);
          gb1[k] = gb1[k]! + g;
          if (g === 0) continue;
          for (let i = 0; i < d; i++) gw1[i * h + k] = gw1[i * h + k]! + xin[i]! * g;
        }
      }
      step++;
      const bc1 = 1 - 0.9 ** step;
      const bc2 = 1 - 0.999 ** step;
      const lr = opt.learningRate;
      tensors.forEach((p, ti) => {
        const g = grads[ti]!;
        const mt = m[ti]!;
        const vt = v[ti]!;
        const decay = decays[ti]! ? opt.weightDecay : 0;
        for (let i = 0; i < p.length; i++) {
          mt[i] = 0.9 * mt[i]! + 0.1 * g[i]!;
          vt[i] = 0.999 * vt[i]! + 0.001 * g[i]! * g[i]!;
          p[i] = p[i]! * (1 - lr * decay) - (lr * (mt[i]! / bc1)) / (Math.sqrt(vt[i]! / bc2) + 1e-8);
        }
      });
    }
  }
  return params;
}

function forwardHidden(p: EmotionParams, z: Float32Array, hid: Float32Array): void {
  for (let k = 0; k < p.hidden; k++) {
    let s = p.b1[k]!;
    for (let i = 0; i < p.inputs; i++) s += z[i]! * p.w1[i * p.hidden + k]!;
    hid[k] = Math.tanh(s);
  }
}

function softmaxInPlace(a: Float32Array): void {
  let max = -Infinity;
  for (const v of a) if (v > max) max = v;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    a[i] = Math.exp(a[i]! - max);
    sum += a[i]!;
  }
  for (let i = 0; i < a.length; i++) a[i] = a[i]! / sum;
}

/** Forward pass in TS (used by CV; the ONNX graph computes the same). */
export function predictEmotion(p: EmotionParams, x: Float32Array): { probs: Float32Array; av: [number, number] } {
  const z = new Float32Array(p.inputs);
  for (let i = 0; i < p.inputs; i++) z[i] = (x[i]! - p.mean[i]!) * p.invStd[i]!;
  const hid = new Float32Array(p.hidden);
  forwardHidden(p, z, hid);
  const probs = new Float32Array(p.classes);
  probs.set(p.bc);
  for (let k = 0; k < p.hidden; k++) for (let c = 0; c < p.classes; c++) probs[c] = probs[c]! + hid[k]! * p.wc[k * p.classes + c]!;
  softmaxInPlace(probs);
  const av: [number, number] = [0, 0];
  for (let r = 0; r < 2; r++) {
    let pre = p.br[r]!;
    for (let k = 0; k < p.hidden; k++) pre += hid[k]! * p.wr[k * 2 + r]!;
    av[r] = Math.tanh(pre);
  }
  return { probs, av };
}
