import { describe, expect, it } from 'vitest';
import { ContextGraph } from '../../../appliance/asr/contextGraph.js';

describe('ContextGraph', () => {
  const g = new ContextGraph([
    { tokens: [1, 2, 3], boost: 1, text: 'abc' },
    { tokens: [2, 4], boost: 2, text: 'bd' },
  ]);

  it('awards a bonus per matched token and banks a completed phrase', () => {
    let s = g.step(g.root, 1);
    expect(s.delta).toBe(1);
    s = g.step(s.node, 2);
    expect(s.delta).toBe(1);
    s = g.step(s.node, 3);
    expect(s.delta).toBe(1);
    expect(s.matched?.phrase?.text).toBe('abc');
    const after = g.step(s.node, 9);
    expect(after.delta).toBe(0); // leaving a completed phrase keeps its bonus
    expect(g.finalize(s.node)).toBe(0);
  });

  it('takes back the bonus of an abandoned partial match', () => {
    let s = g.step(g.root, 1);
    s = g.step(s.node, 2);
    const miss = g.step(s.node, 7);
    expect(miss.delta).toBe(-2);
    expect(miss.node).toBe(g.root);
    expect(g.finalize(s.node)).toBe(-2);
  });

  it('follows failure links into another phrase (Aho-Corasick)', () => {
    let s = g.step(g.root, 1); // a
    s = g.step(s.node, 2); // ab (+1 +1)
    const t = g.step(s.node, 4); // -> "bd" completes through the fail link of "ab" -> "b"
    expect(t.matched?.phrase?.text).toBe('bd');
    expect(t.delta).toBe(4 - 2); // now worth 2 tokens x 2, was worth 2
  });
});
