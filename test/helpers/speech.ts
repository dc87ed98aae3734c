/** Speech clips from ../shared for tests, and word error counting. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWav, type WavAudio } from '../../appliance/audio/wav.js';
import { countWordEdits } from '../../appliance/text/wordEdits.js';
import { SHARED_DIR } from './paths.js';

export function speechClip(name: '0.wav' | '1.wav'): { audio: WavAudio; reference: string } {
  const dir = join(SHARED_DIR, 'datasets', 'speech-en');
  const audio = parseWav(readFileSync(join(dir, name)), name);
  const line = readFileSync(join(dir, 'trans.tsv'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith(name + '\t'));
  return { audio, reference: line?.split('\t')[1]?.trim() ?? '' };
}

/** Word-level edit distance between two transcripts (case and punctuation ignored). */
export function wordErrors(reference: string, hypothesis: string): number {
  const norm = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9']+/g, ' ')
      .trim()
      .split(/\s+/)
      .filter(Boolean);
  return countWordEdits(norm(reference), norm(hypothesis)).total;
}

/** Feed samples into `write` in `frameMs` frames, `speedup` times faster than real time. */
export async function feedPaced(
  samples: Int16Array,
  rateHz: number,
  write: (frame: Int16Array) => void,
  frameMs = 20,
  speedup = 4,
): Promise<void> {
  const frame = Math.round((rateHz * frameMs) / 1000);
  const started = performance.now();
  for (let off = 0, n = 0; off < samples.length; off += frame, n++) {
    write(samples.slice(off, off + frame));
    const due = started + ((n + 1) * frameMs) / speedup;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  }
}
