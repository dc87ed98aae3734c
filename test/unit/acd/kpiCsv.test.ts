/** The KPI report's CSV (appliance/acd/kpiCsv.ts): columns, rows per view, quoting and formula escaping. */
import { describe, expect, it } from 'vitest';
import { KPI_CSV_COLUMNS, kpiCsv } from '../../../appliance/acd/kpiCsv.js';
import type { IntervalKpis, QueueKpis } from '../../../appliance/acd/kpis.js';

const figures = (patch: Partial<QueueKpis> = {}): QueueKpis => ({
  offered: 0,
  answered: 0,
  answeredWithinThreshold: 0,
  abandoned: 0,
  shortAbandoned: 0,
  overflowedOut: 0,
  transferred: 0,
  handled: 0,
  serviceLevel: null,
  averageSpeedOfAnswerS: null,
  averageAbandonTimeS: null,
  averageHandleTimeS: null,
  talkS: 0,
  holdS: 0,
  wrapUpS: 0,
  agentTimeS: { available: 0, ringing: 0, onCall: 0, wrapUp: 0, away: 0 },
  occupancy: null,
  ...patch,
});

const START = Date.UTC(2026, 11, 6, 9, 0);
const interval = (groups: Record<string, QueueKpis>, overall: QueueKpis): IntervalKpis => ({
  start: START,
  end: START + 900_000,
  groups,
  overall,
});

const lines = (csv: string) => csv.split('\r\n');

describe('KPI report CSV', () => {
  it('has a header and a row per interval and view, overall first, groups by id, CRLF line ends', () => {
    const csv = kpiCsv([
      interval(
        {
          cards: figures({ offered: 1, abandoned: 1 }),
          billing: figures({ offered: 2, answered: 2, serviceLevel: 0.5, averageSpeedOfAnswerS: 12.5 }),
        },
        figures({ offered: 3, answered: 2, abandoned: 1, serviceLevel: 0.5 }),
      ),
    ]);
    const l = lines(csv);
    expect(l[0]).toBe(['start', 'end', 'group', ...KPI_CSV_COLUMNS].join(','));
    expect(l[1]).toBe('2026-12-06T09:00:00.000Z,2026-12-06T09:15:00.000Z,overall,3,2,0,1,0,0,0,0,0.5,,,,');
    expect(l[2]).toBe('2026-12-06T09:00:00.000Z,2026-12-06T09:15:00.000Z,billing,2,2,0,0,0,0,0,0,0.5,12.5,,,');
    expect(l[3]!.split(',').slice(2, 7)).toEqual(['cards', '1', '0', '0', '1']);
    expect(l[4]).toBe('');
    expect(l).toHaveLength(5);
  });

  it('keeps one view when asked', () => {
    const csv = kpiCsv([interval({ cards: figures({ offered: 1 }), billing: figures() }, figures({ offered: 1 }))], 'cards');
    expect(
      lines(csv)
        .slice(1, -1)
        .map((r) => r.split(',')[2]),
    ).toEqual(['cards']);
    expect(lines(kpiCsv([interval({}, figures())], 'nope'))).toEqual([lines(csv)[0], '']);
  });

  it('quotes separators and quotes, and escapes what a spreadsheet would run as a formula', () => {
    const csv = kpiCsv([interval({ '=HYPERLINK("x")': figures(), 'a,b': figures(), '@sum': figures(), '-1+2': figures() }, figures())]);
    const groups = lines(csv)
      .slice(2, -1)
      .map((r) => r.slice(r.indexOf('Z,', r.indexOf('Z,') + 2) + 2, r.indexOf(',0,0,0')));
    expect(groups).toEqual([`'-1+2`, `'@sum`, `"'=HYPERLINK(""x"")"`, `"a,b"`]);
  });
});
