/**
 * The list of CLI commands. Each is loaded lazily so `edgevox transcribe` does not pay for the
 * HTTP server and `edgevox serve` does not pay for CLI-only tools. Add one line per command.
 */
import type { CliCommand } from './command.js';

export const COMMANDS: Record<string, () => Promise<CliCommand>> = {
  serve: async () => (await import('./commands/serve.js')).serveCommand,
  'install-models': async () => (await import('./commands/installModels.js')).installModelsCommand,
  'bench-sip': async () => (await import('./commands/benchSip.js')).benchSipCommand,
  'bench-acd': async () => (await import('./commands/benchAcd.js')).benchAcdCommand,
  soak: async () => (await import('./commands/soak.js')).soakCommand,
  bench: async () => (await import('./commands/bench.js')).benchCommand,
  transcribe: async () => (await import('./commands/transcribe.js')).transcribeCommand,
  'console-token': async () => (await import('./commands/consoleToken.js')).consoleTokenCommand,
  collector: async () => (await import('./commands/collector.js')).collectorCommand,
  classify: async () => (await import('./commands/classify.js')).classifyCommand,
  emotion: async () => (await import('./commands/emotion.js')).emotionCommand,
  probe: async () => (await import('./commands/probe.js')).probeCommand,
  'bench-webrtc': async () => (await import('./commands/benchWebrtc.js')).benchWebrtcCommand,
};
