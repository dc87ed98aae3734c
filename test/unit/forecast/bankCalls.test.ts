/**
 * The reader of the fpp3 bank_calls CSV (five-minute counts) for eval-forecast's optional real
 * data: sums into 15-minute intervals over whole days, unknown where any five minutes are missing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBankCalls } from '../../../tools/forecast/bankCalls.js';

describe('loadBankCalls', () => {
  it('sums three five-minute counts per 15-minute interval and leaves the rest unknown', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bank-calls-'));
    const path = join(dir, 'bank_calls.csv');
    const rows = ['rownames,DateTime,Calls'];
    const times = ['07:00', '07:05', '07:10', '07:15', '07:20', '21:00'];
    times.forEach((t, i) => rows.push(`${i + 1},2003-03-03T${t}:00Z,${10 * (i + 1)}`));
    rows.push(`7,2003-03-04T07:00:00Z,5`);
    writeFileSync(path, rows.join('\n'));
    const s = loadBankCalls(path);
    expect(s.startMs).toBe(Date.parse('2003-03-03T00:00:00Z'));
    expect(s.intervalMs).toBe(900_000);
    expect(s.values).toHaveLength(2 * 96);
    expect(s.values[28]).toBe(10 + 20 + 30); // 07:00-07:15
    expect(s.values[29]).toBeNaN(); // 07:15-07:30 has only two of its three counts
    expect(s.values[84]).toBeNaN(); // the lone 21:00-21:05 count
    expect(s.values[0]).toBeNaN();
    expect(s.values[96 + 28]).toBeNaN();
  });
});
