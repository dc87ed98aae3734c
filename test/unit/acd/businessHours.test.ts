/**
 * Business hours on the site's clock across daylight-saving changes (Europe/Berlin goes forward on
 * 2025-03-30 at 01:00 UTC, America/New_York goes back on 2025-11-02 at 06:00 UTC) and holidays
 * (closed all day, or a partial day). Instants are written in UTC; the comments give the wall time.
 */
import { describe, expect, it } from 'vitest';
import { isValidTimeZone, localTimeAt, nextOpeningAt, openAt, siteTimeZone } from '../../../appliance/acd/businessHours.js';
import type { BusinessHours } from '../../../appliance/routing/types.js';

const at = (iso: string) => Date.parse(iso);
const weekdays = (from: string, to: string) => ({
  mon: [{ from, to }],
  tue: [{ from, to }],
  wed: [{ from, to }],
  thu: [{ from, to }],
  fri: [{ from, to }],
});

const BERLIN = 'Europe/Berlin';
const NEW_YORK = 'America/New_York';

describe('localTimeAt', () => {
  it("gives the site's date, weekday and minute across the spring change", () => {
    expect(localTimeAt(at('2025-03-30T00:59:00Z'), BERLIN)).toEqual({ date: '2025-03-30', weekday: 'sun', minuteOfDay: 1 * 60 + 59 });
    // One minute later the clock jumps from 01:59 CET to 03:00 CEST.
    expect(localTimeAt(at('2025-03-30T01:00:00Z'), BERLIN)).toEqual({ date: '2025-03-30', weekday: 'sun', minuteOfDay: 3 * 60 });
    expect(localTimeAt(at('2025-03-30T23:30:00Z'), 'UTC')).toEqual({ date: '2025-03-30', weekday: 'sun', minuteOfDay: 23 * 60 + 30 });
    expect(localTimeAt(at('2025-03-30T23:30:00Z'), BERLIN)).toEqual({ date: '2025-03-31', weekday: 'mon', minuteOfDay: 60 + 30 });
  });

  it('knows zone names', () => {
    expect(isValidTimeZone(BERLIN)).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
    expect(siteTimeZone(BERLIN)).toBe(BERLIN);
    expect(isValidTimeZone(siteTimeZone(''))).toBe(true);
  });
});

describe('openAt across a daylight-saving change', () => {
  const hours: BusinessHours = { weekly: { ...weekdays('08:00', '18:00'), sun: [{ from: '02:00', to: '04:00' }] } };

  it('opens at 08:00 wall time on both sides of the spring change (07:00 UTC before, 06:00 UTC after)', () => {
    // Friday 2025-03-28 (CET, UTC+1): 07:30 local at 06:30Z is closed, 08:00 local at 07:00Z opens.
    expect(openAt(hours, at('2025-03-28T06:30:00Z'), BERLIN)).toMatchObject({ open: false, reason: 'hours' });
    expect(openAt(hours, at('2025-03-28T07:00:00Z'), BERLIN)).toMatchObject({ open: true, reason: 'hours' });
    expect(openAt(hours, at('2025-03-28T16:59:00Z'), BERLIN).open).toBe(true); // 17:59
    expect(openAt(hours, at('2025-03-28T17:00:00Z'), BERLIN).open).toBe(false); // 18:00: [from, to)
    // Monday 2025-03-31 (CEST, UTC+2): the same UTC instant 06:30Z is 08:30 local: open.
    expect(openAt(hours, at('2025-03-31T06:30:00Z'), BERLIN)).toMatchObject({ open: true });
    expect(openAt(hours, at('2025-03-31T05:59:00Z'), BERLIN).open).toBe(false); // 07:59
    expect(openAt(hours, at('2025-03-31T15:59:00Z'), BERLIN).open).toBe(true); // 17:59
    expect(openAt(hours, at('2025-03-31T16:00:00Z'), BERLIN).open).toBe(false); // 18:00
  });

  it('an interval in the skipped hour opens when the clock reaches it', () => {
    // Sunday 02:00-04:00: the clock shows 01:59 then 03:00.
    expect(openAt(hours, at('2025-03-30T00:59:00Z'), BERLIN).open).toBe(false);
    expect(openAt(hours, at('2025-03-30T01:00:00Z'), BERLIN).open).toBe(true); // 03:00 CEST
    expect(openAt(hours, at('2025-03-30T02:00:00Z'), BERLIN).open).toBe(false); // 04:00 CEST
    expect(nextOpeningAt(hours, at('2025-03-30T00:30:00Z'), BERLIN)).toBe(at('2025-03-30T01:00:00Z'));
  });

  it('the next opening of an interval starting inside the skipped hour is when the clock comes out of it', () => {
    // Sunday 02:30-03:30: the clock shows 01:59 CET then 03:00 CEST (01:00Z), open until 03:30 CEST.
    const late: BusinessHours = { weekly: { sun: [{ from: '02:30', to: '03:30' }] } };
    expect(openAt(late, at('2025-03-30T01:00:00Z'), BERLIN).open).toBe(true);
    // from Saturday 23:00 CET: that Sunday at 03:00 CEST, not the next Sunday
    expect(nextOpeningAt(late, at('2025-03-29T22:00:00Z'), BERLIN)).toBe(at('2025-03-30T01:00:00Z'));
    // an interval wholly inside the skipped hour never exists that day: the next Sunday
    const skipped: BusinessHours = { weekly: { sun: [{ from: '02:00', to: '02:30' }] } };
    expect(nextOpeningAt(skipped, at('2025-03-29T22:00:00Z'), BERLIN)).toBe(at('2025-04-06T00:00:00Z'));
  });

  it('the next opening of an interval starting in the repeated hour is its first showing', () => {
    // Sunday 2025-10-26: 02:30 CEST (00:30Z), then 02:30 CET again (01:30Z); open at the first
    const late: BusinessHours = { weekly: { sun: [{ from: '02:30', to: '03:30' }] } };
    expect(openAt(late, at('2025-10-26T00:30:00Z'), BERLIN).open).toBe(true);
    expect(nextOpeningAt(late, at('2025-10-25T22:00:00Z'), BERLIN)).toBe(at('2025-10-26T00:30:00Z'));
    const ny: BusinessHours = { weekly: { sun: [{ from: '01:00', to: '01:30' }] } };
    expect(nextOpeningAt(ny, at('2025-11-01T16:00:00Z'), NEW_YORK)).toBe(at('2025-11-02T05:00:00Z')); // 01:00 EDT
  });

  it('the repeated hour of the autumn change is open both times', () => {
    const ny: BusinessHours = { weekly: { ...weekdays('09:00', '17:00'), sun: [{ from: '01:00', to: '01:30' }] } };
    expect(openAt(ny, at('2025-11-02T05:15:00Z'), NEW_YORK).open).toBe(true); // 01:15 EDT
    expect(openAt(ny, at('2025-11-02T05:45:00Z'), NEW_YORK).open).toBe(false); // 01:45 EDT
    expect(openAt(ny, at('2025-11-02T06:15:00Z'), NEW_YORK).open).toBe(true); // 01:15 EST, again
    expect(openAt(ny, at('2025-11-02T06:45:00Z'), NEW_YORK).open).toBe(false);
    // Friday 09:00 EDT is 13:00Z, Monday 09:00 EST is 14:00Z.
    expect(openAt(ny, at('2025-10-31T13:30:00Z'), NEW_YORK).open).toBe(true);
    expect(openAt(ny, at('2025-11-03T13:30:00Z'), NEW_YORK).open).toBe(false); // 08:30 EST
    expect(nextOpeningAt(ny, at('2025-11-02T12:00:00Z'), NEW_YORK)).toBe(at('2025-11-03T14:00:00Z'));
  });

  it('finds the next opening over a weekend with the spring change in it', () => {
    // Friday 18:30 CET → Monday 08:00 CEST (06:00Z); Sunday's 02:00-04:00 is excluded here.
    const weekdaysOnly: BusinessHours = { weekly: weekdays('08:00', '18:00') };
    expect(nextOpeningAt(weekdaysOnly, at('2025-03-28T17:30:00Z'), BERLIN)).toBe(at('2025-03-31T06:00:00Z'));
    // Saturday 23:30 CET, before a 23-hour Sunday: Monday is still found, not skipped.
    expect(nextOpeningAt(weekdaysOnly, at('2025-03-29T22:30:00Z'), BERLIN)).toBe(at('2025-03-31T06:00:00Z'));
    expect(nextOpeningAt(weekdaysOnly, at('2025-03-31T07:00:00Z'), BERLIN)).toBe(at('2025-03-31T07:00:00Z')); // open already
    expect(nextOpeningAt({ weekly: {} }, at('2025-03-31T07:00:00Z'), BERLIN)).toBeNull();
  });
});

describe('holidays', () => {
  const hours: BusinessHours = {
    weekly: weekdays('08:00', '18:00'),
    holidays: [
      { date: '2025-12-24', name: 'Christmas Eve', open: [{ from: '09:00', to: '12:00' }] },
      { date: '2025-12-25', name: 'Christmas Day' },
      { date: '2025-12-26' },
    ],
  };

  it('a partial day replaces the weekday hours; a holiday without hours is closed all day', () => {
    // Wednesday 2025-12-24 in CET (UTC+1).
    expect(openAt(hours, at('2025-12-24T07:30:00Z'), BERLIN)).toEqual({ open: false, reason: 'holiday', holiday: 'Christmas Eve' }); // 08:30
    expect(openAt(hours, at('2025-12-24T09:00:00Z'), BERLIN)).toEqual({ open: true, reason: 'holiday-hours', holiday: 'Christmas Eve' }); // 10:00
    expect(openAt(hours, at('2025-12-24T11:30:00Z'), BERLIN).open).toBe(false); // 12:30
    expect(openAt(hours, at('2025-12-25T09:00:00Z'), BERLIN)).toEqual({ open: false, reason: 'holiday', holiday: 'Christmas Day' });
    expect(openAt(hours, at('2025-12-26T09:00:00Z'), BERLIN)).toEqual({ open: false, reason: 'holiday', holiday: '2025-12-26' });
    // The holiday is the site's date: 23:30Z on the 24th is already the 25th in Berlin.
    expect(localTimeAt(at('2025-12-24T23:30:00Z'), BERLIN).date).toBe('2025-12-25');
    expect(openAt(hours, at('2025-12-23T09:00:00Z'), BERLIN)).toEqual({ open: true, reason: 'hours', holiday: null });
  });

  it('the next opening skips the holidays and the weekend', () => {
    // Wednesday 24th 13:00 local → Monday 29th 08:00 CET (07:00Z).
    expect(nextOpeningAt(hours, at('2025-12-24T12:00:00Z'), BERLIN)).toBe(at('2025-12-29T07:00:00Z'));
    expect(nextOpeningAt(hours, at('2025-12-24T07:00:00Z'), BERLIN)).toBe(at('2025-12-24T08:00:00Z')); // 09:00 that morning
  });

  it('no hours at all: always open', () => {
    expect(openAt(undefined, at('2025-12-25T09:00:00Z'), BERLIN)).toEqual({ open: true, reason: 'always', holiday: null });
  });
});
