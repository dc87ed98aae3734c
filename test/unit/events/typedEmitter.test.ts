import { describe, expect, it } from 'vitest';
import { TypedEmitter } from '../../../appliance/events/typedEmitter.js';

describe('TypedEmitter', () => {
  class E extends TypedEmitter<{ tick: number }> {
    fire(n: number): void {
      this.emit('tick', n);
    }
  }
  it('contains a throwing listener: the others still run and the error is counted', () => {
    const errors: unknown[] = [];
    const e = new E((_event, err) => errors.push(err));
    const seen: number[] = [];
    e.on('tick', () => {
      throw new Error('bad listener');
    });
    e.on('tick', (n) => seen.push(n));
    expect(() => e.fire(1)).not.toThrow();
    e.fire(2);
    expect(seen).toEqual([1, 2]);
    expect(e.listenerErrors).toBe(2);
    expect(errors).toHaveLength(2);
  });

  it('contains a throwing error hook as well', () => {
    const e = new E(() => {
      throw new Error('bad hook');
    });
    const seen: number[] = [];
    e.on('tick', () => {
      throw new Error('bad listener');
    });
    e.on('tick', (n) => seen.push(n));
    expect(() => e.fire(1)).not.toThrow();
    expect(seen).toEqual([1]);
    expect(e.listenerErrors).toBe(1);
  });

  it('on() and once() return the function that unsubscribes', () => {
    const e = new E();
    const seen: string[] = [];
    const off = e.on('tick', (n) => seen.push(`on ${n}`));
    e.once('tick', (n) => seen.push(`once ${n}`));
    const offOnce = e.once('tick', (n) => seen.push(`cancelled ${n}`));
    offOnce();
    e.fire(1);
    off();
    e.fire(2);
    expect(seen).toEqual(['on 1', 'once 1']);
    expect(e.listenerCount('tick')).toBe(0);
  });
});
