import { describe, expect, it } from 'vitest';
import { parseCsvStrict } from '../../../appliance/assist/csv.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';

function refusal(text: string): { code: string; line: unknown; message: string } {
  try {
    parseCsvStrict(text);
  } catch (err) {
    if (isEdgeVoxError(err)) return { code: err.code, line: err.details['line'], message: err.message };
    throw err;
  }
  throw new Error('parsed');
}

describe('strict CSV', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks; CRLF or LF; blank lines skipped', () => {
    const text = 'question,answer\r\n"Lost card, what now?","Freeze it.\nThen call ""us""."\r\n\nplain,row\n';
    expect(parseCsvStrict(text)).toEqual([
      ['question', 'answer'],
      ['Lost card, what now?', 'Freeze it.\nThen call "us".'],
      ['plain', 'row'],
    ]);
  });

  it('keeps empty fields and a last row without a line break', () => {
    expect(parseCsvStrict('a,b,c\n,,x')).toEqual([
      ['a', 'b', 'c'],
      ['', '', 'x'],
    ]);
    expect(parseCsvStrict('a,b\n"",y')).toEqual([
      ['a', 'b'],
      ['', 'y'],
    ]);
  });

  it('refuses an unclosed quote, naming the line the field starts on', () => {
    expect(refusal('question,answer\nq1,a1\n"q2,a2\nmore\n')).toMatchObject({ code: 'EVX_ERR_KB_CSV', line: 3 });
  });

  it('refuses a quote inside an unquoted field and text after a closing quote', () => {
    expect(refusal('q,a\nab"c,d\n')).toMatchObject({ code: 'EVX_ERR_KB_CSV', line: 2 });
    expect(refusal('q,a\n"ab"c,d\n')).toMatchObject({ code: 'EVX_ERR_KB_CSV', line: 2 });
  });

  it('refuses a row with another number of fields than the header, counting lines inside quoted fields', () => {
    const r = refusal('q,a\n"one\ntwo",x\nonly\n');
    expect(r).toMatchObject({ code: 'EVX_ERR_KB_CSV', line: 4 });
    expect(r.message).toContain('1 fields, the header has 2');
  });
});
