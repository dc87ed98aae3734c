/**
 * The ASR evaluation set: shared/datasets/speech-en (trans.tsv) and Debian pocketsphinx-testdata
 * (librivox + cards, Sphinx transcription format). Missing parts are reported, not faked.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface EvalClip {
  readonly id: string;
  readonly path: string;
  readonly reference: string;
  readonly subset: 'speech-en' | 'librivox' | 'cards';
}

export const POCKETSPHINX_DATA = '/usr/share/pocketsphinx/test/data';

export function sharedDir(): string {
  return process.env.EDGEVOX_SHARED ?? '../shared';
}

export function loadEvalSet(shared = sharedDir(), pocketsphinx = POCKETSPHINX_DATA): { clips: EvalClip[]; missing: string[] } {
  const clips: EvalClip[] = [];
  const missing: string[] = [];
  const speechEn = join(shared, 'datasets/speech-en');
  const tsv = join(speechEn, 'trans.tsv');
  if (existsSync(tsv)) {
    for (const line of readFileSync(tsv, 'utf8').split('\n')) {
      const [file, ref] = line.split('\t');
      if (file && ref) clips.push({ id: `speech-en/${file}`, path: join(speechEn, file), reference: ref.trim(), subset: 'speech-en' });
    }
  } else missing.push(tsv);
  for (const [subset, dir, trans] of [
    ['librivox', 'librivox', 'transcription'],
    ['cards', 'cards', 'cards.transcription'],
  ] as const) {
    const t = join(pocketsphinx, dir, trans);
    if (!existsSync(t)) {
      missing.push(t);
      continue;
    }
    for (const line of readFileSync(t, 'utf8').split('\n')) {
      const m = /^<s>(.*)<\/s>\s*\(([^)]+)\)\s*$/.exec(line.trim());
      if (!m) continue;
      const id = m[2]!.trim();
      clips.push({ id: `${subset}/${id}`, path: join(pocketsphinx, dir, `${id}.wav`), reference: m[1]!.trim(), subset });
    }
  }
  return { clips, missing };
}
