/**
 * Zipformer's Swoosh activations, exported in their numerically stable form
 *
 *   y = logaddexp(0, x - a) - k·x - c
 *     = Max(0, s) + Log(1 + Exp(-Abs(0 - s))) - Mul(x, k) - c,   s = x - a          (12 nodes)
 *
 * rewritten with the same value in fewer passes over the tensor:
 *
 *   y = (1 - k)·LeakyRelu(s, -k / (1 - k)) - Log(Sigmoid(Abs(s))) - (c + k·a)       (8 nodes)
 *
 * since max(0, s) - k·s = (1 - k)·LeakyRelu(s, -k/(1-k)) and log(1 + exp(-|s|)) = -log(sigmoid(|s|)).
 * Each of these element-wise nodes reads and writes the whole activation (in the convolutional
 * front end, 384 channels × 16 × 19 values per stream), so at a batch of streams the element-wise
 * passes, not the arithmetic, are what the front end costs. Values agree with the stable form to a
 * few float32 ulps (MLAS's sigmoid against exp and log); the pipeline's batch check and the
 * transcript and WER checks cover the result. Only the exact 12-node shape is rewritten; anything
 * else is left as it is.
 */
import { Graph, floatTensor, tensorValues, type Node } from './graph.js';

export interface SwooshReport {
  readonly activations: number;
}

export function rewriteSwoosh(graph: Graph): SwooshReport {
  const producers = graph.producers();
  const consumers = graph.consumers();
  const scalar = (name: string | undefined | null): number | undefined => {
    const t = name ? graph.constant(name) : undefined;
    if (!t || t.dataType !== 1) return undefined;
    const v = tensorValues(t);
    return v.length === 1 ? v[0] : undefined;
  };
  const soleUse = (name: string) => (consumers.get(name)?.length ?? 0) === 1;
  /** The node producing `name` when it is `op` and its output is read only once. */
  const from = (name: string | undefined, op: string): Node | undefined => {
    const n = name ? producers.get(name) : undefined;
    return n && n.opType === op && soleUse(name!) ? n : undefined;
  };
  /** For a commutative binary node: the input that is not the scalar `value`, if the other is. */
  const otherThan = (n: Node, value: number): string | undefined => {
    const [p, q] = n.input as string[];
    if (scalar(p) === value) return q;
    if (scalar(q) === value) return p;
    return undefined;
  };
  const replaced = new Map<Node, Node[]>();
  let activations = 0;
  for (const last of graph.nodes) {
    // y = Sub(Sub(Add(Max(0, s), Log(...)), Mul(x, k)), c)
    if (last.opType !== 'Sub') continue;
    const c = scalar(last.input![1]);
    const sub2 = from(last.input![0], 'Sub');
    if (c === undefined || !sub2) continue;
    const add1 = from(sub2.input![0], 'Add');
    const mul = from(sub2.input![1], 'Mul');
    if (!add1 || !mul) continue;
    const x = scalar(mul.input![1]) !== undefined ? mul.input![0]! : mul.input![1]!;
    const k = scalar(mul.input![1]) ?? scalar(mul.input![0]);
    const [l, r] = add1.input as string[];
    const max = from(l, 'Max') ?? from(r, 'Max');
    const log = from(l, 'Log') ?? from(r, 'Log');
    if (k === undefined || !max || !log || k >= 1) continue;
    const add = from(log.input![0], 'Add');
    const exp = add && otherThan(add, 1) !== undefined ? from(otherThan(add, 1), 'Exp') : undefined;
    const neg = exp ? from(exp.input![0], 'Neg') : undefined;
    const abs = neg ? from(neg.input![0], 'Abs') : undefined;
    const negS = abs ? from(abs.input![0], 'Sub') : undefined;
    const s = otherThan(max, 0);
    if (!negS || s === undefined || scalar(negS.input![0]) !== 0 || negS.input![1] !== s) continue;
    const shift = producers.get(s);
    const a = shift?.opType === 'Sub' && shift.input![0] === x ? scalar(shift.input![1]) : undefined;
    if (a === undefined) continue;
    const name = (stem: string) => graph.fresh(`${last.name}_swoosh_${stem}`);
    const [absOut, sigOut, logOut, leakyOut, scaledOut, diffOut] = ['abs', 'sigmoid', 'log', 'leaky', 'scaled', 'diff'].map(name);
    const scale = name('scale');
    const offset = name('offset');
    graph.addInitializer(floatTensor(scale, [], [1 - k]));
    graph.addInitializer(floatTensor(offset, [], [c + k * a]));
    replaced.set(last, [
      { opType: 'Abs', name: absOut, input: [s], output: [absOut!] },
      { opType: 'Sigmoid', name: sigOut, input: [absOut!], output: [sigOut!] },
      { opType: 'Log', name: logOut, input: [sigOut!], output: [logOut!] },
      { opType: 'LeakyRelu', name: leakyOut, input: [s], output: [leakyOut!], attribute: [{ name: 'alpha', type: 1, f: -k / (1 - k) }] },
      { opType: 'Mul', name: scaledOut, input: [leakyOut!, scale], output: [scaledOut!] },
      { opType: 'Sub', name: diffOut, input: [scaledOut!, logOut!], output: [diffOut!] },
      { opType: 'Sub', name: `${last.name}_swoosh`, input: [diffOut!, offset], output: [last.output![0]!] },
    ]);
    activations++;
  }
  graph.nodes = graph.nodes.flatMap((n) => replaced.get(n) ?? [n]);
  graph.sortTopologically();
  graph.prune();
  return { activations };
}
