/**
 * The close cascade of the composition root: components are pushed as they start and closed in
 * reverse order exactly once. One component failing (or hanging past its timeout) to close does not
 * stop the others from closing; the failures are returned for the log.
 */
export interface Closable {
  readonly name: string;
  close(): void | Promise<void>;
}

export class CloseStack {
  private readonly stack: Closable[] = [];
  private closing: Promise<{ name: string; error: string }[]> | undefined;

  push(component: Closable): void {
    if (this.closing !== undefined) throw new Error(`cannot add ${component.name}: already closing`);
    this.stack.push(component);
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Close everything in reverse order; idempotent (later calls return the first call's result). */
  close(timeoutMs = 10_000): Promise<{ name: string; error: string }[]> {
    this.closing ??= (async () => {
      const failures: { name: string; error: string }[] = [];
      while (this.stack.length > 0) {
        const component = this.stack.pop()!;
        try {
          await withTimeout(
            Promise.resolve().then(() => component.close()),
            timeoutMs,
            component.name,
          );
        } catch (err) {
          failures.push({ name: component.name, error: err instanceof Error ? err.message : String(err) });
        }
      }
      return failures;
    })();
    return this.closing;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} did not close within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
