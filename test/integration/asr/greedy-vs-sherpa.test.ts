/**
 * Greedy transcripts must equal sherpa-onnx-node's, word for word, on every clip of the eval set
 * (speech-en + pocketsphinx-testdata librivox and cards).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Recognizer } from '../../../appliance/asr/recognizer.js';
import { loadEvalSet } from '../../../tools/asr/evalSet.js';
import { readWavFile, transcribeAudio } from '../../../appliance/asr/transcribeFile.js';
import { HAVE_MODELS, MODEL_DIR, SHARED, sherpaRecognizer, sherpaTranscribe, type SherpaRecognizer } from './helpers.js';

const { clips, missing } = loadEvalSet(SHARED);

describe.skipIf(!HAVE_MODELS)('greedy search equals sherpa-onnx-node', () => {
  let ours: Recognizer;
  let sherpa: SherpaRecognizer;
  beforeAll(async () => {
    ours = await Recognizer.create({ modelDir: MODEL_DIR, threads: 1 });
    sherpa = sherpaRecognizer();
  });
  afterAll(async () => ours.close());

  it('has the whole eval set (speech-en 2 clips, librivox 5, cards 5)', () => {
    expect(missing).toEqual([]);
    expect(clips.filter((c) => c.subset === 'speech-en')).toHaveLength(2);
    expect(clips.filter((c) => c.subset === 'librivox')).toHaveLength(5);
    expect(clips.filter((c) => c.subset === 'cards')).toHaveLength(5);
  });

  for (const clip of clips) {
    it(`${clip.id}`, async () => {
      const audio = readWavFile(clip.path);
      const ref = sherpaTranscribe(sherpa, audio.samples);
      const hyp = await transcribeAudio(ours, audio, clip.id, { vad: false, endpoint: false });
      expect(ref.length).toBeGreaterThan(0);
      expect(hyp.text.split(' ')).toEqual(ref.split(' '));
    });
  }
});
