/**
 * A real call-centre arrival series for eval-forecast, read from a file the user points to (it is
 * not stored in this repository: its data licence is not stated): the five-minute call counts of
 * a large North American commercial bank, weekdays 07:00-21:05, 3 March - 24 October 2003
 * (Weinberg, Brown & Stroud 2007, JASA 102:1185), as distributed in the fpp3 R package
 * (`bank_calls`; Rdatasets CSV columns rownames,DateTime,Calls). Summed into 15-minute intervals on
 * whole days; nights, weekends and the missing days (holidays) are unknown (NaN); the lone
 * 21:00-21:05 slot is dropped.
 */
import { readFileSync } from 'node:fs';

const DAY_MS = 86_400_000;
const INTERVAL_MS = 900_000;

export function loadBankCalls(path: string): { startMs: number; intervalMs: number; values: number[] } {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).slice(1);
  const points: { t: number; calls: number }[] = [];
  for (const line of lines) {
    const cols = line.split(',');
    if (cols.length < 3) continue;
    const t = Date.parse(cols[1]!.replace(/"/g, ''));
    const calls = Number(cols[2]);
    if (Number.isFinite(t) && Number.isFinite(calls)) points.push({ t, calls });
  }
  if (points.length === 0) throw new Error(`no rows in ${path}`);
  const startMs = Math.floor(points[0]!.t / DAY_MS) * DAY_MS;
  const endMs = (Math.floor(points[points.length - 1]!.t / DAY_MS) + 1) * DAY_MS;
  const values = new Array<number>((endMs - startMs) / INTERVAL_MS).fill(NaN);
  const slots = new Array<number>(values.length).fill(0);
  for (const p of points) {
    const i = Math.floor((p.t - startMs) / INTERVAL_MS);
    values[i] = (Number.isFinite(values[i]!) ? values[i]! : 0) + p.calls;
    slots[i] = slots[i]! + 1;
  }
  // A 15-minute interval is known only when all three of its 5-minute counts are.
  for (let i = 0; i < values.length; i++) if (slots[i] !== 3) values[i] = NaN;
  return { startMs, intervalMs: INTERVAL_MS, values };
}
