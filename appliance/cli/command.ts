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
