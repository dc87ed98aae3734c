/** A skill group's queue policy as the routing API accepts it: the schema, and the checks it cannot express. */
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { checkRoutingConfig, SkillGroupSchema, type SkillGroupInput } from '../../../appliance/routing/schemas.js';
import { DEFAULT_RULES, type QueuePolicy } from '../../../appliance/routing/types.js';

const rules = { ...DEFAULT_RULES, defaultGroup: 'general' };
const g = (id: string, queue?: QueuePolicy, adjacent: string[] = []): SkillGroupInput => ({
  id,
  name: id,
  intents: [],
  adjacent,
  overflow: { maxWaitMs: 1000, action: 'none' },
  ...(queue ? { queue: queue as SkillGroupInput['queue'] } : {}),
});

function problem(groups: SkillGroupInput[]): string | undefined {
  try {
    checkRoutingConfig(groups, [], rules);
    return undefined;
  } catch (err) {
    return isEdgeVoxError(err) ? `${err.code}:${err.message}` : 'other';
  }
}

const FULL: QueuePolicy = {
  hours: {
    weekly: {
      mon: [
        { from: '08:00', to: '12:00' },
        { from: '13:00', to: '24:00' },
      ],
      sat: [],
    },
    holidays: [{ date: '2025-12-24', name: 'Christmas Eve', open: [{ from: '09:00', to: '12:00' }] }, { date: '2025-12-25' }],
  },
  whenClosed: 'callback',
  maxQueued: 20,
  maxWaitS: 600,
  maxWaitAction: 'overflow',
  maxWaitGroup: 'general',
  serviceLevelS: 30,
  announceIntervalS: 45,
};

describe('queue policy of a skill group', () => {
  it('the schema takes a full policy and refuses bad times, dates and unknown keys', () => {
    expect(Value.Check(SkillGroupSchema, g('cards', FULL))).toBe(true);
    expect(Value.Check(SkillGroupSchema, g('cards'))).toBe(true);
    const bad = (queue: unknown) => Value.Check(SkillGroupSchema, { ...g('cards'), queue });
    expect(bad({ hours: { weekly: { mon: [{ from: '8:00', to: '12:00' }] } } })).toBe(false);
    expect(bad({ hours: { weekly: { mon: [{ from: '08:00', to: '24:01' }] } } })).toBe(false);
    expect(bad({ hours: { weekly: { monday: [] } } })).toBe(false);
    expect(bad({ hours: { weekly: {}, holidays: [{ date: '24.12.2025' }] } })).toBe(false);
    expect(bad({ maxWaitAction: 'transfer' })).toBe(false);
    expect(bad({ serviceLevelS: 0 })).toBe(false);
    expect(bad({ colour: 'blue' })).toBe(false);
  });

  it('the cross checks: intervals run forward, holidays are real and unique, the overflow target exists', () => {
    expect(problem([g('general'), g('cards', FULL)])).toBeUndefined();
    expect(problem([g('general', { hours: { weekly: { tue: [{ from: '18:00', to: '08:00' }] } } })])).toMatch(
      /hours.weekly.tue interval 18:00-08:00 does not run forward/,
    );
    expect(problem([g('general', { hours: { weekly: {}, holidays: [{ date: '2025-02-30' }] } })])).toMatch(
      /2025-02-30 is not a calendar date/,
    );
    expect(problem([g('general', { hours: { weekly: {}, holidays: [{ date: '2025-12-25' }, { date: '2025-12-25' }] } })])).toMatch(
      /listed twice/,
    );
    expect(
      problem([g('general', { hours: { weekly: {}, holidays: [{ date: '2025-12-24', open: [{ from: '12:00', to: '12:00' }] }] } })]),
    ).toMatch(/holiday 2025-12-24 interval/);
    expect(problem([g('general', { maxWaitGroup: 'nope' })])).toMatch(/maxWaitGroup nope does not exist/);
    expect(problem([g('general', { maxWaitGroup: 'general' })])).toMatch(/maxWaitGroup is the group itself/);
    expect(problem([g('general', { maxWaitAction: 'overflow' })])).toMatch(/needs maxWaitGroup or an adjacent group/);
    expect(problem([g('general', { maxWaitAction: 'overflow' }, ['cards']), g('cards')])).toBeUndefined();
    expect(problem([g('general', { announceIntervalS: 5 })])).toMatch(/announceIntervalS must be 0 \(off\) or at least 10/);
    expect(problem([g('general', { announceIntervalS: 0 })])).toBeUndefined();
  });
});
