/** `edgevox transcribe`: transcribe WAV files (PCM16, μ-law or A-law; 8/16/48 kHz) with the streaming engine. */
import { resolveModelPaths } from '../../appliance/asr/modelFiles.js';
import { Recognizer } from '../../appliance/asr/recognizer.js';
import { readPhraseFile, readWavFile, transcribeAudio } from '../../appliance/asr/transcribeFile.js';
import { evxError } from '../../appliance/errors.js';
import { EXECUTION_PROVIDER_NAMES, type ExecutionProviderName } from '../../appliance/inference/sessions.js';
import type { CliCommand } from '../command.js';
import { parseCli } from '../parse.js';

const USAGE = `usage: edgevox transcribe [options] FILE...

Transcribe WAV files (mono PCM16, μ-law or A-law; 8, 16 or 48 kHz). Plain output: one line per
file with the final text (Chinese characters for a Mandarin pinyin model). --json: one JSON object per file:
{"file","language","text","pinyin" (Mandarin),"words":[{"word","startMs","endMs"}],"durationMs","cpuMs"} (plus "keywords" when --keywords is given).

options:
  --json                 JSON lines instead of plain text
  --hotwords FILE        phrases to bias decoding towards, one per line ("PHRASE [:boost]"); uses beam search
  --keywords FILE        phrases to spot, one per line ("PHRASE [:boost] [#threshold]")
  --decoding METHOD      greedy or beam (default: greedy; beam for pinyin models, whose n-best feeds the language model)
  --no-lm                pinyin models: each syllable's most frequent character instead of the language model
  --model-dir DIR        ASR model directory (default ../shared/models/asr/zipformer-gigaspeech-3.3m)
  --vad-model FILE       Silero VAD model (default ../shared/models/vad/silero-vad-v5/silero_vad.onnx)
  --no-vad               decode every sample (no silence skipping)
  --no-endpoint          one final per file instead of one per utterance
  --threads N            onnxruntime intra-op threads (default 1)
  --providers LIST       execution providers in order, e.g. webgpu,cpu (default cpu)`;

export const transcribeCommand: CliCommand = {
  name: 'transcribe',
  summary: 'transcribe WAV files with the streaming ASR engine',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCli(
      argv,
      {
        json: { type: 'boolean', default: false },
        hotwords: { type: 'string' },
        keywords: { type: 'string' },
        decoding: { type: 'string' },
        'no-lm': { type: 'boolean', default: false },
        'model-dir': { type: 'string' },
        'vad-model': { type: 'string' },
        'no-vad': { type: 'boolean', default: false },
        'no-endpoint': { type: 'boolean', default: false },
        threads: { type: 'string', default: '1' },
        providers: { type: 'string', default: 'cpu' },
      },
      true,
    );
    if (positionals.length === 0) throw evxError('EVX_ERR_CLI_USAGE', 'no input files (see --help)');
    const decoding = values.decoding;
    if (decoding !== undefined && decoding !== 'greedy' && decoding !== 'beam')
      throw evxError('EVX_ERR_CLI_USAGE', `--decoding must be greedy or beam`);
    const threads = Number(values.threads);
    if (!Number.isInteger(threads) || threads < 1) throw evxError('EVX_ERR_CLI_USAGE', '--threads must be a positive integer');
    const providers = values.providers.split(',').map((p) => p.trim()) as ExecutionProviderName[];
    for (const p of providers) {
      if (!EXECUTION_PROVIDER_NAMES.includes(p)) throw evxError('EVX_ERR_CLI_USAGE', `unknown provider '${String(p)}'`);
    }
    const paths = resolveModelPaths({ modelDir: values['model-dir'], vadModel: values['vad-model'] });
    const hotwords = values.hotwords !== undefined ? readPhraseFile(values.hotwords) : [];
    const keywords = values.keywords !== undefined ? readPhraseFile(values.keywords) : [];
    // Read every file first so a bad input fails before the models load.
    const inputs = positionals.map((p) => ({ path: p, audio: readWavFile(p) }));
    const recognizer = await Recognizer.create({
      modelDir: paths.modelDir,
      vadModelPath: values['no-vad'] ? undefined : paths.vadModelPath,
      providers,
      threads,
      ...(decoding !== undefined ? { decoding } : {}),
      ...(values['no-lm'] ? { hanziLm: false } : {}),
    });
    try {
      for (const input of inputs) {
        const t = await transcribeAudio(recognizer, input.audio, input.path, {
          hotwords,
          keywords,
          ...(values['no-endpoint'] ? { endpoint: false as const } : {}),
        });
        if (values.json) {
          const obj: Record<string, unknown> = {
            file: t.file,
            language: recognizer.info().language,
            text: t.text,
            ...(t.pinyin !== undefined ? { pinyin: t.pinyin } : {}),
            words: t.words.map((w) => ({ word: w.word, startMs: w.startMs, endMs: w.endMs })),
            durationMs: t.durationMs,
            cpuMs: t.cpuMs,
          };
          if (keywords.length > 0) {
            obj.keywords = t.keywords.map((k) => ({
              keyword: k.keyword,
              startMs: k.startMs,
              endMs: k.endMs,
              score: Number(k.score.toFixed(3)),
            }));
          }
          io.out(JSON.stringify(obj) + '\n');
        } else {
          io.out(`${t.text}\n`);
        }
      }
    } finally {
      await recognizer.close();
    }
    return 0;
  },
};
