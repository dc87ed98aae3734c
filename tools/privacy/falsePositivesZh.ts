/**
 * make eval-redaction-zh: how often Chinese redaction hides something in ordinary sentences.
 *
 * The sentences are the user turns of CrossWOZ (thu-coai/CrossWOZ, Apache-2.0: Beijing travel
 * dialogues; callers ask about hotels, restaurants, sights, metro and taxis and give no personal
 * data of their own), read from `--data <dir>` (`<split>.json` or `<split>.json.zip`, default
 * CROSSWOZ_DIR or ../shared/datasets/intent/crosswoz) and never stored in the repository. Every
 * redaction in them is counted as a false one, including public places' addresses that are
 * address-shaped (printed among the examples, so they can be told apart).
 *
 * Two forms of each turn: as typed (Arabic digits, punctuation) and as a recogniser would give it
 * (no punctuation or spaces, digits as numeral characters); both with the pinyin of the characters
 * (pinyin-pro, no tone sandhi) standing for the recogniser's. Also: the share of finals a leg would
 * hold (Redactor.openEnding), and CPU per final.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pinyin } from 'pinyin-pro';
import { firstZipEntry } from '../../models/pipelines/intent/crosswoz.js';
import { Redactor, REDACTION_CATEGORIES, type RedactionPart } from '../../appliance/privacy/redactor.js';

const NUMERALS = '零一二三四五六七八九';

function args(): { data: string; split: string; examples: number } {
  const argv = process.argv.slice(2);
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const shared = resolve(process.env['EDGEVOX_SHARED'] ?? '../shared');
  return {
    data: resolve(get('--data') ?? process.env['CROSSWOZ_DIR'] ?? join(shared, 'datasets/intent/crosswoz')),
    split: get('--split') ?? 'val',
    examples: Number(get('--examples') ?? 12),
  };
}

/** All user turns of a split, in file order. */
function userTurns(dir: string, split: string): string[] {
  const plain = join(dir, `${split}.json`);
  const zipped = `${plain}.zip`;
  let text: string;
  if (existsSync(plain)) text = readFileSync(plain, 'utf8');
  else if (existsSync(zipped)) text = firstZipEntry(readFileSync(zipped)).toString('utf8');
  else throw new Error(`CrossWOZ ${split} split not found: neither ${plain} nor ${zipped} exists (pass --data <dir>)`);
  const dialogues = JSON.parse(text) as Record<string, { messages: { role: string; content: string }[] }>;
  const out: string[] = [];
  for (const d of Object.values(dialogues))
    for (const m of d.messages) if (m.role === 'usr' && m.content.trim() !== '') out.push(m.content);
  return out;
}

/** A typed sentence as a Mandarin recogniser would write it. */
function asrStyle(text: string): string {
  return text.replace(/[0-9]/g, (d) => NUMERALS[Number(d)]!).replace(/[\s\p{P}\p{S}a-zA-Z]+/gu, '');
}

function part(text: string): RedactionPart {
  return { text, language: 'zh', pinyin: pinyin(text, { toneSandhi: false }) };
}

function main(): void {
  const { data, split, examples } = args();
  const turns = userTurns(data, split);
  const redactor = new Redactor();
  console.log(`Chinese redaction on CrossWOZ ${split} user turns (${data}): every redaction counted as a false one`);
  for (const [form, texts] of [
    ['as typed', turns],
    ['recogniser style', turns.map(asrStyle)],
  ] as const) {
    const parts = texts.map(part);
    const byCategory: Record<string, number> = {};
    let redacted = 0;
    let held = 0;
    const shown: string[] = [];
    for (const p of parts) {
      const out = redactor.redactJoined([p])[0]!;
      if (redactor.openEnding([p]) !== null) held++;
      if (out.total === 0) continue;
      redacted++;
      for (const c of REDACTION_CATEGORIES) if (out.counts[c] > 0) byCategory[c] = (byCategory[c] ?? 0) + out.counts[c];
      if (shown.length < examples) shown.push(`${p.text} → ${out.text}`);
    }
    console.log(
      `${form}: ${parts.length} sentences, ${redacted} with a redaction (${((100 * redacted) / parts.length).toFixed(2)}%: ${JSON.stringify(byCategory)}); ` +
        `${held} would be held for the next utterance (${((100 * held) / parts.length).toFixed(2)}%)`,
    );
    for (const e of shown) console.log(`  e.g. ${e}`);
    const start = process.hrtime.bigint();
    for (const p of parts) {
      redactor.openEnding([p]);
      redactor.redactJoined([p]);
    }
    console.log(
      `  CPU per final (openEnding + redactJoined): ${(Number(process.hrtime.bigint() - start) / 1000 / parts.length).toFixed(1)} µs`,
    );
  }
}

main();
