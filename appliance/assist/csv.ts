/**
 * A strict RFC 4180 CSV reader for knowledge uploads: quoted fields may hold commas, doubled quotes
 * and line breaks; CRLF or LF. Unlike a lenient reader it refuses what it cannot read for certain —
 * an unterminated quote, a quote inside an unquoted field, text after a closing quote, a row with
 * a different number of fields than the header — naming the line, so a broken file is never half
 * imported. (csv-parse is not a dependency of the project; csv-stringify is, for writing only.)
 */
import { evxError } from '../errors.js';

function broken(message: string, line: number): never {
  throw evxError('EVX_ERR_KB_CSV', `${message} (line ${line})`, { details: { line } });
}

/** Every row of `text` as its fields; blank lines are skipped. Throws EVX_ERR_KB_CSV on malformed input. */
export function parseCsvStrict(text: string): string[][] {
  const rows: string[][] = [];
  const rowLines: number[] = [];
  let row: string[] = [];
  let field = '';
  let line = 1;
  let rowLine = 1;
  /** Where the field stands: at its start, inside quotes, just after its closing quote, or unquoted. */
  let state: 'start' | 'quoted' | 'closed' | 'plain' = 'start';
  const endRow = (): void => {
    row.push(field);
    if (!(row.length === 1 && row[0] === '' && state === 'start')) {
      rows.push(row);
      rowLines.push(rowLine);
    }
    row = [];
    field = '';
    state = 'start';
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (state === 'quoted') {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else state = 'closed';
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
      continue;
    }
    if (ch === ',') {
      row.push(field);
      field = '';
      state = 'start';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else if (ch === '"') {
      if (state !== 'start') broken(state === 'closed' ? 'a quote right after a quoted field' : 'a quote inside an unquoted field', line);
      state = 'quoted';
    } else {
      if (state === 'closed') broken('text after the closing quote of a field', line);
      state = 'plain';
      field += ch;
    }
  }
  if (state === 'quoted') broken('a quoted field is never closed', rowLine);
  if (field !== '' || row.length > 0 || state !== 'start') endRow();
  const width = rows[0]?.length ?? 0;
  rows.forEach((r, n) => {
    if (r.length !== width) broken(`a row has ${r.length} fields, the header has ${width}`, rowLines[n] ?? n + 1);
  });
  return rows;
}
