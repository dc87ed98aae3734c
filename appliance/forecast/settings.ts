/**
 * The site's forecasting and staffing settings (stored in forecast_settings, changed by supervisors
 * through the API): the service-level and ASA targets staffing is computed for, shrinkage, occupancy
 * cap, callers' patience for Erlang A, the forecast method and history used, and the "scale-up"
 * alert (actual volume more than X % from the forecast over the last N intervals). Special days are
 * rows of their own (specialDays.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

export const METHOD_CHOICES = ['default', 'seasonal-naive', 'profile', 'holt-winters', 'ensemble'] as const;

export const ForecastSettingsSchema = Type.Object(
  {
    serviceLevelTarget: Type.Number({
      minimum: 0.01,
      maximum: 0.999,
      description: 'Share of calls answered within serviceLevelS (0.8 = 80 %)',
    }),
    serviceLevelS: Type.Integer({ minimum: 1, maximum: 3600, description: 'Service-level threshold T in seconds (80 % in 20 s: 20)' }),
    asaTargetS: Type.Union([Type.Integer({ minimum: 1, maximum: 3600 }), Type.Null()], {
      description: 'Average speed of answer target in seconds; null = none',
    }),
    shrinkage: Type.Number({
      minimum: 0,
      maximum: 0.9,
      description: 'Share of paid time agents are not on the phones (breaks, training): 0.3 = 30 %',
    }),
    maxOccupancy: Type.Union([Type.Number({ minimum: 0.5, maximum: 1 }), Type.Null()], {
      description: 'Highest occupancy staffing may plan for (0.9 = 90 %); null = no cap',
    }),
    patienceS: Type.Integer({ minimum: 1, maximum: 3600, description: "Callers' mean patience in the queue (Erlang A), seconds" }),
    method: Type.Union(
      METHOD_CHOICES.map((m) => Type.Literal(m)),
      { description: 'Forecast model; default = the one make eval-forecast shows best' },
    ),
    historyWeeks: Type.Integer({ minimum: 1, maximum: 52, description: 'Weeks of interval history the forecast learns from' }),
    alert: Type.Object(
      {
        enabled: Type.Boolean({ description: 'Raise the volume-deviation ("trigger scale-up") alert' }),
        deviationPct: Type.Number({
          minimum: 1,
          maximum: 1000,
          description: 'Alert when actual volume is more than this % from the forecast',
        }),
        intervals: Type.Integer({ minimum: 1, maximum: 96, description: '… summed over the last N closed intervals' }),
        minForecastCalls: Type.Integer({
          minimum: 0,
          maximum: 100_000,
          description: 'No alert while the forecast of those N intervals is below this many calls (too few to judge)',
        }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type ForecastSettings = Static<typeof ForecastSettingsSchema>;

/** The settings of a site that changed none: the ACD's service-level target and threshold, 30 % shrinkage, alert at 25 % over 8 intervals (2 h of 15 min: about 2.5 standard deviations of Poisson noise at 100 calls). */
export function defaultForecastSettings(acd: { serviceLevelTarget: number; serviceLevelS: number }): ForecastSettings {
  return {
    serviceLevelTarget: Math.min(0.999, Math.max(0.01, acd.serviceLevelTarget)),
    serviceLevelS: acd.serviceLevelS,
    asaTargetS: null,
    shrinkage: 0.3,
    maxOccupancy: 0.9,
    patienceS: 120,
    method: 'default',
    historyWeeks: 8,
    alert: { enabled: true, deviationPct: 25, intervals: 8, minForecastCalls: 50 },
  };
}

/** Stored settings over the defaults; anything that fails the schema falls back to the defaults. */
export function mergeSettings(defaults: ForecastSettings, stored: unknown): ForecastSettings {
  if (typeof stored !== 'object' || stored === null) return defaults;
  const s = stored as Partial<ForecastSettings>;
  const merged = { ...defaults, ...s, alert: { ...defaults.alert, ...(typeof s.alert === 'object' && s.alert !== null ? s.alert : {}) } };
  return Value.Check(ForecastSettingsSchema, merged) ? merged : defaults;
}
