/** Loaders for BANKING77 (CSV) and CLINC150 (JSON) from the shared datasets folder. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Example {
  readonly text: string;
  readonly label: string;
}

/** RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field.length > 0 || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.length > 1 || (r[0] ?? '') !== '');
}

function readBankingCsv(path: string): Example[] {
  const rows = parseCsv(readFileSync(path, 'utf8'));
  const [header, ...body] = rows;
  if (header?.[0] !== 'text' || header[1] !== 'category') throw new Error(`${path}: unexpected header ${String(header)}`);
  return body.map((r) => ({ text: r[0]!, label: r[1]! }));
}

export interface Banking77 {
  readonly train: Example[];
  readonly test: Example[];
  readonly categories: string[];
}

export function loadBanking77(dir: string): Banking77 {
  const categories = JSON.parse(readFileSync(join(dir, 'categories.json'), 'utf8')) as string[];
  const train = readBankingCsv(join(dir, 'train.csv'));
  const test = readBankingCsv(join(dir, 'test.csv'));
  const known = new Set(categories);
  for (const e of [...train, ...test]) if (!known.has(e.label)) throw new Error(`unknown BANKING77 label ${e.label}`);
  return { train, test, categories };
}

export interface ClincSplits {
  readonly oosTrain: string[];
  readonly oosVal: string[];
  readonly oosTest: string[];
}

export function loadClincOos(dir: string): ClincSplits {
  const data = JSON.parse(readFileSync(join(dir, 'data_full.json'), 'utf8')) as Record<string, [string, string][]>;
  const texts = (key: string): string[] => (data[key] ?? []).map(([t]) => t);
  return { oosTrain: texts('oos_train'), oosVal: texts('oos_val'), oosTest: texts('oos_test') };
}

export function sharedDatasetsDir(): string {
  return join(process.env.EDGEVOX_SHARED ?? '../shared', 'datasets');
}
