/** The shape every `edgevox <command>` module exports. */
export interface CliCommand {
  readonly name: string;
  /** One line for `edgevox help`. */
  readonly summary: string;
  /** Usage text printed on `edgevox <command> --help` and on usage errors. */
  readonly usage: string;
  /** Runs the command; resolves to the process exit code. */
  run(argv: string[], io: CliIo): Promise<number>;
}

/** Where a command writes; tests pass buffers instead of the process streams. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/**
 * End the process now with `code` once stdout is written, when running as the real CLI. For
 * commands that used node-webrtc in this process: its native objects can abort the process
 * (SIGABRT) during Node's natural exit teardown, turning a finished run into a failed one.
 */
export async function exitNowAfterNodeWebrtc(io: CliIo, code: number): Promise<number> {
  if (io !== processIo) return code;
  await new Promise<void>((r) => process.stdout.write('', () => r()));
  process.exit(code);
}
