/** The alerts page's pure parts: the list query from the filters, the remembered mute, which events sound. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_FILTERS, MUTE_KEY, alertsQuery, isMuted, setMuted, shouldSound } from '../../../web/console/src/alertsModel.js';

describe('alertsQuery', () => {
  it('asks for open and acknowledged alerts by default', () => {
    expect(Object.fromEntries(new URLSearchParams(alertsQuery(DEFAULT_FILTERS, 100)))).toEqual({
      limit: '100',
      state: 'open,acknowledged',
    });
  });
  it('adds state, severity, kind, time bounds and the page cursor; leaves out bad dates', () => {
    const q = new URLSearchParams(
      alertsQuery({ view: 'resolved', severity: 'critical', kind: 'queue_wait', since: '2026-01-02T03:04', until: 'garbage' }, 10, 42),
    );
    expect(q.get('state')).toBe('resolved');
    expect(q.get('severity')).toBe('critical');
    expect(q.get('kind')).toBe('queue_wait');
    expect(q.get('since')).toBe(String(Date.parse('2026-01-02T03:04')));
    expect(q.has('until')).toBe(false);
    expect(q.get('before')).toBe('42');
    expect(new URLSearchParams(alertsQuery({ ...DEFAULT_FILTERS, view: 'all' }, 5)).has('state')).toBe(false);
  });
});

describe('mute and sound', () => {
  it('remembers the mute choice in storage and survives a storage that throws', () => {
    const map = new Map<string, string>();
    const storage = { getItem: (k: string) => map.get(k) ?? null, setItem: (k: string, v: string) => void map.set(k, v) };
    expect(isMuted(storage)).toBe(false);
    setMuted(true, storage);
    expect(map.get(MUTE_KEY)).toBe('1');
    expect(isMuted(storage)).toBe(true);
    setMuted(false, storage);
    expect(isMuted(storage)).toBe(false);
    const broken = {
      getItem: (): string => {
        throw new Error('denied');
      },
      setItem: (): void => {
        throw new Error('denied');
      },
    };
    expect(isMuted(broken)).toBe(false);
    expect(() => setMuted(true, broken)).not.toThrow();
  });
  it('sounds for a new critical alert only, and never when muted', () => {
    expect(shouldSound({ type: 'alert', severity: 'critical' }, false)).toBe(true);
    expect(shouldSound({ type: 'alert', severity: 'critical' }, true)).toBe(false);
    expect(shouldSound({ type: 'alert', severity: 'warning' }, false)).toBe(false);
    expect(shouldSound({ type: 'alert.updated', severity: 'critical' }, false)).toBe(false);
  });
});
