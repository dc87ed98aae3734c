/**
 * Contextual-biasing graph (an Aho-Corasick automaton over token sequences), after the idea of
 * icefall's ContextGraph as used by sherpa-onnx hotwords and keyword spotting: each token of a
 * phrase earns a bonus while a hypothesis follows the phrase; if the hypothesis leaves a partial
 * match, the bonus earned so far is taken back; a completed phrase keeps its bonus.
 */

export interface ContextPhrase {
  /** Token ids of the phrase. */
  readonly tokens: readonly number[];
  /** Bonus per token (log-probability units). */
  readonly boost: number;
  /** The phrase as the user wrote it (returned with keyword hits). */
  readonly text: string;
  /** Keyword spotting: minimum mean token probability to report a hit. */
  readonly threshold?: number | undefined;
}

export class ContextNode {
  readonly id: number;
  readonly token: number;
  readonly depth: number;
  /** Bonus accumulated from the root to this node. */
  readonly score: number;
  readonly next = new Map<number, ContextNode>();
  fail: ContextNode | undefined;
  /** Nearest end node reachable through fail links (for phrases that end inside a longer one). */
  output: ContextNode | undefined;
  /** The phrase that ends here, if any. */
  phrase: ContextPhrase | undefined;

  constructor(id: number, token: number, depth: number, score: number) {
    this.id = id;
    this.token = token;
    this.depth = depth;
    this.score = score;
  }

  get isEnd(): boolean {
    return this.phrase !== undefined;
  }
}

export interface ContextStep {
  readonly node: ContextNode;
  /** Score change for taking this token (may be negative when a partial match is abandoned). */
  readonly delta: number;
  /** The phrase completed by this token, if any. */
  readonly matched: ContextNode | undefined;
}

export class ContextGraph {
  readonly root: ContextNode;
  readonly size: number;

  constructor(phrases: readonly ContextPhrase[]) {
    let nextId = 0;
    this.root = new ContextNode(nextId++, -1, 0, 0);
    for (const p of phrases) {
      let node = this.root;
      for (const t of p.tokens) {
        let child = node.next.get(t);
        if (child === undefined) {
          child = new ContextNode(nextId++, t, node.depth + 1, node.score + p.boost);
          node.next.set(t, child);
        }
        node = child;
      }
      if (node !== this.root) node.phrase = p;
    }
    this.size = nextId;
    this.buildFailLinks();
  }

  get isEmpty(): boolean {
    return this.root.next.size === 0;
  }

  /** Follow `token` from `state`. */
  step(state: ContextNode, token: number): ContextStep {
    const direct = state.next.get(token);
    let node: ContextNode;
    if (direct !== undefined) {
      node = direct;
    } else {
      let f = state.fail;
      while (f !== undefined && !f.next.has(token)) f = f.fail;
      node = f?.next.get(token) ?? this.root;
    }
    // A completed phrase is banked: leaving it does not take its bonus back.
    const base = state.isEnd && direct === undefined ? 0 : state.score;
    const delta = node.score - base;
    const matched = node.isEnd ? node : node.output;
    return { node, delta, matched };
  }

  /** Score correction at the end of decoding: take back the bonus of an unfinished match. */
  finalize(state: ContextNode): number {
    return state.isEnd ? 0 : -state.score;
  }

  private buildFailLinks(): void {
    const queue: ContextNode[] = [];
    for (const child of this.root.next.values()) {
      child.fail = this.root;
      queue.push(child);
    }
    for (let i = 0; i < queue.length; i++) {
      const node = queue[i]!;
      for (const [t, child] of node.next) {
        let f = node.fail;
        while (f !== undefined && !f.next.has(t)) f = f.fail;
        child.fail = f?.next.get(t) ?? this.root;
        if (child.fail === child) child.fail = this.root;
        const fo = child.fail;
        child.output = fo.isEnd ? fo : fo.output;
        queue.push(child);
      }
    }
  }
}
