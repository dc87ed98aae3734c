/**
 * The media plane: a pool of mediasoup workers (one per core by default) and a router per call.
 *
 * A worker that dies takes its routers with it: mediasoup closes them ('workerclose'), each
 * CallMedia on it closes with reason 'worker-died', the plane emits `workerDied` and replaces the
 * worker after `workerRestartDelayMs` (`workerRestarted`). New calls go to the worker with the
 * fewest routers. See CLOSURES.md for the close cascade.
 */
import type { Worker } from 'mediasoup/types';
import { evxError } from '../errors.js';
import { TypedEmitter } from '../events/typedEmitter.js';
import { CallMedia } from './callMedia.js';
import { ROUTER_MEDIA_CODECS } from './codecs.js';
import { effectiveWorkerCount, resolveMediaPlaneConfig, type MediaPlaneConfig } from './config.js';
import { loadMediasoup, type WorkerBinLocation } from './workerBin.js';

export interface MediaPlaneEvents {
  workerDied: { workerIndex: number; pid: number; error: string; closedCalls: number };
  workerRestarted: { workerIndex: number; pid: number };
  workerRestartFailed: { workerIndex: number; error: string };
  callClosed: { callId: string; reason: string };
}

interface WorkerSlot {
  readonly index: number;
  worker: Worker | undefined;
  readonly calls: Set<CallMedia>;
  /** Calls closed by 'workerclose' (mediasoup reports it before the worker's 'died'). */
  callsLostToDeath: number;
  restartTimer: NodeJS.Timeout | undefined;
}

export interface WorkerStats {
  readonly workerIndex: number;
  readonly pid: number | null;
  readonly calls: number;
}

export class MediaPlane {
  readonly events: TypedEmitter<MediaPlaneEvents>;
  private readonly slots: WorkerSlot[] = [];
  private readonly calls = new Map<string, CallMedia>();
  private closedFlag = false;

  private constructor(
    readonly config: MediaPlaneConfig,
    readonly workerBin: WorkerBinLocation,
    private readonly createWorker: () => Promise<Worker>,
    onListenerError: (event: string, err: unknown) => void,
  ) {
    this.events = new TypedEmitter<MediaPlaneEvents>(onListenerError);
  }

  /** Starts the workers. Throws EVX_ERR_WEBRTC_WORKER_MISSING if the worker binary is not built. */
  static async start(
    partial: Partial<MediaPlaneConfig> = {},
    options: { onListenerError?: (event: string, err: unknown) => void } = {},
  ): Promise<MediaPlane> {
    const config = resolveMediaPlaneConfig(partial);
    const { module: mediasoup, bin } = await loadMediasoup();
    const createWorker = () =>
      mediasoup.createWorker({
        logLevel: config.workerLogLevel,
        rtcMinPort: config.rtcMinPort,
        rtcMaxPort: config.rtcMaxPort,
        // Built with -Dms_disable_liburing; say so at runtime too.
        disableLiburing: true,
      });
    const plane = new MediaPlane(config, bin, createWorker, options.onListenerError ?? (() => {}));
    const count = effectiveWorkerCount(config);
    try {
      for (let i = 0; i < count; i++) {
        const slot: WorkerSlot = { index: i, worker: undefined, calls: new Set(), callsLostToDeath: 0, restartTimer: undefined };
        plane.slots.push(slot);
        plane.attach(slot, await createWorker());
      }
    } catch (err) {
      await plane.close();
      throw evxError('EVX_ERR_WEBRTC_MEDIA', 'A mediasoup worker failed to start', { cause: err, details: { workerBin: bin.path } });
    }
    return plane;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Creates the router of a call on the least loaded live worker. */
  async createCall(callId: string): Promise<CallMedia> {
    if (this.closedFlag) throw evxError('EVX_ERR_WEBRTC_CLOSED', 'The media plane is closed');
    if (this.calls.has(callId))
      throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'A call with this id already has media', { details: { callId } });
    const slot = this.slots.filter((s) => s.worker !== undefined && !s.worker.closed).sort((a, b) => a.calls.size - b.calls.size)[0];
    if (slot?.worker === undefined) throw evxError('EVX_ERR_WEBRTC_WORKER_DIED', 'No mediasoup worker is running');
    let router;
    try {
      router = await slot.worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS, appData: { callId } });
    } catch (err) {
      throw evxError('EVX_ERR_WEBRTC_MEDIA', 'Creating the call router failed', { cause: err, details: { callId } });
    }
    const call = new CallMedia(callId, router, this.config, (reason) => {
      slot.calls.delete(call);
      if (reason === 'worker-died') slot.callsLostToDeath++;
      this.calls.delete(callId);
      this.events.emit('callClosed', { callId, reason });
    });
    slot.calls.add(call);
    this.calls.set(callId, call);
    return call;
  }

  getCall(callId: string): CallMedia | undefined {
    return this.calls.get(callId);
  }

  get activeCalls(): number {
    return this.calls.size;
  }

  workerStats(): WorkerStats[] {
    return this.slots.map((s) => ({ workerIndex: s.index, pid: s.worker?.closed === false ? s.worker.pid : null, calls: s.calls.size }));
  }

  /** Process ids of the live workers (tests and the self-test check they are gone after close). */
  workerPids(): number[] {
    return this.slots.flatMap((s) => (s.worker !== undefined && !s.worker.closed ? [s.worker.pid] : []));
  }

  /** Closes every call, then every worker. Idempotent. */
  async close(): Promise<void> {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const call of [...this.calls.values()]) call.close('media-plane-closed');
    for (const slot of this.slots) {
      if (slot.restartTimer !== undefined) clearTimeout(slot.restartTimer);
      slot.restartTimer = undefined;
      slot.worker?.close();
    }
    // worker.close() kills the process asynchronously; wait for the exits so nothing outlives close().
    await Promise.all(this.slots.map((s) => waitForExit(s.worker?.pid)));
  }

  private attach(slot: WorkerSlot, worker: Worker): void {
    slot.worker = worker;
    worker.on('died', (error: Error) => this.onWorkerDied(slot, worker, error));
  }

  private onWorkerDied(slot: WorkerSlot, worker: Worker, error: Error): void {
    if (slot.worker !== worker) return;
    // mediasoup has already closed the routers ('workerclose'); make sure our call objects follow
    // even if an event was missed.
    for (const call of [...slot.calls]) call.close('worker-died');
    const closedCalls = slot.callsLostToDeath;
    slot.callsLostToDeath = 0;
    slot.worker = undefined;
    this.events.emit('workerDied', { workerIndex: slot.index, pid: worker.pid, error: error.message, closedCalls });
    if (this.closedFlag) return;
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined;
      this.createWorker().then(
        (fresh) => {
          if (this.closedFlag) {
            fresh.close();
            return;
          }
          this.attach(slot, fresh);
          this.events.emit('workerRestarted', { workerIndex: slot.index, pid: fresh.pid });
        },
        (err: unknown) =>
          this.events.emit('workerRestartFailed', { workerIndex: slot.index, error: err instanceof Error ? err.message : String(err) }),
      );
    }, this.config.workerRestartDelayMs);
    slot.restartTimer.unref();
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForExit(pid: number | undefined, timeoutMs = 5_000): Promise<void> {
  if (pid === undefined) return;
  const deadline = Date.now() + timeoutMs;
  while (processAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}
