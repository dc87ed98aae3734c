/**
 * Wallboard colours from the configuration: acd.wallboard and acd.serviceLevelTarget resolved per
 * skill group on the box (appliance/acd/wallboardThresholds.ts), then the page's choice of limits
 * and colour (web/console/src/wallboardModel.ts thresholdsFor + levelOf).
 */
import type { Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { resolveThresholds } from '../../../appliance/acd/wallboardThresholds.js';
import { AcdSection } from '../../../appliance/config/contactCentreSchema.js';
import { DEFAULT_THRESHOLDS, levelOf, thresholdsFor } from '../../../web/console/src/wallboardModel.js';

/** acd with its schema defaults and `patch` (as the config loader fills it). */
const acdConfig = (patch: Record<string, unknown> = {}) => Value.Default(AcdSection, structuredClone(patch)) as Static<typeof AcdSection>;

describe('wallboard thresholds from the configuration', () => {
  it('defaults to the page’s built-in limits, the service level amber at acd.serviceLevelTarget', () => {
    const r = resolveThresholds(acdConfig(), ['general', 'cards']);
    expect(r.overall).toEqual(DEFAULT_THRESHOLDS);
    expect(r.groups['general']).toEqual(DEFAULT_THRESHOLDS);
    const target = resolveThresholds(acdConfig({ serviceLevelTarget: 0.9 }), []);
    expect(target.overall.serviceLevel).toEqual({ amber: 0.9, red: 0.6, higherIsBetter: true });
  });

  it('applies configured limits overall and a group’s own over them, field by field', () => {
    const acd = acdConfig({
      wallboard: {
        waiting: { amber: 10, red: 20 },
        serviceLevelRed: 0.5,
        groups: { vip: { waiting: { red: 4, amber: 2 }, serviceLevelTarget: 0.95, abandonRate: { red: 0.03 } } },
      },
    });
    const r = resolveThresholds(acd, ['general', 'vip']);
    expect(r.overall.waiting).toEqual({ amber: 10, red: 20, higherIsBetter: false });
    expect(r.groups['general']!.waiting).toEqual(r.overall.waiting);
    expect(r.groups['vip']!.waiting).toEqual({ amber: 2, red: 4, higherIsBetter: false });
    expect(r.groups['vip']!.abandonRate).toEqual({ amber: 0.05, red: 0.03, higherIsBetter: false });
    expect(r.groups['vip']!.serviceLevel).toEqual({ amber: 0.95, red: 0.5, higherIsBetter: true });
    expect(r.groups['general']!.serviceLevel).toEqual({ amber: 0.8, red: 0.5, higherIsBetter: true });
    // the schema refuses unknown metrics and negative limits
    expect(Value.Check(AcdSection, Value.Default(AcdSection, { wallboard: { waiting: { amber: -1 } } }))).toBe(false);
    expect(Value.Check(AcdSection, Value.Default(AcdSection, { wallboard: { groups: { g: { speed: {} } } } }))).toBe(false);
  });

  it('colours tiles with the configured limits of their view', () => {
    const r = resolveThresholds(
      acdConfig({ wallboard: { waiting: { amber: 10, red: 20 }, groups: { vip: { waiting: { amber: 1, red: 2 } } } } }),
      ['general', 'vip'],
    );
    // 5 waiting: amber by the built-in limits (3/6), green with the configured 10/20, red for vip (1/2)
    expect(levelOf(5, DEFAULT_THRESHOLDS.waiting)).toBe('amber');
    expect(levelOf(5, thresholdsFor(r, 'overall').waiting)).toBe('green');
    expect(levelOf(5, thresholdsFor(r, 'general').waiting)).toBe('green');
    expect(levelOf(10, thresholdsFor(r, 'general').waiting)).toBe('amber');
    expect(levelOf(5, thresholdsFor(r, 'vip').waiting)).toBe('red');
    expect(levelOf(1, thresholdsFor(r, 'vip').waiting)).toBe('amber');
    // a group the box did not list (added since) gets the overall limits
    expect(thresholdsFor(r, 'new-group').waiting).toEqual(r.overall.waiting);
    // service level against a 90 % target, red at 70 %
    const sl = thresholdsFor(resolveThresholds(acdConfig({ serviceLevelTarget: 0.9, wallboard: { serviceLevelRed: 0.7 } }), []), 'overall');
    expect(levelOf(0.95, sl.serviceLevel)).toBe('green');
    expect(levelOf(0.85, sl.serviceLevel)).toBe('amber');
    expect(levelOf(0.7, sl.serviceLevel)).toBe('red');
  });

  it('keeps the built-in limits before the configuration arrives and for incoherent ones', () => {
    expect(thresholdsFor(null, 'overall')).toEqual(DEFAULT_THRESHOLDS);
    // red before amber in the bad direction: not usable, the default stands
    const r = resolveThresholds(acdConfig({ wallboard: { longestWaitingS: { amber: 60, red: 30 }, serviceLevelRed: 0.9 } }), []);
    const t = thresholdsFor(r, 'overall');
    expect(t.longestWaitingS).toEqual(DEFAULT_THRESHOLDS.longestWaitingS);
    // red 0.9 above the 0.8 target for a higher-is-better metric: incoherent too
    expect(t.serviceLevel).toEqual(DEFAULT_THRESHOLDS.serviceLevel);
    expect(levelOf(45, t.longestWaitingS)).toBe('amber');
  });
});
