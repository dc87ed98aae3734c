/**
 * How many onnxruntime runs this thread has in progress, kept in shared memory so that another
 * thread can read it. A recognition worker that stops answering must be ended from outside, and
 * ending a thread while it is inside a native onnxruntime call aborts the whole process
 * ("terminate called after throwing an instance of 'Napi::Error'"): its pool reads the gauge first.
 *
 *   worker:  shareRunGauge(gauge)      // before its sessions are loaded; loadSession() counts their runs
 *   pool:    inferenceRunning(gauge)   // true from a run's call until its promise settles
 *
 * The count is from the call to session.run() to its settling, a little wider than the native call
 * itself (the run waits a setImmediate first): it errs on the side of not ending the thread.
 */
import type * as ort from 'onnxruntime-node';

let gauge: Int32Array | undefined;

/** A new gauge for one thread, to share with it (e.g. in its workerData). */
export function newRunGauge(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
}

/** Count the runs of every session this thread loads from now on in `shared` (undefined: stop counting). */
export function shareRunGauge(shared: Int32Array | undefined): void {
  gauge = shared;
}

/** The thread that owns `shared` is inside (or about to enter) an onnxruntime run. */
export function inferenceRunning(shared: Int32Array): boolean {
  return Atomics.load(shared, 0) > 0;
}

/** Make `session` count its runs in this thread's gauge, if it has one. */
export function countRuns(session: ort.InferenceSession): void {
  const shared = gauge;
  if (shared === undefined) return;
  const run = session.run.bind(session) as (...args: unknown[]) => Promise<ort.InferenceSession.ReturnType>;
  const done = (): void => void Atomics.sub(shared, 0, 1);
  // no async wrapper: one more promise per run, not an async function's extra turns (measured: a
  // decoder or joiner run, ~25-45 µs, is not slowed measurably this way; the async form cost ~1.5 µs)
  const counted = (...args: unknown[]): Promise<ort.InferenceSession.ReturnType> => {
    Atomics.add(shared, 0, 1);
    let running: Promise<ort.InferenceSession.ReturnType>;
    try {
      running = run(...args);
    } catch (err) {
      done();
      throw err;
    }
    running.then(done, done);
    return running;
  };
  session.run = counted;
}
