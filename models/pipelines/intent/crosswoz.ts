/**
 * CrossWOZ (Zhu et al. 2020, thu-coai/CrossWOZ, Apache-2.0) as a Chinese intent data set.
 *
 * CrossWOZ is task-oriented dialogue in Beijing travel: every user turn carries dialogue acts
 * `[type, domain, slot, value]` (types Inform / Request / Select / General). It has no intent
 * labels, so each user turn gets one from its acts (`intentOfActs`):
 *
 *   - a `Select` act names the domain being chosen (a restaurant near an attraction: 餐馆);
 *   - otherwise the single domain of its Inform/Request acts: 景点 attraction, 餐馆 restaurant,
 *     酒店 hotel, 地铁 metro, 出租 taxi;
 *   - a turn with only `General` acts is `bye` (bye, with or without thanks) or `thank`;
 *   - turns whose task acts span several domains without a Select, greetings alone (CrossWOZ
 *     users always greet together with a request) and turns without acts are left out.
 *
 * Labels carry the `zh.` prefix so that a site's routing groups can hold English (BANKING77) and
 * Chinese intents side by side without a name clash. The files are read from a folder holding
 * `val.json` / `test.json` or the repository's `val.json.zip` / `test.json.zip` as downloaded.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import type { Example } from './data.js';

/** CrossWOZ domain → intent label. */
export const CROSSWOZ_DOMAINS: Readonly<Record<string, string>> = {
  景点: 'zh.attraction',
  餐馆: 'zh.restaurant',
  酒店: 'zh.hotel',
  地铁: 'zh.metro',
  出租: 'zh.taxi',
};

/** Every label intentOfActs can produce, in a fixed order (the model's class order). */
export const CROSSWOZ_LABELS: readonly string[] = [...Object.values(CROSSWOZ_DOMAINS), 'zh.thank', 'zh.bye'];

export type DialogueAct = readonly [string, string, string, string];

/** The intent of one user turn from its dialogue acts, or null when it has no single one (see the module doc). */
export function intentOfActs(acts: readonly DialogueAct[]): string | null {
  const select = new Set(acts.filter((a) => a[0] === 'Select').map((a) => a[1]));
  if (select.size === 1) return CROSSWOZ_DOMAINS[[...select][0]!] ?? null;
  if (select.size > 1) return null;
  const domains = new Set(acts.filter((a) => a[0] === 'Inform' || a[0] === 'Request').map((a) => a[1]));
  if (domains.size === 1) return CROSSWOZ_DOMAINS[[...domains][0]!] ?? null;
  if (domains.size > 1) return null;
  const general = new Set(acts.filter((a) => a[0] === 'General').map((a) => a[1]));
  if (general.has('bye')) return 'zh.bye';
  if (general.has('thank')) return 'zh.thank';
  return null;
}

interface CrossWozDialogue {
  readonly messages: readonly { readonly role: string; readonly content: string; readonly dialog_act: readonly DialogueAct[] }[];
}

/** The labelled user turns of one CrossWOZ split (dialogues in file order, turns in dialogue order). */
export function crosswozExamples(dialogues: Readonly<Record<string, CrossWozDialogue>>): Example[] {
  const out: Example[] = [];
  for (const d of Object.values(dialogues)) {
    for (const m of d.messages) {
      if (m.role !== 'usr') continue;
      const label = intentOfActs(m.dialog_act);
      if (label !== null && m.content.trim().length > 0) out.push({ text: m.content, label });
    }
  }
  return out;
}

/** The first file of a zip archive (stored or deflated), enough for the CrossWOZ archives. */
export function firstZipEntry(zip: Buffer): Buffer {
  // Local file header: signature, then sizes at fixed offsets; the central directory has the
  // authoritative compressed size when bit 3 (data descriptor) is set.
  if (zip.readUInt32LE(0) !== 0x04034b50) throw new Error('not a zip archive');
  const method = zip.readUInt16LE(8);
  const flags = zip.readUInt16LE(6);
  let compressed = zip.readUInt32LE(18);
  const nameLen = zip.readUInt16LE(26);
  const extraLen = zip.readUInt16LE(28);
  if ((flags & 0x08) !== 0 || compressed === 0) {
    const cd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    if (cd < 0) throw new Error('zip central directory not found');
    compressed = zip.readUInt32LE(cd + 20);
  }
  const start = 30 + nameLen + extraLen;
  const data = zip.subarray(start, start + compressed);
  if (method === 0) return Buffer.from(data);
  if (method === 8) return inflateRawSync(data);
  throw new Error(`unsupported zip compression method ${method}`);
}

/** Read one CrossWOZ split ('val', 'test', 'train') from `dir` (`<split>.json` or `<split>.json.zip`). */
export function loadCrosswozSplit(dir: string, split: string): Example[] {
  const plain = join(dir, `${split}.json`);
  const zipped = `${plain}.zip`;
  let text: string;
  if (existsSync(plain)) text = readFileSync(plain, 'utf8');
  else if (existsSync(zipped)) text = firstZipEntry(readFileSync(zipped)).toString('utf8');
  else throw new Error(`CrossWOZ ${split} split not found: neither ${plain} nor ${zipped} exists`);
  return crosswozExamples(JSON.parse(text) as Record<string, CrossWozDialogue>);
}
