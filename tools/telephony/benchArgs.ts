/** Command-line options of the bench child processes (benchCallers.ts, acdBenchPeers.ts): `--name value`. */

/** The value after `--name`, else `def`; throws when neither is there. */
export function arg(name: string, def?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : def;
  if (v === undefined) throw new Error(`--${name} is required`);
  return v;
}
