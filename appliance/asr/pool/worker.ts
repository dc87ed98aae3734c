/**
 * A recognition worker thread: owns one Recognizer (its own ONNX sessions, `threads` intra-op
 * threads) and the streams the pool placed on it. Audio batches come in; events, replies and a
 * periodic stats mirror go out. Everything here runs off the main thread, so inference never blocks
 * SIP/RTP/HTTP handling there.
 */
import { performance } from 'node:perf_hooks';
import { memoryUsage } from 'node:process';
import { parentPort, workerData } from 'node:worker_threads';
import { evxError } from '../../errors.js';
import { shareRunGauge } from '../../inference/runGauge.js';
import { Recognizer } from '../recognizer.js';
import type { RecognizerStream } from '../stream.js';
import {
  AUDIO_ENTRY,
  KIND_INT16,
  STAT_FIELDS,
  packStats,
  toWireError,
  type FromWorker,
  type OutItem,
  type ToWorker,
  type WorkerInit,
} from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('asr/pool/worker.js must run in a worker thread');
const init = workerData as WorkerInit;
/** main-thread performance.now() + offset = this thread's performance.now() */
const clockOffset = init.mainTimeOrigin - performance.timeOrigin;

const streams = new Map<number, RecognizerStream>();
/** Set once the models are loaded (stats report its encoder batching). */
let loaded: Recognizer | undefined;
let outbox: OutItem[] = [];
let outScheduled = false;
let lastSeq = 0;

function post(msg: FromWorker, transfer?: ArrayBuffer[]): void {
  port!.postMessage(msg, transfer);
}

/** Events and replies of one event-loop turn go out in one message, in order. */
function out(item: OutItem): void {
  outbox.push(item);
  if (outScheduled) return;
  outScheduled = true;
  setImmediate(() => {
    outScheduled = false;
    const items = outbox;
    outbox = [];
    post({ t: 'out', items });
  });
}

function sendStats(): void {
  const ids = new Int32Array(streams.size);
  const values = new Float64Array(streams.size * STAT_FIELDS.length);
  let i = 0;
  for (const [id, s] of streams) {
    ids[i] = id;
    packStats(s.stats(), values, i * STAT_FIELDS.length);
    i++;
  }
  const mem = memoryUsage();
  post(
    { t: 'stats', ack: lastSeq, ids, values, heapUsedBytes: mem.heapUsed, externalBytes: mem.external, encoderBatch: loaded?.batchStats() },
    [ids.buffer, values.buffer],
  );
}

function createStream(recognizer: Recognizer, id: number, msg: Extract<ToWorker, { t: 'create' }>): void {
  let stream: RecognizerStream;
  try {
    stream = recognizer.createStream(msg.options);
  } catch (err) {
    // the pool validated the options already; report rather than crash the worker
    out({ k: 'event', id, event: { type: 'error', error: toWireError(err) }, stats: null });
    return;
  }
  streams.get(id)?.close();
  streams.set(id, stream);
  stream.on('partial', (event) => out({ k: 'event', id, event, stats: null }));
  stream.on('keyword', (event) => out({ k: 'event', id, event, stats: null }));
  stream.on('final', (event) => out({ k: 'event', id, event, stats: packStats(stream.stats()) }));
  stream.on('error', (e) =>
    out({ k: 'event', id, event: { type: 'error', error: toWireError(e.error) }, stats: packStats(stream.stats()) }),
  );
}

function reply(id: number, req: number, work: Promise<unknown>): void {
  work.then(
    (value) => {
      const s = streams.get(id);
      out({ k: 'reply', id, req, value: value ?? null, error: null, stats: s === undefined ? null : packStats(s.stats()) });
    },
    (err: unknown) => {
      const s = streams.get(id);
      out({ k: 'reply', id, req, value: null, error: toWireError(err), stats: s === undefined ? null : packStats(s.stats()) });
    },
  );
}

function takeAudio(msg: Extract<ToWorker, { t: 'audio' }>): void {
  lastSeq = msg.seq;
  const index = msg.index;
  for (let e = 0; e + AUDIO_ENTRY <= index.length; e += AUDIO_ENTRY) {
    const stream = streams.get(index[e]!);
    if (stream === undefined || stream.isClosed) continue;
    const kind = index[e + 1]!;
    const offset = index[e + 2]!;
    const length = index[e + 3]!;
    const samples = kind === KIND_INT16 ? new Int16Array(msg.payload, offset, length) : new Float32Array(msg.payload, offset, length);
    try {
      stream.push(samples, index[e + 4]! + clockOffset);
    } catch {
      // push during a pending flush: the main side enforces the same rule, so this is a race
      // with a flush that just started; the audio is dropped like audio after close
    }
  }
}

async function main(): Promise<void> {
  // A shutdown can come while the models load (the pool closing during a start or a restart). The
  // thread must not be terminated from outside then: onnxruntime is inside a native call, and that
  // aborts the whole process. So it is noted here and the thread ends itself once loading is over.
  let shutdownWhileLoading = false;
  const whileLoading = (msg: ToWorker): void => {
    if (msg.t === 'shutdown') shutdownWhileLoading = true;
  };
  port!.on('message', whileLoading);
  if (init.runGauge !== undefined) shareRunGauge(init.runGauge);
  if (init.loadStallMs !== undefined && init.loadStallMs > 0) {
    // blocked like a read from stuck storage: no message is taken in until it returns
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, init.loadStallMs);
  }
  let recognizer: Recognizer;
  try {
    recognizer = await Recognizer.create(init.recognizer);
    loaded = recognizer;
  } catch (err) {
    // no listener left: the thread ends on its own once the fatal report is out
    port!.off('message', whileLoading);
    if (shutdownWhileLoading) process.exit(0);
    post({ t: 'fatal', error: toWireError(err) });
    return;
  }
  port!.off('message', whileLoading);
  if (shutdownWhileLoading) process.exit(0);
  const timer = setInterval(sendStats, init.statsIntervalMs);
  port!.on('message', (msg: ToWorker) => {
    switch (msg.t) {
      case 'audio':
        takeAudio(msg);
        break;
      case 'create':
        createStream(recognizer, msg.id, msg);
        break;
      case 'flush': {
        const s = streams.get(msg.id);
        // a stream whose creation failed (already reported as an error event) still gets an answer
        reply(
          msg.id,
          msg.req,
          s !== undefined
            ? s.flush(msg.atMs + clockOffset)
            : Promise.reject(evxError('EVX_ERR_STREAM_CLOSED', 'no such recognition stream in this worker')),
        );
        break;
      }
      case 'idle': {
        const s = streams.get(msg.id);
        reply(msg.id, msg.req, s === undefined ? Promise.resolve() : s.whenIdle());
        break;
      }
      case 'close':
        streams.get(msg.id)?.close();
        streams.delete(msg.id);
        break;
      case 'shutdown':
        // End the thread from here, between inference calls: releasing the sessions with
        // recognizer.close() could race a run the streams' pumps have already queued (onnxruntime
        // runs it from a setImmediate), and a native call into a released session aborts the whole
        // process. The sessions are freed with the thread's environment.
        clearInterval(timer);
        for (const s of streams.values()) s.close();
        streams.clear();
        process.exit(0);
        break;
      case 'crash':
        // Between inference calls, like 'shutdown', but abnormal: the pool must treat it as a crash.
        // (Terminating a thread from outside while onnxruntime runs aborts the whole process.)
        process.exit(70);
        break;
      case 'hang': {
        // Like a decoder caught in a loop (or, with inInference, a run that does not return): the
        // thread answers nothing, stats included. Bounded, so nothing is stuck for ever.
        const gauge = msg.inInference ? init.runGauge : undefined;
        if (gauge !== undefined) Atomics.add(gauge, 0, 1);
        const until = Date.now() + msg.ms;
        while (Date.now() < until);
        if (gauge !== undefined) Atomics.sub(gauge, 0, 1);
        break;
      }
    }
  });
  post({ t: 'ready', info: recognizer.info() });
}

void main();
