/**
 * The report screen's opening range (web/console/src/reportModel.ts): it must hold what happened this
 * minute. The box reports the intervals starting before `to`, so a `to` rounded down to the minute
 * left out an interval that began this minute, with its calls (the wallboard e2e's CSV read 0 calls).
 */
import { describe, expect, it } from 'vitest';
import { defaultReportRange, localInput } from '../../../web/console/src/reportModel.js';

const asMs = (local: string): number => new Date(local).getTime(); // datetime-local is local time, as the page reads it

describe('report range', () => {
  it('opens on the last 24 hours up to the end of the current minute', () => {
    const intervalStart = Date.UTC(2026, 11, 6, 19, 0, 0);
    for (const now of [intervalStart, intervalStart + 5_000, intervalStart + 59_999, intervalStart + 61_000]) {
      const { from, to } = defaultReportRange(now);
      expect(asMs(to), `to ${to} for now ${new Date(now).toISOString()}`).toBeGreaterThan(now);
      expect(asMs(to) - now).toBeLessThanOrEqual(60_000);
      expect(now - asMs(from)).toBeGreaterThanOrEqual(86_400_000);
      expect(now - asMs(from)).toBeLessThan(86_400_000 + 60_000);
    }
  });

  it('writes datetime-local values to the minute in the local time zone', () => {
    const ms = new Date(2026, 0, 2, 3, 4, 59).getTime();
    expect(localInput(ms)).toBe('2026-01-02T03:04');
  });
});
