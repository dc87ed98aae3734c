import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { banking77Sample } from '../../../appliance/routing/samples.js';
import { checkRoutingConfig, type AgentInput, type SkillGroupInput } from '../../../appliance/routing/schemas.js';
import { DEFAULT_RULES } from '../../../appliance/routing/types.js';
import { SHARED_DIR } from '../../helpers/paths.js';

const rules = { ...DEFAULT_RULES, defaultGroup: 'general' };
const g = (id: string, intents: string[] = [], adjacent: string[] = []): SkillGroupInput => ({
  id,
  name: id,
  intents,
  adjacent,
  overflow: { maxWaitMs: 1000, action: 'none' },
});
const a = (id: string, groups: string[]): AgentInput => ({
  id,
  name: id,
  sipUri: `sip:${id}@x`,
  senior: false,
  skills: groups.map((group) => ({ group, level: 3 })),
});

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return isEdgeVoxError(err) ? `${err.code}:${err.message}` : 'other';
  }
}

describe('checkRoutingConfig', () => {
  it('accepts a consistent configuration', () => {
    expect(codeOf(() => checkRoutingConfig([g('general'), g('cards', ['x'], ['general'])], [a('ada', ['cards'])], rules))).toBeUndefined();
  });
  it('refuses duplicates, an intent in two groups, unknown adjacent or skill groups and a missing default group', () => {
    expect(codeOf(() => checkRoutingConfig([g('general'), g('general')], [], rules))).toMatch(/ROUTING_CONFIG:duplicate group/);
    expect(codeOf(() => checkRoutingConfig([g('general', ['x']), g('b', ['x'])], [], rules))).toMatch(
      /intent x is in groups general and b/,
    );
    expect(codeOf(() => checkRoutingConfig([g('general', [], ['nope'])], [], rules))).toMatch(/adjacent group nope/);
    expect(codeOf(() => checkRoutingConfig([g('general')], [a('ada', ['nope'])], rules))).toMatch(/skill group nope/);
    expect(codeOf(() => checkRoutingConfig([g('cards')], [], rules))).toMatch(/default group general/);
    expect(codeOf(() => checkRoutingConfig([g('general')], [a('x', []), a('x', [])], rules))).toMatch(/duplicate agent/);
  });
});

describe('the BANKING77 sample configuration', () => {
  const sample = banking77Sample();
  it('is consistent', () => {
    expect(codeOf(() => checkRoutingConfig(sample.groups, sample.agents, { ...rules, ...sample.rules }))).toBeUndefined();
  });
  it('puts every BANKING77 intent in exactly one group', () => {
    const path = join(SHARED_DIR, 'datasets', 'intent', 'banking77', 'categories.json');
    if (!existsSync(path)) throw new Error(`${path} missing: the BANKING77 dataset is needed`);
    const labels = JSON.parse(readFileSync(path, 'utf8')) as string[];
    const mapped = sample.groups.flatMap((x) => x.intents);
    expect(new Set(mapped).size).toBe(mapped.length);
    expect([...mapped].sort()).toEqual([...labels].sort());
  });
});
