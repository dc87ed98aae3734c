/** `edgevox emotion FILE.wav...`: category, arousal and valence of each file with the emotion model. */
import { readFileSync } from 'node:fs';
import { parseWav } from '../../appliance/audio/wav.js';
import { EmotionAnalyser } from '../../appliance/emotion/analyser.js';
import { defaultEmotionSidecar } from '../../appliance/intent/modelPaths.js';
import { evxError } from '../../appliance/errors.js';
import type { CliCommand } from '../command.js';
import { parseCli } from '../parse.js';

const USAGE = `usage: edgevox emotion [--json] [--model FILE] FILE.wav...

Analyse each WAV file (mono PCM16, μ-law or A-law, 8-48 kHz) as one utterance. Plain output: one
line per file "<file> <category> <confidence> arousal <a> valence <v>" (arousal and valence in
[-1, 1]). --json: one object per line {"file","category","confidence","arousal","valence","scores","durationMs"}.

options:
  --json        JSON lines
  --model FILE  emotion sidecar JSON (default models/emotion/emotion.json)`;

export const emotionCommand: CliCommand = {
  name: 'emotion',
  summary: 'emotion category, arousal and valence of WAV utterances',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCli(argv, { json: { type: 'boolean', default: false }, model: { type: 'string' } }, true);
    if (positionals.length === 0) throw evxError('EVX_ERR_CLI_USAGE', 'no input files (see --help)');
    // Read every file first so a bad input fails before the model loads.
    const inputs = positionals.map((path) => {
      let bytes: Buffer;
      try {
        bytes = readFileSync(path);
      } catch (err) {
        throw evxError('EVX_ERR_CLI_USAGE', `cannot read ${path}`, { cause: err, details: { path } });
      }
      return { path, audio: parseWav(bytes, path) };
    });
    const analyser = await EmotionAnalyser.load(values.model ?? defaultEmotionSidecar());
    try {
      for (const { path, audio } of inputs) {
        const r = await analyser.analyse(audio.samples, audio.sampleRateHz);
        if (values.json) {
          io.out(
            `${JSON.stringify({ file: path, category: r.category, confidence: r.confidence, arousal: r.arousal, valence: r.valence, scores: r.scores, durationMs: Math.round(r.durationMs) })}\n`,
          );
        } else {
          const s = (x: number): string => (x >= 0 ? '+' : '') + x.toFixed(2);
          io.out(`${path} ${r.category} ${r.confidence.toFixed(3)} arousal ${s(r.arousal)} valence ${s(r.valence)}\n`);
        }
      }
      return 0;
    } finally {
      await analyser.close();
    }
  },
};
