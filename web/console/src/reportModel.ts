// The report screen's range, without the DOM: the inputs are datetime-local fields (minutes, the
// browser's time zone) and the box's reports take unix ms.

/** `ms` as a datetime-local input's value (local time, to the minute, rounded down). */
export function localInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

/**
 * The range a report opens with: the last 24 hours up to the end of the current minute, so what
 * happened in this minute (a call a few seconds into a new interval) is inside it; rounding `to`
 * down would leave out the interval that began this minute.
 */
export function defaultReportRange(now: number): { from: string; to: string } {
  return { from: localInput(now - 86_400_000), to: localInput(now + 60_000) };
}
