/**
 * The model contract read from the files: a tokens file longer than the joiner's output (the
 * Mandarin keyword-spotting bundle lists `#0`…`#29` graph-only symbols after its 197 network
 * classes) loads; a tokens file shorter than the joiner's output is refused with a clear error.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Recognizer } from '../../../appliance/asr/recognizer.js';
import { MODEL_DIR, SHARED } from './helpers.js';

const ZH_MODEL_DIR = join(SHARED, 'models', 'asr', 'kws-zipformer-wenetspeech-zh-3.3m');
const scratch = mkdtempSync(join(tmpdir(), 'evx-contract-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('ASR model contract', () => {
  it('loads a model whose tokens.txt lists graph-only symbols past the joiner output', async () => {
    const rec = await Recognizer.create({ modelDir: ZH_MODEL_DIR, threads: 1 });
    try {
      expect(rec.info().geometry.vocabSize).toBe(197);
    } finally {
      await rec.close();
    }
  });

  it('refuses a tokens.txt with fewer symbols than the joiner emits', async () => {
    const dir = join(scratch, 'short-tokens');
    copyDir(MODEL_DIR, dir);
    const lines = readFileSync(join(MODEL_DIR, 'tokens.txt'), 'utf8').trimEnd().split('\n');
    writeFileSync(join(dir, 'tokens.txt'), lines.slice(0, lines.length - 5).join('\n') + '\n');
    await expect(Recognizer.create({ modelDir: dir, threads: 1 })).rejects.toMatchObject({
      code: 'EVX_ERR_MODEL_CONTRACT',
      message: expect.stringMatching(/joiner has \d+ outputs but tokens\.txt has only \d+ symbols/),
    });
  });
});

function copyDir(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from)) copyFileSync(join(from, f), join(to, f));
}
