/**
 * make bench-redaction-hold: what redaction across utterances costs.
 *
 * 1. Which finals are held at all: Redactor.openEnding over real contact-centre requests
 *    (banking77 test split, clinc150 test split from ../shared), turned into ASR-style text
 *    (upper case, no punctuation, digits spelled one by one). A held final with nothing following
 *    waits `holdMs`; one whose value goes on waits for the next final, at most `maxHoldMs`.
 * 2. CPU per final: redact() alone vs openEnding() + redactJoined() (what a leg does now).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Redactor } from '../../appliance/privacy/redactor.js';

const SHARED = resolve(process.env['EDGEVOX_SHARED'] ?? '../shared');
const DIGITS = ['ZERO', 'ONE', 'TWO', 'THREE', 'FOUR', 'FIVE', 'SIX', 'SEVEN', 'EIGHT', 'NINE'];

/** Typed text as a streaming recogniser would write it. */
function asrStyle(text: string): string {
  return text
    .toUpperCase()
    .replace(/\d/g, (d) => ` ${DIGITS[Number(d)]} `)
    .replace(/[^A-Z' ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function banking77(): string[] {
  const lines = readFileSync(join(SHARED, 'datasets/intent/banking77/test.csv'), 'utf8').split('\n').slice(1);
  return lines
    .filter((l) => l.trim() !== '')
    .map((l) => (l.startsWith('"') ? l.slice(1, l.lastIndexOf('"')).replace(/""/g, '"') : l.slice(0, l.lastIndexOf(','))));
}

function clinc150(): string[] {
  const data = JSON.parse(readFileSync(join(SHARED, 'datasets/intent/clinc150/data_full.json'), 'utf8')) as Record<
    string,
    [string, string][]
  >;
  return [...(data['test'] ?? []), ...(data['oos_test'] ?? [])].map(([t]) => t);
}

function main(): void {
  const redactor = new Redactor();
  const sets: [string, string[]][] = [
    ['banking77 test', banking77().map(asrStyle)],
    ['clinc150 test+oos', clinc150().map(asrStyle)],
  ];
  console.log(`redaction hold: holdMs ${redactor.holdMs}, maxHoldMs ${redactor.maxHoldMs} (defaults of privacy.redaction)`);
  for (const [name, texts] of sets) {
    const kinds: Record<string, number> = { digits: 0, name: 0, email: 0 };
    const examples: string[] = [];
    for (const t of texts) {
      const k = redactor.openEnding(t);
      if (k === null) continue;
      kinds[k] = (kinds[k] ?? 0) + 1;
      if (examples.length < 5) examples.push(`${k}: ${t}`);
    }
    const held = Object.values(kinds).reduce((a, b) => a + b, 0);
    const share = held / texts.length;
    console.log(
      `${name}: ${texts.length} utterances, ${held} would be held (${(100 * share).toFixed(2)}%: ${JSON.stringify(kinds)}); ` +
        `mean added latency over all finals when nothing follows: ${(share * redactor.holdMs).toFixed(0)} ms`,
    );
    for (const e of examples) console.log(`  e.g. ${e}`);
  }

  // CPU per final (all texts, 3 passes after a warm-up pass).
  const all = sets.flatMap(([, t]) => t);
  const time = (fn: (t: string) => void): number => {
    for (const t of all) fn(t);
    const start = process.hrtime.bigint();
    for (let pass = 0; pass < 3; pass++) for (const t of all) fn(t);
    return Number(process.hrtime.bigint() - start) / 1000 / (3 * all.length);
  };
  const plain = time((t) => redactor.redact(t));
  const leg = time((t) => {
    redactor.openEnding(t);
    redactor.redactJoined([{ text: t }]);
  });
  const group = time((t) => {
    redactor.openEnding(`${t} FOUR ONE ONE ONE ${t}`);
    redactor.redactJoined([{ text: t }, { text: 'FOUR ONE ONE ONE' }, { text: t }]);
  });
  console.log(
    `CPU per final: redact ${plain.toFixed(1)} µs; openEnding + redactJoined ${leg.toFixed(1)} µs; a group of three ${group.toFixed(1)} µs`,
  );
}

main();
