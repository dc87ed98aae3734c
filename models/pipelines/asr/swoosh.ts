/**
 * Zipformer's Swoosh activations, y = softplus(x - a) - k·x - c, exported in two forms:
 *
 *   stable   Max(0, s) + Log(1 + Exp(-Abs(0 - s))) - Mul(x, k) - c                 (12 nodes)
 *   guarded  Where(Log(1 + Exp(s)) == inf, s, Log(1 + Exp(s))) - Mul(x, k) - c      (9 nodes)
 *            with s = x - a in both (the front end uses the first, the layers the second),
 *
 * both rewritten with the same value in fewer passes over the tensor:
 *
 *   y = (1 - k)·LeakyRelu(s, -k / (1 - k)) - Log(Sigmoid(Abs(s))) - (c + k·a)             (8 nodes)
 *
 * since max(0, s) - k·s = (1 - k)·LeakyRelu(s, -k/(1-k)) and log(1 + exp(-|s|)) = -log(sigmoid(|s|)).
 * Each element-wise node reads and writes the whole activation (in the convolutional front end,
 * 384 channels × 16 × 19 values per stream), so at a batch of streams the passes, not the
 * arithmetic, are what these activations cost. The shift `s = x - a` and the offset `- (c + k·a)`
 * are left as their own nodes for biasFold.ts to move into the neighbouring layers' biases.
 * Values agree with the source forms to a few float32 ulps (MLAS's sigmoid against exp and log;
 * the guarded form also loses its rounding of 1 + exp(s) for large s); the pipeline's batch check
 * and the transcript and WER checks cover the result. Only these exact shapes are rewritten;
 * anything else is left as it is.
 */
import { Graph, floatTensor, type Node } from './graph.js';

export interface SwooshReport {
  readonly activations: number;
  /** How many were in each source form. */
  readonly stable: number;
  readonly guarded: number;
}

/** One activation found: its last node, its input x, the shifted input s = x - a, and k, a, c. */
interface Swoosh {
  readonly last: Node;
  readonly s: string;
  readonly k: number;
  readonly a: number;
  readonly c: number;
  readonly form: 'stable' | 'guarded';
}

export function rewriteSwoosh(graph: Graph): SwooshReport {
  const producers = graph.producers();
  const consumers = graph.consumers();
  const soleUse = (name: string) => (consumers.get(name)?.length ?? 0) === 1;
  /** The node producing `name` when it is `op` and its output is read only once. */
  const from = (name: string | undefined | null, op: string): Node | undefined => {
    const n = name ? producers.get(name) : undefined;
    return n && n.opType === op && soleUse(name!) ? n : undefined;
  };
  /** For a commutative binary node: the input that is not the scalar `value`, if the other is. */
  const otherThan = (n: Node, value: number): string | undefined => {
    const [p, q] = n.input as string[];
    if (graph.scalar(p) === value) return q;
    if (graph.scalar(q) === value) return p;
    return undefined;
  };
  /** `s` when it is Sub(x, a) with a scalar a: the a. */
  const shiftOf = (s: string, x: string): number | undefined => {
    const shift = producers.get(s);
    return shift?.opType === 'Sub' && shift.input![0] === x ? graph.scalar(shift.input![1]) : undefined;
  };
  /** y = Sub(Sub(v, Mul(x, k)), c): v, x, k and c. */
  const tail = (last: Node) => {
    if (last.opType !== 'Sub') return undefined;
    const c = graph.scalar(last.input![1]);
    const sub2 = from(last.input![0], 'Sub');
    const mul = sub2 ? from(sub2.input![1], 'Mul') : undefined;
    if (c === undefined || !sub2 || !mul) return undefined;
    const kFirst = graph.scalar(mul.input![0]) !== undefined;
    const k = graph.scalar(mul.input![kFirst ? 0 : 1]);
    if (k === undefined || k >= 1) return undefined;
    return { v: sub2.input![0]!, x: mul.input![kFirst ? 1 : 0]!, k, c };
  };
  /** v = Add(Max(0, s), Log(1 + Exp(Neg(Abs(0 - s))))). */
  const stable = (v: string): string | undefined => {
    const add1 = from(v, 'Add');
    if (!add1) return undefined;
    const [l, r] = add1.input as string[];
    const max = from(l, 'Max') ?? from(r, 'Max');
    const log = from(l, 'Log') ?? from(r, 'Log');
    if (!max || !log) return undefined;
    const add = from(log.input![0], 'Add');
    const exp = add && otherThan(add, 1) !== undefined ? from(otherThan(add, 1), 'Exp') : undefined;
    const neg = exp ? from(exp.input![0], 'Neg') : undefined;
    const abs = neg ? from(neg.input![0], 'Abs') : undefined;
    const negS = abs ? from(abs.input![0], 'Sub') : undefined;
    const s = otherThan(max, 0);
    return negS && s !== undefined && graph.scalar(negS.input![0]) === 0 && negS.input![1] === s ? s : undefined;
  };
  /** v = Where(Equal(L, inf), s, L) with L = Log(Add(Exp(s), 1)). */
  const guarded = (v: string): string | undefined => {
    const where = from(v, 'Where');
    if (!where) return undefined;
    const [cond, s, l] = where.input as string[];
    const equal = from(cond, 'Equal');
    const log = l ? producers.get(l) : undefined;
    if (!equal || log?.opType !== 'Log' || equal.input![0] !== l || graph.scalar(equal.input![1]) !== Infinity) return undefined;
    if ((consumers.get(l!) ?? []).some((n) => n !== equal && n !== where)) return undefined;
    const add = from(log.input![0], 'Add');
    const exp = add && otherThan(add, 1) !== undefined ? from(otherThan(add, 1), 'Exp') : undefined;
    return exp && exp.input![0] === s ? s : undefined;
  };

  const found: Swoosh[] = [];
  for (const last of graph.nodes) {
    const t = tail(last);
    if (!t) continue;
    const fromStable = stable(t.v);
    const s = fromStable ?? guarded(t.v);
    const a = s !== undefined ? shiftOf(s, t.x) : undefined;
    if (s === undefined || a === undefined) continue;
    found.push({ last, s, k: t.k, a, c: t.c, form: fromStable !== undefined ? 'stable' : 'guarded' });
  }
  const replaced = new Map<Node, Node[]>();
  for (const { last, s, k, a, c } of found) {
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
  }
  graph.nodes = graph.nodes.flatMap((n) => replaced.get(n) ?? [n]);
  graph.sortTopologically();
  graph.prune();
  const stableCount = found.filter((f) => f.form === 'stable').length;
  return { activations: found.length, stable: stableCount, guarded: found.length - stableCount };
}
