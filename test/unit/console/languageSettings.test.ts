/** The console's language settings: where they are edited, and a queue's language in the routing configuration the Agents screen saves. */
import { describe, expect, it } from 'vitest';
import { groupLanguages, routingConfigFrom, type RoutingConfig } from '../../../web/console/src/agentSetup.js';
import { fieldsOf, type FieldSpec } from '../../../web/console/src/settings/model.js';
import { configLeaves } from '../../../appliance/config/schema.js';

const overflow = { maxWaitMs: 60_000, action: 'none' };
const current: RoutingConfig = {
  groups: [
    { id: 'general', name: 'General', intents: [], adjacent: [], overflow },
    { id: 'mandarin', name: 'Mandarin', intents: ['billing'], adjacent: [], overflow, language: 'zh' },
  ],
  agents: [],
  rules: { defaultGroup: 'general' },
};
const lines = 'general, General\nmandarin, Mandarin\nnew, New queue';

describe('queue languages on the Agents screen', () => {
  it('reads each group’s own language', () => {
    expect(groupLanguages(current.groups)).toEqual({ general: '', mandarin: 'zh' });
  });

  it('sets, changes and clears a group’s language and keeps the rest of the group', () => {
    const out = routingConfigFrom(current, lines, [], '127.0.0.1', { general: 'auto', mandarin: '', new: 'zh' });
    expect(out.groups).toEqual([
      { id: 'general', name: 'General', intents: [], adjacent: [], overflow, language: 'auto' },
      { id: 'mandarin', name: 'Mandarin', intents: ['billing'], adjacent: [], overflow },
      { id: 'new', name: 'New queue', intents: [], adjacent: [], overflow: { maxWaitMs: 120_000, action: 'none' }, language: 'zh' },
    ]);
  });

  it('keeps a group’s language when the form says nothing about it (the wizard)', () => {
    expect(routingConfigFrom(current, lines, [], '127.0.0.1').groups[1]).toMatchObject({ id: 'mandarin', language: 'zh' });
  });
});

describe('language settings pages', () => {
  it('puts the site default and the dialled numbers beside the trunks, not on the models page', () => {
    const all: FieldSpec[] = configLeaves().map((l) => ({
      key: l.path.join('.'),
      type: 'string',
      description: '',
      live: false,
      secret: false,
      editable: true,
    }));
    const trunks = fieldsOf('trunks', all).map((f) => f.key);
    expect(trunks.slice(0, 3)).toEqual(['sip.trunks', 'asr.language', 'sip.dids']);
    expect(fieldsOf('models', all).map((f) => f.key)).not.toContain('asr.language');
  });
});
