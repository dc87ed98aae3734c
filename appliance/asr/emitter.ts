/**
 * A small typed event emitter whose listeners cannot break the caller: a listener that throws is
 * caught, counted and reported to `onListenerError`, and the remaining listeners still run.
 */
export type EventMap = { [event: string]: unknown };
export type Listener<T> = (payload: T) => void;

export class TypedEmitter<E extends EventMap> {
  private readonly listeners: { [K in keyof E]?: Listener<E[K]>[] } = {};
  /** Listener exceptions swallowed so far. */
  listenerErrors = 0;
  onListenerError: ((err: unknown, event: keyof E) => void) | undefined;

  on<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    (this.listeners[event] ??= []).push(listener);
    return this;
  }

  once<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    const wrapped: Listener<E[K]> = (p) => {
      this.off(event, wrapped);
      listener(p);
    };
    return this.on(event, wrapped);
  }

  off<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    const list = this.listeners[event];
    if (list !== undefined) {
      const i = list.indexOf(listener);
      if (i >= 0) list.splice(i, 1);
    }
    return this;
  }

  listenerCount<K extends keyof E>(event: K): number {
    return this.listeners[event]?.length ?? 0;
  }

  removeAllListeners(): void {
    for (const k of Object.keys(this.listeners)) delete this.listeners[k as keyof E];
  }

  protected emit<K extends keyof E>(event: K, payload: E[K]): void {
    const list = this.listeners[event];
    if (list === undefined || list.length === 0) return;
    for (const l of [...list]) {
      try {
        l(payload);
      } catch (err) {
        this.listenerErrors++;
        try {
          this.onListenerError?.(err, event);
        } catch {
          // a failing error hook must not break decoding either
        }
      }
    }
  }
}
