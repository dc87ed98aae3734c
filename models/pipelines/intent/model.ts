/**
 * Intent classifier training: TF-IDF weighted hashed n-grams -> (optional ReLU hidden layer) ->
 * softmax, trained with cross-entropy and Adam (lazy/sparse updates for the input-side rows) in
 * plain Float32Array math. The TF-IDF weighting here mirrors the ONNX graph exactly.
 */
import { IntentFeaturizer } from '../../../appliance/intent/featurizer.js';
import { Rng } from '../common/rng.js';

export interface SparseVec {
  readonly ids: Int32Array;
  /** Raw counts. */
  readonly counts: Float32Array;
}

export interface WeightedVec {
  readonly ids: Int32Array;
  /** TF-IDF weights, L2-normalised. */
  readonly values: Float32Array;
}

export interface TrainOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** Decoupled weight decay (AdamW), applied to touched rows and dense weights. */
  readonly weightDecay: number;
  /** 0 = linear model; otherwise the width of a ReLU hidden layer. */
  readonly hidden: number;
  /** Dropout on the hidden layer (0 disables). */
  readonly dropout: number;
  /** Label smoothing for the cross-entropy target. */
  readonly labelSmoothing: number;
  readonly seed: number;
}

export interface IntentParams {
  readonly dim: number;
  readonly classes: number;
  readonly hidden: number;
  /** [dim] inverse document frequencies. */
  readonly idf: Float32Array;
  /** [dim x (hidden || classes)] input-side weights. */
  readonly w1: Float32Array;
  /** [hidden || classes] */
  readonly b1: Float32Array;
  /** [hidden x classes] (empty when hidden = 0). */
  readonly w2: Float32Array;
  /** [classes] (empty when hidden = 0). */
  readonly b2: Float32Array;
}

export function featurizeAll(featurizer: IntentFeaturizer, texts: readonly string[]): SparseVec[] {
  return texts.map((t) => {
    const f = featurizer.featurize(t);
    const ids = new Int32Array(f.length);
    for (let i = 0; i < f.length; i++) ids[i] = Number(f.ids[i]!);
    return { ids, counts: f.counts.slice(0, f.length) };
  });
}

/** Smoothed IDF, as in the usual TF-IDF: ln((1 + n) / (1 + df)) + 1. */
export function computeIdf(vecs: readonly SparseVec[], dim: number): Float32Array {
  const df = new Float64Array(dim);
  for (const v of vecs) for (const id of v.ids) df[id]! += 1;
  const idf = new Float32Array(dim);
  const n = vecs.length;
  for (let i = 0; i < dim; i++) idf[i] = Math.log((1 + n) / (1 + df[i]!)) + 1;
  return idf;
}

/** tf = 1 + ln(count); x = tf * idf; x /= max(||x||, 1e-12). Same as the graph. */
export function weightVec(v: SparseVec, idf: Float32Array): WeightedVec {
  const values = new Float32Array(v.ids.length);
  let sq = 0;
  for (let i = 0; i < v.ids.length; i++) {
    const x = Math.fround(Math.fround(Math.log(v.counts[i]!) + 1) * idf[v.ids[i]!]!);
    values[i] = x;
    sq += x * x;
  }
  const norm = Math.max(Math.sqrt(sq), 1e-12);
  for (let i = 0; i < values.length; i++) values[i] = values[i]! / norm;
  return { ids: v.ids, values };
}

/** Train; `log` receives one line per epoch. */
export function train(
  xs: readonly WeightedVec[],
  ys: readonly number[],
  dim: number,
  classes: number,
  idf: Float32Array,
  opt: TrainOptions,
  log: (line: string) => void = () => {},
): IntentParams {
  const rng = new Rng(opt.seed);
  const h = opt.hidden;
  const width = h > 0 ? h : classes;
  const w1 = new Float32Array(dim * width);
  const b1 = new Float32Array(width);
  const w2 = new Float32Array(h * classes);
  const b2 = new Float32Array(h > 0 ? classes : 0);
  if (h > 0) {
    // He-style init scaled for the ~unit-norm sparse input; Glorot for the output layer.
    const s1 = 0.5;
    for (let i = 0; i < w1.length; i++) w1[i] = rng.normal() * s1;
    const s2 = Math.sqrt(2 / (h + classes));
    for (let i = 0; i < w2.length; i++) w2[i] = rng.normal() * s2;
  }
  const m1 = new Float32Array(w1.length);
  const v1 = new Float32Array(w1.length);
  const g1 = new Float32Array(w1.length);
  const mb1 = new Float32Array(b1.length);
  const vb1 = new Float32Array(b1.length);
  const gb1 = new Float32Array(b1.length);
  const m2 = new Float32Array(w2.length);
  const v2 = new Float32Array(w2.length);
  const g2 = new Float32Array(w2.length);
  const mb2 = new Float32Array(b2.length);
  const vb2 = new Float32Array(b2.length);
  const gb2 = new Float32Array(b2.length);
  const touchedMark = new Int32Array(dim).fill(-1);
  const touched: number[] = [];

  const hPre = new Float32Array(width);
  const hAct = new Float32Array(h);
  const mask = new Float32Array(h);
  const z = new Float32Array(classes);
  const gz = new Float32Array(classes);
  const gh = new Float32Array(width);

  const beta1 = 0.9;
  const beta2 = 0.999;
  const eps = 1e-8;
  let step = 0;
  const order = xs.map((_, i) => i);
  const smooth = opt.labelSmoothing;

  for (let epoch = 0; epoch < opt.epochs; epoch++) {
    rng.shuffle(order);
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < order.length; start += opt.batchSize) {
      const end = Math.min(order.length, start + opt.batchSize);
      touched.length = 0;
      gb1.fill(0);
      g2.fill(0);
      gb2.fill(0);
      const scale = 1 / (end - start);
      for (let bi = start; bi < end; bi++) {
        const idx = order[bi]!;
        const x = xs[idx]!;
        const y = ys[idx]!;
        for (let j = 0; j < x.ids.length; j++) {
          const id = x.ids[j]!;
          if (touchedMark[id] !== step) {
            touchedMark[id] = step;
            touched.push(id);
            g1.fill(0, id * width, (id + 1) * width);
          }
        }
        // forward
        hPre.set(b1);
        for (let j = 0; j < x.ids.length; j++) {
          const off = x.ids[j]! * width;
          const v = x.values[j]!;
          for (let k = 0; k < width; k++) hPre[k] = hPre[k]! + v * w1[off + k]!;
        }
        if (h > 0) {
          const keep = 1 - opt.dropout;
          for (let k = 0; k < h; k++) {
            mask[k] = opt.dropout > 0 ? (rng.next() < keep ? 1 / keep : 0) : 1;
            hAct[k] = hPre[k]! > 0 ? hPre[k]! * mask[k]! : 0;
          }
          z.set(b2);
          for (let k = 0; k < h; k++) {
            const a = hAct[k]!;
            if (a === 0) continue;
            const off = k * classes;
            for (let c = 0; c < classes; c++) z[c] = z[c]! + a * w2[off + c]!;
          }
        } else z.set(hPre);
        // softmax + loss
        let max = -Infinity;
        for (let c = 0; c < classes; c++) if (z[c]! > max) max = z[c]!;
        let sum = 0;
        let arg = 0;
        for (let c = 0; c < classes; c++) {
          if (z[c]! > z[arg]!) arg = c;
          const e = Math.exp(z[c]! - max);
          gz[c] = e;
          sum += e;
        }
        if (arg === y) correct++;
        lossSum += -Math.log(Math.max(gz[y]! / sum, 1e-30));
        for (let c = 0; c < classes; c++) {
          const target = (c === y ? 1 - smooth : 0) + smooth / classes;
          gz[c] = (gz[c]! / sum - target) * scale;
        }
        // backward
        if (h > 0) {
          for (let c = 0; c < classes; c++) gb2[c] = gb2[c]! + gz[c]!;
          for (let k = 0; k < h; k++) {
            const a = hAct[k]!;
            let acc = 0;
            const off = k * classes;
            for (let c = 0; c < classes; c++) {
              if (a !== 0) g2[off + c] = g2[off + c]! + a * gz[c]!;
              acc += w2[off + c]! * gz[c]!;
            }
            gh[k] = hPre[k]! > 0 ? acc * mask[k]! : 0;
          }
        } else gh.set(gz);
        for (let k = 0; k < width; k++) gb1[k] = gb1[k]! + gh[k]!;
        for (let j = 0; j < x.ids.length; j++) {
          const off = x.ids[j]! * width;
          const v = x.values[j]!;
          for (let k = 0; k < width; k++) g1[off + k] = g1[off + k]! + v * gh[k]!;
        }
      }
      // Adam(W) update
      step++;
      const lr = opt.learningRate;
      const bc1 = 1 - Math.pow(beta1, step);
      const bc2 = 1 - Math.pow(beta2, step);
      const wd = opt.weightDecay;
      const upd = (p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, from: number, to: number, decay: boolean): void => {
        for (let i = from; i < to; i++) {
          const gi = g[i]!;
          const mi = beta1 * m[i]! + (1 - beta1) * gi;
          const vi = beta2 * v[i]! + (1 - beta2) * gi * gi;
          m[i] = mi;
          v[i] = vi;
          let pi = p[i]!;
          if (decay) pi -= lr * wd * pi;
          p[i] = pi - (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps);
        }
      };
      for (const id of touched) upd(w1, m1, v1, g1, id * width, (id + 1) * width, true);
      upd(b1, mb1, vb1, gb1, 0, b1.length, false);
      if (h > 0) {
        upd(w2, m2, v2, g2, 0, w2.length, true);
        upd(b2, mb2, vb2, gb2, 0, b2.length, false);
      }
      // Lazy marks are keyed by step; the next batch uses a new step number.
    }
    log(`epoch ${epoch + 1}/${opt.epochs} loss ${(lossSum / order.length).toFixed(4)} train-acc ${(correct / order.length).toFixed(4)}`);
  }
  return { dim, classes, hidden: h, idf, w1, b1, w2, b2 };
}

/** Class probabilities for one weighted vector (float weights). */
export function predict(p: IntentParams, x: WeightedVec, out: Float32Array = new Float32Array(p.classes)): Float32Array {
  const width = p.hidden > 0 ? p.hidden : p.classes;
  const hPre = new Float32Array(width);
  hPre.set(p.b1);
  for (let j = 0; j < x.ids.length; j++) {
    const off = x.ids[j]! * width;
    const v = x.values[j]!;
    for (let k = 0; k < width; k++) hPre[k] = hPre[k]! + v * p.w1[off + k]!;
  }
  if (p.hidden > 0) {
    out.set(p.b2);
    for (let k = 0; k < p.hidden; k++) {
      const a = hPre[k]! > 0 ? hPre[k]! : 0;
      if (a === 0) continue;
      for (let c = 0; c < p.classes; c++) out[c] = out[c]! + a * p.w2[k * p.classes + c]!;
    }
  } else out.set(hPre);
  let max = -Infinity;
  for (const v of out) if (v > max) max = v;
  let sum = 0;
  for (let c = 0; c < p.classes; c++) {
    out[c] = Math.exp(out[c]! - max);
    sum += out[c]!;
  }
  for (let c = 0; c < p.classes; c++) out[c] = out[c]! / sum;
  return out;
}

/** Symmetric per-column int8 quantisation of a [rows x cols] matrix. */
export function quantizeColumns(w: Float32Array, rows: number, cols: number): { q: Int8Array; scale: Float32Array } {
  const scale = new Float32Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const a = Math.abs(w[r * cols + c]!);
      if (a > scale[c]!) scale[c] = a;
    }
  }
  for (let c = 0; c < cols; c++) scale[c] = scale[c]! > 0 ? scale[c]! / 127 : 1;
  const q = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) q[r * cols + c] = Math.max(-127, Math.min(127, Math.round(w[r * cols + c]! / scale[c]!)));
  }
  return { q, scale };
}

/** The same parameters with the input-side matrix replaced by its int8 round trip. */
export function dequantized(p: IntentParams): IntentParams {
  const width = p.hidden > 0 ? p.hidden : p.classes;
  const { q, scale } = quantizeColumns(p.w1, p.dim, width);
  const w1 = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) w1[i] = q[i]! * scale[i % width]!;
  return { ...p, w1 };
}
