/** Speech languages in the configuration: asr.language (the site default), a trunk's and a dialled number's (sip.dids). */
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../appliance/config/load.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isEdgeVoxError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected an error');
}

describe('speech language settings', () => {
  it('default to English, with no numbers of their own and trunks without a language', () => {
    const c = validateConfig({ sip: { trunks: [{ name: 'a', host: '192.0.2.10' }] } });
    expect(c.asr.language).toBe('en');
    expect(c.sip.dids).toEqual([]);
    expect(c.sip.trunks[0]?.language).toBeUndefined();
  });

  it('take en, zh and auto on the site, a trunk and a number (with its queue)', () => {
    const c = validateConfig({
      asr: { language: 'auto' },
      sip: {
        trunks: [{ name: 'cn', host: '192.0.2.10', language: 'zh' }],
        dids: [{ number: '+862150000001', language: 'zh', queue: 'mandarin' }, { number: '021500' }],
      },
    });
    expect(c.asr.language).toBe('auto');
    expect(c.sip.trunks[0]?.language).toBe('zh');
    expect(c.sip.dids).toEqual([{ number: '+862150000001', language: 'zh', queue: 'mandarin' }, { number: '021500' }]);
  });

  it('refuse a language without a model, a number that is not one, and a number given twice', () => {
    expect(errorOf(() => validateConfig({ asr: { language: 'fr' } }))).toMatchObject({ code: 'EVX_ERR_CONFIG_INVALID' });
    expect(errorOf(() => validateConfig({ asr: { language: 'fr' } })).message).toContain('asr.language');
    expect(errorOf(() => validateConfig({ sip: { trunks: [{ name: 'a', host: '192.0.2.1', language: 'de' }] } })).message).toContain(
      'language',
    );
    expect(errorOf(() => validateConfig({ sip: { dids: [{ number: 'sales' }] } })).message).toContain('sip.dids');
    const twice = errorOf(() =>
      validateConfig({
        sip: {
          dids: [
            { number: '+861', language: 'zh' },
            { number: '+861', language: 'en' },
          ],
        },
      }),
    );
    expect(twice.message).toContain('sip.dids.1.number');
  });
});
