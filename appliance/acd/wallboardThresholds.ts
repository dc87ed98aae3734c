/**
 * The wallboard's tile colours as configured: acd.wallboard's amber/red limits per metric, the
 * service level's amber limit from acd.serviceLevelTarget (the one target the Prometheus rules use
 * too), and each skill group's own overrides merged over them. The console colours tiles with these
 * (web/console/src/wallboardModel.ts, levelOf); figures themselves stay the ACD's.
 */
import type { Static } from '@sinclair/typebox';
import type { AcdSection } from '../config/contactCentreSchema.js';

export type WallboardMetric =
  'waiting' | 'longestWaitingS' | 'serviceLevel' | 'averageSpeedOfAnswerS' | 'abandonRate' | 'averageHandleTimeS';

/** Amber and red limits of one metric; `higherIsBetter` metrics turn amber/red at or below, the others at or above. */
export interface Threshold {
  readonly amber: number;
  readonly red: number;
  readonly higherIsBetter: boolean;
}

export type Thresholds = Record<WallboardMetric, Threshold>;

export interface ResolvedThresholds {
  readonly overall: Thresholds;
  /** Every skill group of the routing configuration (groups without overrides get the overall limits). */
  readonly groups: Record<string, Thresholds>;
}

type AcdConfig = Pick<Static<typeof AcdSection>, 'serviceLevelTarget' | 'wallboard'>;

const LIMITED = ['waiting', 'longestWaitingS', 'averageSpeedOfAnswerS', 'abandonRate', 'averageHandleTimeS'] as const;

/** The configured limits overall and for each of `groupIds`. */
export function resolveThresholds(acd: AcdConfig, groupIds: readonly string[]): ResolvedThresholds {
  const wb = acd.wallboard;
  const overall = {
    serviceLevel: { amber: acd.serviceLevelTarget, red: wb.serviceLevelRed, higherIsBetter: true },
  } as Thresholds;
  for (const m of LIMITED) overall[m] = { ...wb[m] };
  const groups: Record<string, Thresholds> = {};
  for (const id of groupIds) {
    const o = wb.groups[id];
    const g = { ...overall };
    if (o !== undefined) {
      for (const m of LIMITED) if (o[m] !== undefined) g[m] = { ...overall[m], ...o[m] };
      g.serviceLevel = {
        amber: o.serviceLevelTarget ?? overall.serviceLevel.amber,
        red: o.serviceLevelRed ?? overall.serviceLevel.red,
        higherIsBetter: true,
      };
    }
    groups[id] = g;
  }
  return { overall, groups };
}
