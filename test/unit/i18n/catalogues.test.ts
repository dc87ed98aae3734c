/**
 * The pages' message catalogues (web/i18n/<language>/<namespace>.json): every language holds the
 * same namespaces and keys with non-empty strings and the same {{placeholders}}; every
 * t('namespace:key') the pages use exists; and the Chinese catalogue is Chinese (no value left as
 * the English one, bar product and protocol names).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configLeaves, ConfigSchema } from '../../../appliance/config/schema.js';

const DIR = path.resolve('web/i18n');
const LANGUAGES = readdirSync(DIR).filter((l) => statSync(path.join(DIR, l)).isDirectory());

function flatten(obj: unknown, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (obj && typeof obj === 'object' && !Array.isArray(obj)) {
    for (const [k, v] of Object.entries(obj)) for (const [kk, vv] of flatten(v, prefix ? `${prefix}.${k}` : k)) out.set(kk, vv);
  } else out.set(prefix, obj);
  return out;
}

function catalogue(lang: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const f of readdirSync(path.join(DIR, lang)).filter((f) => f.endsWith('.json'))) {
    const ns = f.slice(0, -5);
    for (const [k, v] of flatten(JSON.parse(readFileSync(path.join(DIR, lang, f), 'utf8')))) out.set(`${ns}:${k}`, v);
  }
  return out;
}

/** Source files of the pages (console, softphone, "call us"). */
function pageSources(dir = path.resolve('web')): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && e.name !== 'i18n') out.push(...pageSources(p));
    else if (/\.(tsx?|html)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const placeholders = (s: string): string[] => [...s.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!).sort();

/** Words that stay the same in Chinese text: names of the product, protocols, codecs and units. */
const SAME_IN_EVERY_LANGUAGE =
  /^(EdgeVox|SIP|RTP|SRTP|TLS|WebRTC|DTMF|CSV|JSON|API|URL|IP|CIDR|VAD|ASR|QA|SMTP|HTTPS?|PBX|ID|G\.711|G\.722|PCMU|PCMA|Opus|[A-Z]{2,6}|[^A-Za-z]*)$/;

describe('message catalogues', () => {
  const en = catalogue('en');

  it('has English and Simplified Chinese', () => {
    expect(LANGUAGES.sort()).toEqual(['en', 'zh-CN']);
    expect(en.size).toBeGreaterThan(0);
  });

  for (const lang of LANGUAGES.filter((l) => l !== 'en')) {
    it(`${lang} holds exactly the English keys, each a non-empty string with the same placeholders`, () => {
      const other = catalogue(lang);
      expect([...other.keys()].sort()).toEqual([...en.keys()].sort());
      for (const [key, value] of other) {
        expect(typeof value, key).toBe('string');
        expect((value as string).trim().length, key).toBeGreaterThan(0);
        expect(placeholders(value as string), key).toEqual(placeholders(en.get(key) as string));
      }
    });

    it(`${lang} leaves no message in English`, () => {
      const other = catalogue(lang);
      const untranslated = [...other].filter(([k, v]) => {
        const text = String(v).replace(/\{\{\s*\w+\s*\}\}/g, '');
        return (
          /[A-Za-z]{2,}/.test(text) &&
          text === String(en.get(k)).replace(/\{\{\s*\w+\s*\}\}/g, '') &&
          !text.split(/[\s/(),:·]+/).every((w) => SAME_IN_EVERY_LANGUAGE.test(w))
        );
      });
      expect(untranslated.map(([k]) => k)).toEqual([]);
    });
  }

  it('every configuration issue code the appliance gives has its text in every language, and the file path reasons theirs', () => {
    // the codes of ConfigIssueCode (appliance/config/validate.ts): settings pages say an issue by its code
    const union = /export type ConfigIssueCode =([^;]+);/.exec(readFileSync('appliance/config/validate.ts', 'utf8'))?.[1] ?? '';
    const codes = [...union.matchAll(/'([\w-]+)'/g)].map((m) => m[1]!);
    expect(codes).toContain('path');
    // the reasons a path issue gives (appliance/config/paths.ts): the setup wizard says those by reason
    const reasons = [...readFileSync('appliance/config/paths.ts', 'utf8').matchAll(/reason: '([\w-]+)'/g)].map((m) => m[1]!);
    expect(reasons.length).toBeGreaterThan(0);
    const missing: string[] = [];
    for (const lang of LANGUAGES) {
      const cat = catalogue(lang);
      for (const code of codes) if (!cat.has(`settings:issue.${code}`)) missing.push(`${lang} settings:issue.${code}`);
      for (const reason of [...reasons, 'any'])
        if (!cat.has(`wizard:issue.path.${reason}`)) missing.push(`${lang} wizard:issue.path.${reason}`);
    }
    expect(missing).toEqual([]);
  });

  it("the retention settings' English help, where there is one, is the schema's description (what the other languages translate)", () => {
    const leaves = configLeaves(ConfigSchema).filter(
      (l) => l.path.join('.').startsWith('privacy.retention.') && en.has(`settings:help.${l.path.join('_')}`),
    );
    expect(leaves.map((l) => l.path.join('.'))).toContain('privacy.retention.profilesHours');
    const stale = leaves.filter((l) => en.get(`settings:help.${l.path.join('_')}`) !== (l.schema as { description?: string }).description);
    expect(stale.map((l) => l.path.join('.'))).toEqual([]);
  });

  it("retention settings, the redaction categories and sync.epsilon have a label and help in every language, the English help being the schema's description", () => {
    const leaves = configLeaves(ConfigSchema).filter(
      (l) =>
        ['privacy.redaction.categories', 'sync.epsilon'].includes(l.path.join('.')) || l.path.join('.').startsWith('privacy.retention.'),
    );
    expect(leaves.map((l) => l.path.join('.'))).toEqual(
      expect.arrayContaining(['privacy.retention.intervalHistoryHours', 'privacy.retention.chatFilesHours', 'sync.epsilon']),
    );
    const missing: string[] = [];
    for (const lang of LANGUAGES) {
      const cat = catalogue(lang);
      for (const l of leaves) {
        for (const kind of ['field', 'help'])
          if (!cat.has(`settings:${kind}.${l.path.join('_')}`)) missing.push(`${lang} ${kind} ${l.path.join('.')}`);
      }
    }
    expect(missing).toEqual([]);
    const stale = leaves.filter((l) => en.get(`settings:help.${l.path.join('_')}`) !== (l.schema as { description?: string }).description);
    expect(stale.map((l) => l.path.join('.'))).toEqual([]);
  });

  it("every t('namespace:key') in the pages exists in the English catalogue", () => {
    const missing: string[] = [];
    for (const file of pageSources()) {
      const src = readFileSync(file, 'utf8');
      for (const m of src.matchAll(/\bt\(\s*'([a-zA-Z]+:[\w.]+)'/g))
        if (!en.has(m[1]!)) missing.push(`${path.relative('.', file)}: ${m[1]}`);
      for (const m of src.matchAll(/data-i18n(?:-[a-z]+)?="([a-zA-Z]+:[\w.]+)"/g))
        if (!en.has(m[1]!)) missing.push(`${path.relative('.', file)}: ${m[1]}`);
    }
    expect(missing).toEqual([]);
  });
});
