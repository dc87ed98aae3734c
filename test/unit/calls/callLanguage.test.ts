/**
 * A call's speech language: queue > dialled number > trunk > site default, resolved when the call
 * starts; the dialled number is read from the To header whatever its spelling.
 */
import { describe, expect, it } from 'vitest';
import type { LanguageChoice } from '../../../appliance/asr/language.js';
import { dialledNumber, resolveCallLanguage, type LanguageSources } from '../../../appliance/calls/callLanguage.js';

const groups = new Map<string, LanguageChoice | undefined>([
  ['mandarin', 'zh'],
  ['general', undefined],
]);
const sources = (over: Partial<LanguageSources> = {}): LanguageSources => ({
  siteDefault: 'en',
  trunks: [{ host: '192.0.2.10', language: 'auto' }, { host: '192.0.2.11' }],
  dids: [
    { number: '+862150000001', language: 'en', queue: 'mandarin' },
    { number: '+862150000002', language: 'zh' },
    { number: '+862150000003', queue: 'general' },
    { number: '+862150000004', language: 'en', queue: 'no-such-group' },
  ],
  queueLanguage: (id) => groups.get(id),
  ...over,
});

describe('resolveCallLanguage', () => {
  it("takes the queue's language over the number's, the trunk's and the site's", () => {
    expect(resolveCallLanguage(sources(), { remoteAddress: '192.0.2.10', dialled: '+862150000001' })).toEqual({
      choice: 'zh',
      from: 'queue',
    });
  });

  it("takes the number's language over the trunk's when its queue has none (or is unknown)", () => {
    expect(resolveCallLanguage(sources(), { remoteAddress: '192.0.2.10', dialled: '+862150000002' })).toEqual({
      choice: 'zh',
      from: 'did',
    });
    expect(resolveCallLanguage(sources(), { remoteAddress: '192.0.2.10', dialled: '+862150000004' })).toEqual({
      choice: 'en',
      from: 'did',
    });
  });

  it("takes the trunk's language when the number (or its queue) has none", () => {
    expect(resolveCallLanguage(sources(), { remoteAddress: '192.0.2.10', dialled: '+862150000003' })).toEqual({
      choice: 'auto',
      from: 'trunk',
    });
    expect(resolveCallLanguage(sources(), { remoteAddress: '192.0.2.10', dialled: '+4930999000' })).toEqual({
      choice: 'auto',
      from: 'trunk',
    });
    expect(resolveCallLanguage(sources(), { remoteAddress: '192.0.2.10' })).toEqual({ choice: 'auto', from: 'trunk' });
  });

  it('falls back to the site default: unknown peer, a trunk without a language, nothing known', () => {
    const zhSite = sources({ siteDefault: 'zh' });
    expect(resolveCallLanguage(zhSite, { remoteAddress: '198.51.100.7', dialled: '+4930999000' })).toEqual({ choice: 'zh', from: 'site' });
    expect(resolveCallLanguage(zhSite, { remoteAddress: '192.0.2.11' })).toEqual({ choice: 'zh', from: 'site' });
    expect(resolveCallLanguage(zhSite, {})).toEqual({ choice: 'zh', from: 'site' });
  });

  it('reads a queue language changed after start-up (looked up when the call starts)', () => {
    const live = new Map<string, LanguageChoice>();
    const s = sources({ queueLanguage: (id) => live.get(id) });
    expect(resolveCallLanguage(s, { dialled: '+862150000003' }).from).toBe('site');
    live.set('general', 'zh');
    expect(resolveCallLanguage(s, { dialled: '+862150000003' })).toEqual({ choice: 'zh', from: 'queue' });
  });
});

describe('dialledNumber', () => {
  it('reads the user part of a To header, without visual separators', () => {
    expect(dialledNumber('<sip:+862150000002@192.0.2.1;user=phone>;tag=abc')).toBe('+862150000002');
    expect(dialledNumber('"Sales" <sip:+86%2021-5000-0002@box.example>')).toBe('+862150000002');
    expect(dialledNumber('sip:0215000@box.example')).toBe('0215000');
    expect(dialledNumber('<tel:+86-21-5000-0002>')).toBe('+862150000002');
  });

  it('is undefined for a To that is not a number', () => {
    expect(dialledNumber('<sip:support@box.example>')).toBeUndefined();
    expect(dialledNumber('<sip:box.example>')).toBeUndefined();
    expect(dialledNumber('not a header')).toBeUndefined();
  });
});
