/** Entry point of the `edgevox` CLI (bin/edgevox.js imports this from dist/). */
import { isEdgeVoxError } from '../appliance/errors.js';
import { processIo, type CliIo } from './command.js';
import { COMMANDS } from './registry.js';

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.out(await helpText());
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (load === undefined) {
    io.err(`edgevox: unknown command '${name}' (see 'edgevox help')\n`);
    return 2;
  }
  const command = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.usage.endsWith('\n') ? command.usage : command.usage + '\n');
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (isEdgeVoxError(err)) {
      io.err(`edgevox ${name}: ${err.code}: ${err.message}\n`);
      return err.exitCode;
    }
    io.err(`edgevox ${name}: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

async function helpText(): Promise<string> {
  const lines = ['usage: edgevox <command> [options]', '', 'commands:'];
  for (const [name, load] of Object.entries(COMMANDS)) {
    const command = await load();
    lines.push(`  ${name.padEnd(16)} ${command.summary}`);
  }
  lines.push('', "Run 'edgevox <command> --help' for a command's options.", '');
  return lines.join('\n');
}
