/**
 * Zipformer's Swoosh activations, y = softplus(x - a) - k·x - c, exported in two forms:
 *
 *   stable   Max(0, s) + Log(1 + Exp(-Abs(0 - s))) - Mul(x, k) - c                 (12 nodes)
 *   guarded  Where(Log(1 + Exp(s)) == inf, s, Log(1 + Exp(s))) - Mul(x, k) - c      (9 nodes)
 *            with s = x - a in both (the front end uses the first, the layers the second),
 *
 * both rewritten in passes that onnxruntime's CPU kernels run fast:
 *
 *   y = (1 - k)·[LeakyRelu(s, -k/(1 - k)) + P(z)/(1 - k) - (c + k·a)/(1 - k)],   z = Sigmoid(-|s| - ln 2)
 *
 * since max(0, s) - k·s = (1 - k)·LeakyRelu(s, -k/(1 - k)) and softplus(s) - max(0, s) =
 * log(1 + e^-|s|) = 2·atanh(z) (with t = e^-|s|, z = t/(2 + t) = Sigmoid(-|s| - ln 2) lies in
 * (0, 1/3], and (1 + z)/(1 - z) = 1 + t). P is a degree-4 polynomial with P(0) = 0 fitted to
 * 2·atanh on [0, 1/3] (SOFTPLUS_TAIL: largest error 5.6e-6, far below the int8 quantisation of the
 * activations downstream; test/unit/models/swooshRewrite.test.ts checks the bound).
 *
 * Why: onnxruntime's Log runs one element at a time (2.7 ns a value here, 10x its vectorised
 * Sigmoid), and in the front end, where one activation is 384 channels × 16 × 19 values per stream,
 * it was the largest single cost of a batched encoder call after the convolutions. The polynomial
 * is Abs, Sub, Sigmoid and Horner's 7 Mul/Add passes, all vectorised. The scale (1 - k), the shift
 * `s = x - a` and the offset are left as their own nodes (Mul, Sub) for biasFold.ts to move into the
 * neighbouring layers' weights and biases. Only these exact shapes are rewritten; anything else is
 * left as it is.
 */
import { Graph, floatTensor, type Node } from './graph.js';

/**
 * P(z)/z's coefficients, lowest first: P(z) = z·(q1 + q2·z + q3·z² + q4·z³) ≈ 2·atanh(z) on [0, 1/3],
 * so log(1 + e^-|s|) ≈ P(Sigmoid(-|s| - ln 2)). Fitted by least squares on 4001 Chebyshev points of
 * [0, 1/3], reweighted towards the largest errors (near-minimax); largest error 5.6e-6 there.
 */
export const SOFTPLUS_TAIL = [1.9994931408344467, 0.014116199405801388, 0.5460640584254618, 0.3929165817364496] as const;

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
  const minusLn2 = graph.fresh('swoosh_minus_ln2');
  graph.addInitializer(floatTensor(minusLn2, [], [-Math.LN2]));
  for (const { last, s, k, a, c } of found) {
    const name = (stem: string) => graph.fresh(`${last.name}_swoosh_${stem}`);
    const scalar = (stem: string, value: number) => {
      const n = name(stem);
      graph.addInitializer(floatTensor(n, [], [value]));
      return n;
    };
    const [absOut, argOut, zOut, leakyOut, sumOut, offOut] = ['abs', 'arg', 'z', 'leaky', 'sum', 'offset_out'].map(name);
    const nodes: Node[] = [
      { opType: 'Abs', name: absOut, input: [s], output: [absOut!] },
      { opType: 'Sub', name: argOut, input: [minusLn2, absOut!], output: [argOut!] },
      { opType: 'Sigmoid', name: zOut, input: [argOut!], output: [zOut!] },
    ];
    // Horner: P(z)/(1 - k) = z·(q1 + z·(q2 + z·(q3 + z·q4))). The innermost q3 + z·q4 is one
    // HardSigmoid pass (alpha·z + beta, clipped to [0, 1]) where it stays inside [0, 1] for every z
    // in [0, 1/3], as it does for zipformer's k; otherwise a Mul and an Add.
    const q = SOFTPLUS_TAIL.map((v) => v / (1 - k));
    const inner = [q[2]!, q[2]! + q[3]! / 3];
    let h = name('tail');
    if (Math.min(...inner) >= 0 && Math.max(...inner) <= 1) {
      const attribute = [
        { name: 'alpha', type: 1, f: q[3]! },
        { name: 'beta', type: 1, f: q[2]! },
      ];
      nodes.push({ opType: 'HardSigmoid', name: h, input: [zOut!], output: [h], attribute });
    } else {
      const scaled = name('tail');
      nodes.push(
        { opType: 'Mul', name: scaled, input: [zOut!, scalar('q4', q[3]!)], output: [scaled] },
        { opType: 'Add', name: h, input: [scaled, scalar('q3', q[2]!)], output: [h] },
      );
    }
    for (const i of [1, 0]) {
      const multiplied = name('tail');
      nodes.push({ opType: 'Mul', name: multiplied, input: [h, zOut!], output: [multiplied] });
      h = name('tail');
      nodes.push({ opType: 'Add', name: h, input: [multiplied, scalar(`q${i + 1}`, q[i]!)], output: [h] });
    }
    const tail = name('tail');
    nodes.push({ opType: 'Mul', name: tail, input: [h, zOut!], output: [tail] });
    h = tail;
    nodes.push(
      { opType: 'LeakyRelu', name: leakyOut, input: [s], output: [leakyOut!], attribute: [{ name: 'alpha', type: 1, f: -k / (1 - k) }] },
      { opType: 'Add', name: sumOut, input: [leakyOut!, h], output: [sumOut!] },
      { opType: 'Sub', name: offOut, input: [sumOut!, scalar('offset', (c + k * a) / (1 - k))], output: [offOut!] },
      { opType: 'Mul', name: `${last.name}_swoosh`, input: [offOut!, scalar('scale', 1 - k)], output: [last.output![0]!] },
    );
    replaced.set(last, nodes);
  }
  graph.nodes = graph.nodes.flatMap((n) => replaced.get(n) ?? [n]);
  graph.sortTopologically();
  graph.prune();
  const stableCount = found.filter((f) => f.form === 'stable').length;
  return { activations: found.length, stable: stableCount, guarded: found.length - stableCount };
}
