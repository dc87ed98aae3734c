/** How repositories run writes: through Store.write, which times them and maps SQLite errors. */
export type Writer = <T>(operation: string, fn: () => T) => T;

export function parseJson<T>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined || text === '') return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
