/** The settings pages' pure parts: which keys a page shows, the input kind of a key, input values to saved values, and where issues belong. */
import { describe, expect, it } from 'vitest';
import {
  PAGES,
  fieldsOf,
  fromInput,
  issuesAt,
  issuesOf,
  kindOf,
  normalKey,
  toInput,
  type FieldSpec,
} from '../../../web/console/src/settings/model.js';
import { configLeaves } from '../../../appliance/config/schema.js';

const spec = (key: string, type: string, more: Partial<FieldSpec> = {}): FieldSpec => ({
  key,
  type,
  description: '',
  live: true,
  secret: false,
  editable: true,
  ...more,
});

describe('settings pages', () => {
  it('every key a page lists exists in the schema, and no key is on two pages', () => {
    const keys = configLeaves().map((l) => l.path.join('.'));
    const all = keys.map((key) => spec(key, 'string'));
    const seen = new Map<string, string>();
    for (const p of PAGES) {
      for (const entry of p.keys)
        expect(
          keys.some((k) => (entry.endsWith('.') ? k.startsWith(entry) : k === entry)),
          entry,
        ).toBe(true);
      for (const f of fieldsOf(p.id, all)) {
        expect(seen.get(f.key), `${f.key} on ${p.id}`).toBeUndefined();
        seen.set(f.key, p.id);
      }
    }
    expect(seen.get('sip.allowList')).toBe('network');
    expect(seen.get('acd.callbacks.trunk')).toBe('prompts');
    expect(seen.get('acd.serviceLevelS')).toBe('routing');
  });

  it('gives each kind of key its input', () => {
    expect(kindOf(spec('a', 'boolean'))).toBe('toggle');
    expect(kindOf(spec('a', 'enum', { enum: ['x', 'y'] }))).toBe('select');
    expect(kindOf(spec('a', 'integer'))).toBe('number');
    expect(kindOf(spec('a', 'array', { items: { type: 'string' } }))).toBe('lines');
    expect(kindOf(spec('a', 'array', { items: { anyOf: [{ const: 'udp' }, { const: 'tcp' }] } }))).toBe('choices');
    expect(kindOf(spec('a', 'array', { items: { type: 'object', properties: {} } }))).toBe('rows');
    expect(kindOf(spec('a', 'string', { secret: true }))).toBe('secret');
  });

  it('turns input values into saved values and back', () => {
    expect(toInput('lines', ['10.0.0.0/8', '127.0.0.1'])).toBe('10.0.0.0/8\n127.0.0.1');
    expect(fromInput('lines', ' 10.0.0.0/8 \n\n127.0.0.1\n')).toEqual(['10.0.0.0/8', '127.0.0.1']);
    expect(fromInput('number', '5060')).toBe(5060);
    // text that is no number goes to the server as typed, for it to explain
    expect(fromInput('number', '50x')).toBe('50x');
    expect(toInput('number', 0)).toBe('0');
  });

  it('puts each issue at its field, list entries at their list', () => {
    const issues = issuesOf(
      {
        issues: [
          { key: 'sip.allowList.1', code: 'cidr', message: 'bad', params: { value: '10.0.0.0/33' } },
          { key: 'sip.trunks[0].host', code: 'host', message: 'bad host' },
          { key: 'sip.port', code: 'port', message: 'bad port' },
        ],
      },
      'ignored',
    );
    expect(issuesAt(issues, 'sip.allowList').map((i) => i.code)).toEqual(['cidr']);
    expect(issuesAt(issues, 'sip.trunks').map((i) => i.key)).toEqual(['sip.trunks.0.host']);
    expect(issuesAt(issues, 'sip.trunks.0.host')).toHaveLength(1);
    // sip.port is not sip.portX's prefix match and vice versa
    expect(issuesAt(issues, 'sip.portMax')).toEqual([]);
    expect(normalKey('a[2].b')).toBe('a.2.b');
  });

  it('falls back to the one key of an older error, and to nothing', () => {
    expect(issuesOf({ key: 'site.id' }, "key 'site.id' is bad")).toEqual([
      { key: 'site.id', code: 'invalid', message: "key 'site.id' is bad" },
    ]);
    expect(issuesOf({}, 'x')).toEqual([]);
  });
});
