/**
 * What the site tells the forecast, in the store: its settings (one JSON row) and its special days
 * (holidays, campaigns: a date, the groups it touches and the expected effect on volume). Labels
 * are what a supervisor typed about a day (no caller data).
 */
import type { Database } from 'better-sqlite3';
import { evxError } from '../errors.js';
import { parseJson, type Writer } from '../store/repos/writer.js';

export interface SpecialDayRecord {
  readonly id: number;
  /** YYYY-MM-DD, site-local. */
  readonly date: string;
  /** '' = every group. */
  readonly groupId: string;
  /** Expected volume × factor (1.3 = +30 %, 0 = closed). */
  readonly factor: number;
  readonly label: string;
  readonly updatedBy: string;
  readonly updatedAt: number;
}

export type SpecialDayInput = Pick<SpecialDayRecord, 'date' | 'groupId' | 'factor' | 'label'>;

interface DayRow {
  id: number;
  date: string;
  group_id: string;
  factor: number;
  label: string;
  updated_by: string;
  updated_at: number;
}

const toDay = (r: DayRow): SpecialDayRecord => ({
  id: r.id,
  date: r.date,
  groupId: r.group_id,
  factor: r.factor,
  label: r.label,
  updatedBy: r.updated_by,
  updatedAt: r.updated_at,
});

/** True for a real calendar date written YYYY-MM-DD. */
export function isCalendarDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

export class ForecastPlanRepo {
  constructor(
    private readonly db: Database,
    private readonly write: Writer,
  ) {}

  /** The stored settings object (not merged with defaults), or undefined. */
  settings(): unknown {
    const row = this.db.prepare(`SELECT value_json FROM forecast_settings WHERE key = 'settings'`).get() as
      { value_json: string } | undefined;
    return row === undefined ? undefined : parseJson<unknown>(row.value_json, undefined);
  }

  saveSettings(value: unknown, by: string, at: number): void {
    this.write('forecast.settings', () =>
      this.db
        .prepare(
          `INSERT INTO forecast_settings (key, value_json, updated_by, updated_at) VALUES ('settings', ?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
        )
        .run(JSON.stringify(value), by, at),
    );
  }

  /** Special days, by date; `from`/`to` (YYYY-MM-DD, inclusive) narrow the range. */
  specialDays(from?: string, to?: string): SpecialDayRecord[] {
    const rows = this.db
      .prepare(`SELECT * FROM forecast_special_days WHERE date >= ? AND date <= ? ORDER BY date, group_id`)
      .all(from ?? '0000-00-00', to ?? '9999-99-99') as DayRow[];
    return rows.map(toDay);
  }

  specialDay(id: number): SpecialDayRecord | undefined {
    const row = this.db.prepare(`SELECT * FROM forecast_special_days WHERE id = ?`).get(id) as DayRow | undefined;
    return row === undefined ? undefined : toDay(row);
  }

  /** Add a special day; a day already set for the same date and group is refused. */
  addSpecialDay(day: SpecialDayInput, by: string, at: number): SpecialDayRecord {
    this.refuseDuplicate(day, null);
    const id = this.write(
      'forecast.specialDays.add',
      () =>
        this.db
          .prepare(`INSERT INTO forecast_special_days (date, group_id, factor, label, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?)`)
          .run(day.date, day.groupId, day.factor, day.label, by, at).lastInsertRowid,
    );
    return this.specialDay(Number(id))!;
  }

  /** Replace a special day; undefined when there is no such id. */
  updateSpecialDay(id: number, day: SpecialDayInput, by: string, at: number): SpecialDayRecord | undefined {
    if (this.specialDay(id) === undefined) return undefined;
    this.refuseDuplicate(day, id);
    this.write('forecast.specialDays.update', () =>
      this.db
        .prepare(
          `UPDATE forecast_special_days SET date = ?, group_id = ?, factor = ?, label = ?, updated_by = ?, updated_at = ? WHERE id = ?`,
        )
        .run(day.date, day.groupId, day.factor, day.label, by, at, id),
    );
    return this.specialDay(id);
  }

  /** Delete a special day; false when there was none. */
  deleteSpecialDay(id: number): boolean {
    return this.write(
      'forecast.specialDays.delete',
      () => this.db.prepare(`DELETE FROM forecast_special_days WHERE id = ?`).run(id).changes > 0,
    );
  }

  private refuseDuplicate(day: SpecialDayInput, exceptId: number | null): void {
    const other = this.db
      .prepare(`SELECT id FROM forecast_special_days WHERE date = ? AND group_id = ? AND id != ?`)
      .get(day.date, day.groupId, exceptId ?? -1) as { id: number } | undefined;
    if (other !== undefined)
      throw evxError('EVX_ERR_FORECAST_SPECIAL_DAY_EXISTS', 'a special day is already set for this date and group', {
        details: { id: other.id, date: day.date, groupId: day.groupId },
      });
  }
}
