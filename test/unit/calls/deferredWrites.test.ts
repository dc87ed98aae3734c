import { describe, expect, it } from 'vitest';
import { DeferredWrites } from '../../../appliance/calls/deferredWrites.js';

class Retryable extends Error {}

describe('DeferredWrites', () => {
  it('replays in order once writes succeed again, and is bounded', () => {
    let full = true;
    const written: string[] = [];
    const q = new DeferredWrites(3, 60_000, (e) => e instanceof Retryable);
    const write = (name: string) => ({
      operation: name,
      run: () => {
        if (full) throw new Retryable('SQLITE_FULL');
        written.push(name);
      },
    });
    for (const n of ['a', 'b', 'c', 'd']) q.add(write(n));
    expect(q.pending).toBe(3);
    expect(q.dropped).toBe(1); // 'a', the oldest
    expect(q.flush()).toBe(0);
    full = false;
    expect(q.flush()).toBe(3);
    expect(written).toEqual(['b', 'c', 'd']);
    q.close();
  });

  it('drops a write that can never succeed instead of blocking the rest', () => {
    const written: string[] = [];
    const q = new DeferredWrites(10, 60_000, (e) => e instanceof Retryable);
    q.add({
      operation: 'dup',
      run: () => {
        throw new Error('SQLITE_CONSTRAINT');
      },
    });
    q.add({ operation: 'ok', run: () => written.push('ok') });
    expect(q.flush()).toBe(2);
    expect(written).toEqual(['ok']);
    expect(q.dropped).toBe(1);
    q.close();
  });
});
