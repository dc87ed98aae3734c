/**
 * Sentence embeddings for semantic QA rules, computed off the event loop: one worker thread holds
 * the Universal Sentence Encoder lite (loaded once, on first use or by `load()`), batches of texts
 * go to it in one message, and vectors come back. Each distinct (normalised) text is embedded once:
 * vectors are kept in a bounded in-memory cache keyed by a hash of the text (the text itself is not
 * kept), so rule phrases and re-scored calls cost nothing the second time.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { evxError } from '../errors.js';
import { embedWorkerScript } from './embedWorkerScript.js';

/** Texts as the model sees them: NFKC, lower case, punctuation dropped (recogniser output has none). */
export function embeddingText(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}'’\s]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export interface EmbedderStats {
  /** Model load time in the worker (null until loaded). */
  loadMs: number | null;
  /** Texts sent to the model, batches sent, texts answered from the cache, ms spent waiting for batches. */
  embedded: number;
  batches: number;
  cacheHits: number;
  embedMs: number;
}

type Pending = { resolve: (v: Float32Array[]) => void; reject: (e: Error) => void };

export class SentenceEmbedder {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly cache = new Map<string, Float32Array>();
  private failedAt = -Infinity;
  private closed = false;
  readonly counters: EmbedderStats = { loadMs: null, embedded: 0, batches: 0, cacheHits: 0, embedMs: 0 };

  constructor(private readonly opts: { maxCached?: number; retryAfterMs?: number } = {}) {}

  /** Start the worker and load the model (idempotent); rejects with EVX_ERR_QA_SEMANTIC_UNAVAILABLE. */
  load(): Promise<void> {
    if (this.closed) return Promise.reject(unavailable('the embedder is closed'));
    if (this.ready !== undefined) return this.ready;
    if (performance.now() - this.failedAt < (this.opts.retryAfterMs ?? 60_000))
      return Promise.reject(unavailable('the embedding model failed to load a moment ago'));
    this.ready = this.start().catch((err: unknown) => {
      this.failedAt = performance.now();
      this.stop(err instanceof Error ? err : new Error(String(err)));
      throw unavailable(err instanceof Error ? err.message : String(err));
    });
    return this.ready;
  }

  private async start(): Promise<void> {
    const script = await embedWorkerScript();
    if (this.closed) throw new Error('the embedder is closed');
    const worker = new Worker(script, { name: 'edgevox-qa-embed' });
    this.worker = worker;
    worker.unref();
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: { type?: string; loadMs?: number; error?: string; id?: number; vectors?: Float32Array[] }) => {
        if (msg.type === 'ready') {
          this.counters.loadMs = Math.round(msg.loadMs ?? 0);
          resolve();
        } else if (msg.type === 'failed') reject(new Error(msg.error ?? 'the embedding model did not load'));
        else if (msg.id !== undefined) {
          const p = this.pending.get(msg.id);
          this.pending.delete(msg.id);
          if (p === undefined) return;
          if (msg.vectors !== undefined) p.resolve(msg.vectors);
          else p.reject(unavailable(msg.error ?? 'embedding failed'));
        }
      });
      worker.on('error', (err) => {
        reject(err);
        this.stop(err);
      });
      worker.on('exit', (code) => {
        const err = new Error(`the embedding worker ended (${code})`);
        reject(err);
        this.stop(err);
      });
    });
  }

  /** Forget the worker (it ended or failed): pending batches are rejected; the next call starts a new one. */
  private stop(err: Error): void {
    const w = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    for (const p of this.pending.values()) p.reject(unavailable(err.message));
    this.pending.clear();
    if (w !== undefined) void w.terminate().catch(() => {});
  }

  /**
   * Vectors of the texts, in order (texts are normalised with `embeddingText`). Cached texts are
   * answered at once; the rest go to the worker in one batch.
   */
  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    const keys = texts.map((t) => keyOf(embeddingText(t)));
    const missing = new Map<string, string>();
    keys.forEach((k, i) => {
      if (!this.cache.has(k) && !missing.has(k)) missing.set(k, embeddingText(texts[i]!));
    });
    this.counters.cacheHits += texts.length - missing.size;
    if (missing.size > 0) {
      await this.load();
      const worker = this.worker;
      if (worker === undefined) throw unavailable('the embedding worker is not running');
      const id = this.nextId++;
      const started = performance.now();
      const vectors = await new Promise<Float32Array[]>((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        worker.postMessage({ id, texts: [...missing.values()] });
      });
      this.counters.batches++;
      this.counters.embedded += missing.size;
      this.counters.embedMs += performance.now() - started;
      [...missing.keys()].forEach((k, i) => this.remember(k, vectors[i]!));
    }
    return keys.map((k) => {
      const v = this.cache.get(k)!;
      // most recently used last
      this.cache.delete(k);
      this.cache.set(k, v);
      return v;
    });
  }

  private remember(key: string, v: Float32Array): void {
    this.cache.set(key, v);
    const max = this.opts.maxCached ?? 5000;
    while (this.cache.size > max) this.cache.delete(this.cache.keys().next().value!);
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.stop(new Error('the embedder is closed'));
    if (w !== undefined) await w.terminate().catch(() => 0);
    this.cache.clear();
  }
}

function keyOf(text: string): string {
  return createHash('sha1').update(text).digest('base64');
}

function unavailable(reason: string) {
  return evxError('EVX_ERR_QA_SEMANTIC_UNAVAILABLE', `Semantic QA rules cannot be evaluated now: ${reason}.`);
}
