/**
 * A FIFO lane for decoder work shared by all streams of a recognizer. Everything runs on the one
 * JS thread anyway (onnxruntime-node runs inference synchronously inside each awaited call), so
 * serialising whole chunks loses no throughput; what it changes is latency: without it, the ~10
 * awaited calls of one chunk interleave with every other stream's calls and every chunk finishes
 * late (processor sharing); with it, chunks finish in arrival order (first come, first served).
 */
export class DecodeLane {
  private tail: Promise<unknown> = Promise.resolve();
  /** Chunks waiting or running. */
  depth = 0;

  run<T>(job: () => Promise<T>): Promise<T> {
    this.depth++;
    const result = this.tail.then(job);
    this.tail = result.then(
      () => this.depth--,
      () => this.depth--,
    );
    return result;
  }
}
