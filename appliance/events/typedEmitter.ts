/**
 * A small typed event emitter. A listener that throws is contained: it is counted, reported to
 * `onListenerError` (metrics/log), and the remaining listeners and the emitter's caller carry on,
 * so a broken console subscriber can never break the media path or a recognition stream.
 */
// Event maps are interfaces: event name -> payload type.
export type Listener<T> = (payload: T) => void;

/** Told about every listener exception the emitter contained. */
export type ListenerErrorHook = (event: string, err: unknown) => void;

export class TypedEmitter<E extends object> {
  private readonly listeners = new Map<keyof E, Set<Listener<never>>>();
  private containedErrors = 0;

  constructor(private readonly onListenerError: ListenerErrorHook = () => {}) {}

  /** Listener exceptions contained so far (recognition streams report it in their stats). */
  get listenerErrors(): number {
    return this.containedErrors;
  }

  /** Subscribe; returns the function that unsubscribes. */
  on<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  once<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    const off = this.on(event, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  off<K extends keyof E>(event: K, listener: Listener<E[K]>): void {
    this.listeners.get(event)?.delete(listener);
  }

  emit<K extends keyof E>(event: K, payload: E[K]): void {
    const set = this.listeners.get(event);
    if (set === undefined) return;
    // A copy, so a listener that unsubscribes (once) does not disturb this round.
    for (const listener of [...set]) {
      try {
        (listener as Listener<E[K]>)(payload);
      } catch (err) {
        this.containedErrors++;
        try {
          this.onListenerError(String(event), err);
        } catch {
          // the hook is metrics/logging: if it fails too, the emitter's caller must still carry on
        }
      }
    }
  }

  listenerCount<K extends keyof E>(event: K): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  removeAllListeners(): void {
    this.listeners.clear();
  }
}
