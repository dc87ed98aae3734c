/**
 * A wider set of labelled clips for comparing two recognisers' transcripts (the batchable encoder
 * against the model's own): RAVDESS's two spoken statements (16 kHz, eight emotions, 24 actors;
 * CC BY-NC-SA 4.0, evaluation only) and FSDD's spoken digits (8 kHz telephone band, CC BY-SA 4.0),
 * each with its reference text from the dataset's labels.csv. `every` keeps one clip in N, in file
 * order, so the subset is the same on every run. Missing datasets are reported, not faked.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedDir } from './evalSet.js';

export interface WideClip {
  readonly id: string;
  readonly path: string;
  readonly reference: string;
  readonly subset: 'ravdess' | 'fsdd';
}

const DIGITS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

export function loadWideSet(every: { ravdess: number; fsdd: number }, shared = sharedDir()): { clips: WideClip[]; missing: string[] } {
  const clips: WideClip[] = [];
  const missing: string[] = [];
  const sets = [
    { subset: 'ravdess' as const, dir: join(shared, 'datasets/emotion/ravdess-16k'), text: (row: Record<string, string>) => row.statement },
    { subset: 'fsdd' as const, dir: join(shared, 'datasets/fsdd-8k'), text: (row: Record<string, string>) => DIGITS[Number(row.digit)] },
  ];
  for (const set of sets) {
    const labels = join(set.dir, 'labels.csv');
    if (!existsSync(labels)) {
      missing.push(labels);
      continue;
    }
    const [header, ...lines] = readFileSync(labels, 'utf8').trim().split('\n');
    const columns = header!.split(',');
    lines.forEach((line, i) => {
      if (i % Math.max(1, every[set.subset]) !== 0) return;
      const row = Object.fromEntries(line.split(',').map((v, c) => [columns[c]!, v]));
      const reference = set.text(row);
      if (row.file && reference)
        clips.push({ id: `${set.subset}/${row.file}`, path: join(set.dir, row.file), reference, subset: set.subset });
    });
  }
  return { clips, missing };
}
