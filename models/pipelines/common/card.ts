/** Keeps the generated metrics section of a MODEL_CARD.md in sync with the training run. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const BEGIN = '<!-- generated:metrics:begin (written by the training pipeline; do not edit by hand) -->';
const END = '<!-- generated:metrics:end -->';

/** Replace the text between the markers (or a METRICS_PLACEHOLDER line) with `markdown`. */
export function updateCardMetrics(path: string, markdown: string): boolean {
  if (!existsSync(path)) return false;
  const card = readFileSync(path, 'utf8');
  const block = `${BEGIN}\n${markdown.trim()}\n${END}`;
  let next: string;
  const b = card.indexOf(BEGIN);
  const e = card.indexOf(END);
  if (b >= 0 && e > b) next = card.slice(0, b) + block + card.slice(e + END.length);
  else if (card.includes('METRICS_PLACEHOLDER')) next = card.replace('METRICS_PLACEHOLDER', block);
  else return false;
  writeFileSync(path, next);
  return true;
}
