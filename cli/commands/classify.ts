/** `edgevox classify "text"`: intent of one utterance with the shipped (or a given) intent model. */
import { IntentClassifier } from '../../appliance/intent/classifier.js';
import { defaultIntentSidecar } from '../../appliance/intent/modelPaths.js';
import { evxError } from '../../appliance/errors.js';
import type { CliCommand } from '../command.js';
import { parseCli } from '../parse.js';

const USAGE = `usage: edgevox classify [--json] [--top N] [--model FILE] TEXT...

Classify one utterance (the words are joined with spaces). Plain output: one line
"<intent> <confidence>" followed by "out-of-scope" when the confidence is below the model's
calibrated threshold. --json: {"intent","confidence","outOfScope","top":[{"intent","confidence"}]}.

options:
  --json        JSON output
  --top N       how many intents to list with --json (default 3)
  --model FILE  intent sidecar JSON (default models/intent/intent.json)`;

export const classifyCommand: CliCommand = {
  name: 'classify',
  summary: 'classify the intent of a text utterance',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCli(
      argv,
      { json: { type: 'boolean', default: false }, top: { type: 'string', default: '3' }, model: { type: 'string' } },
      true,
    );
    const text = positionals.join(' ').trim();
    if (text.length === 0) throw evxError('EVX_ERR_CLI_USAGE', 'no text to classify (see --help)');
    const topK = Number(values.top);
    if (!Number.isInteger(topK) || topK < 1) throw evxError('EVX_ERR_CLI_USAGE', '--top must be a positive integer');
    const clf = await IntentClassifier.load(values.model ?? defaultIntentSidecar(), { topK });
    try {
      const r = await clf.classify(text);
      if (values.json) io.out(`${JSON.stringify(r)}\n`);
      else io.out(`${r.intent ?? '-'} ${r.confidence.toFixed(4)}${r.outOfScope ? ' out-of-scope' : ''}\n`);
      return 0;
    } finally {
      await clf.close();
    }
  },
};
