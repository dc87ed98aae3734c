/** The acd.* keys: defaults, and the checks the schema cannot make (interval length, time zone). */
import { describe, expect, it } from 'vitest';
import { loadConfig, validateConfig } from '../../../appliance/config/load.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';

function errorOf(fn: () => unknown): { code: string; message: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (err) {
    if (isEdgeVoxError(err)) return { code: err.code, message: err.message, details: err.details };
    throw err;
  }
  throw new Error('expected an error');
}

describe('acd configuration', () => {
  it('defaults: T 20 s, short abandon 5 s, 15-minute intervals, the system zone, a wallboard event every 5 s', () => {
    expect(validateConfig({}).acd).toMatchObject({
      mode: 'pbx',
      serviceLevelS: 20,
      shortAbandonS: 5,
      intervalMinutes: 15,
      timeZone: '',
      publishS: 5,
    });
    expect(validateConfig({ acd: { timeZone: 'Europe/Berlin', intervalMinutes: 30 } }).acd).toMatchObject({
      timeZone: 'Europe/Berlin',
      intervalMinutes: 30,
    });
  });

  it('refuses an interval that does not divide the hour and a zone Intl does not know, naming the key', () => {
    const interval = errorOf(() => validateConfig({ acd: { intervalMinutes: 7 } }));
    expect(interval).toMatchObject({ code: 'EVX_ERR_CONFIG_INVALID', details: { key: 'acd.intervalMinutes' } });
    const zone = errorOf(() => validateConfig({ acd: { timeZone: 'Europe/Atlantis' } }));
    expect(zone).toMatchObject({ code: 'EVX_ERR_CONFIG_INVALID', details: { key: 'acd.timeZone' } });
    expect(errorOf(() => validateConfig({ acd: { serviceLevelS: 0 } })).details['key']).toBe('acd.serviceLevelS');
  });

  it('acd.callbackOfferS: 10 s to press 1 after a callback offer by default, 3 to 60 s', () => {
    expect(validateConfig({}).acd.callbackOfferS).toBe(10);
    expect(validateConfig({ acd: { callbackOfferS: 3 } }).acd.callbackOfferS).toBe(3);
    expect(validateConfig({ acd: { callbackOfferS: 60 } }).acd.callbackOfferS).toBe(60);
    for (const bad of [2, 61, 5.5])
      expect(errorOf(() => validateConfig({ acd: { callbackOfferS: bad } })).details['key']).toBe('acd.callbackOfferS');
  });

  it('acd.mode: pbx by default, acd when asked for (file or EDGEVOX_ACD_MODE); any other value is refused, naming the key and the allowed values', () => {
    expect(validateConfig({}).acd.mode).toBe('pbx');
    expect(validateConfig({ acd: { mode: 'acd' } }).acd.mode).toBe('acd');
    expect(loadConfig({ env: { EDGEVOX_ACD_MODE: 'acd' } }).acd.mode).toBe('acd');
    for (const bad of ['ivr', 'ACD', '', 1]) {
      const err = errorOf(() => validateConfig({ acd: { mode: bad } }));
      expect(err).toMatchObject({ code: 'EVX_ERR_CONFIG_INVALID', details: { key: 'acd.mode' } });
      expect(err.message).toContain('acd.mode');
    }
    const fromEnv = errorOf(() => loadConfig({ env: { EDGEVOX_ACD_MODE: 'ivr' } }));
    expect(fromEnv).toMatchObject({ code: 'EVX_ERR_CONFIG_INVALID', details: { key: 'acd.mode' } });
    expect(fromEnv.message).toContain('EDGEVOX_ACD_MODE');
  });
});
