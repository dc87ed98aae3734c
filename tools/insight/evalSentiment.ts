/**
 * make eval-sentiment: accuracy of the text sentiment (VADER, analysis/textSentiment.ts) on the
 * labelled contact-centre utterances in test/fixtures/sentiment/contact-centre.json, dev and held-out
 * halves apart, with per-class recall and the confusion matrix; a threshold sweep on the dev half only
 * (what a tuned cut-off would have given there), and the CPU cost per final.
 */
import { readFileSync } from 'node:fs';
import {
  SENTIMENT_THRESHOLD,
  VADER_DEFAULT_THRESHOLD,
  textSentiment,
  type SentimentLabel,
} from '../../appliance/analysis/textSentiment.js';

interface Item {
  text: string;
  label: SentimentLabel;
}
const path = process.argv[2] ?? 'test/fixtures/sentiment/contact-centre.json';
const set = JSON.parse(readFileSync(path, 'utf8')) as { dev: Item[]; heldout: Item[] };
const LABELS: SentimentLabel[] = ['positive', 'neutral', 'negative'];

function score(items: Item[], threshold: number) {
  const confusion = new Map(LABELS.map((l) => [l, new Map(LABELS.map((m) => [m, 0]))]));
  let correct = 0;
  for (const it of items) {
    const got = textSentiment(it.text, 'en', threshold)?.label ?? 'neutral';
    if (got === it.label) correct++;
    const row = confusion.get(it.label)!;
    row.set(got, row.get(got)! + 1);
  }
  return { accuracy: correct / items.length, confusion };
}

function report(name: string, items: Item[], threshold: number): void {
  const { accuracy, confusion } = score(items, threshold);
  console.log(`${name}: n=${items.length} accuracy=${(100 * accuracy).toFixed(1)}% (threshold ${threshold})`);
  for (const l of LABELS) {
    const row = confusion.get(l)!;
    const n = [...row.values()].reduce((a, b) => a + b, 0);
    console.log(
      `  ${l.padEnd(8)} recall=${((100 * row.get(l)!) / Math.max(1, n)).toFixed(0)}%  predicted: ${LABELS.map((m) => `${m}=${row.get(m)}`).join(' ')}`,
    );
  }
}

console.log(`text sentiment (vader-sentiment, English) on ${path}`);
report('dev', set.dev, SENTIMENT_THRESHOLD);
report('held-out', set.heldout, SENTIMENT_THRESHOLD);
console.log(`for comparison, VADER's own cut-off ${VADER_DEFAULT_THRESHOLD}:`);
report('dev', set.dev, VADER_DEFAULT_THRESHOLD);
report('held-out', set.heldout, VADER_DEFAULT_THRESHOLD);
console.log('threshold sweep on dev only (the shipped threshold is fixed; held-out is never swept):');
for (const t of [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5])
  console.log(`  |compound| >= ${t}: dev accuracy ${(100 * score(set.dev, t).accuracy).toFixed(1)}%`);
const all = [...set.dev, ...set.heldout];
for (let i = 0; i < 200; i++) textSentiment(all[i % all.length]!.text);
const reps = 20;
const started = process.cpuUsage();
for (let r = 0; r < reps; r++) for (const it of all) textSentiment(it.text);
const cpu = process.cpuUsage(started);
console.log(`cpu per final: ${((cpu.user + cpu.system) / 1000 / (reps * all.length)).toFixed(3)} ms (${reps * all.length} finals)`);
console.log(`Mandarin: ${textSentiment('我非常生气', 'zh') === null ? 'no text sentiment (no licensed lexicon on the box)' : 'scored'}`);
