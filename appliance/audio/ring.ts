/**
 * Fixed-capacity ring of float samples. When a write would overflow, the OLDEST samples are
 * dropped (the consumer is behind; fresh audio matters more in a live call) and the count is
 * returned so the caller can report it.
 */
export class SampleRing {
  readonly capacity: number;
  private readonly buf: Float32Array;
  private head = 0; // index of the oldest sample
  private len = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.buf = new Float32Array(capacity);
  }

  get length(): number {
    return this.len;
  }

  /** Append `src`; returns how many old samples were dropped to make room. */
  write(src: Float32Array): number {
    let data = src;
    let dropped = 0;
    if (data.length > this.capacity) {
      dropped += data.length - this.capacity;
      data = data.subarray(data.length - this.capacity);
    }
    const over = this.len + data.length - this.capacity;
    if (over > 0) {
      this.skip(over);
      dropped += over;
    }
    let tail = (this.head + this.len) % this.capacity;
    let off = 0;
    while (off < data.length) {
      const n = Math.min(data.length - off, this.capacity - tail);
      this.buf.set(data.subarray(off, off + n), tail);
      off += n;
      tail = (tail + n) % this.capacity;
    }
    this.len += data.length;
    return dropped;
  }

  /** Move `n` samples (n <= length) into dst[0..n). */
  read(dst: Float32Array, n: number): void {
    this.peek(dst, n);
    this.skip(n);
  }

  /** Copy the oldest `n` samples into dst without removing them. */
  peek(dst: Float32Array, n: number): void {
    if (n > this.len) throw new RangeError(`ring holds ${this.len} samples, ${n} requested`);
    let off = 0;
    let pos = this.head;
    while (off < n) {
      const k = Math.min(n - off, this.capacity - pos);
      dst.set(this.buf.subarray(pos, pos + k), off);
      off += k;
      pos = (pos + k) % this.capacity;
    }
  }

  skip(n: number): void {
    const k = Math.min(n, this.len);
    this.head = (this.head + k) % this.capacity;
    this.len -= k;
  }

  clear(): void {
    this.head = 0;
    this.len = 0;
  }
}
