import { describe, expect, it } from 'vitest';
import {
  DEFAULT_THRESHOLDS,
  abandonRate,
  buildCsv,
  channelTiles,
  csvField,
  levelOf,
  reportCsv,
  validThreshold,
} from '../../../web/console/src/wallboardModel.js';

describe('wallboard threshold colouring', () => {
  it('colours lower-is-better metrics at and above the limits', () => {
    const t = DEFAULT_THRESHOLDS.longestWaitingS;
    expect(levelOf(0, t)).toBe('green');
    expect(levelOf(29, t)).toBe('green');
    expect(levelOf(30, t)).toBe('amber');
    expect(levelOf(59, t)).toBe('amber');
    expect(levelOf(60, t)).toBe('red');
  });
  it('colours higher-is-better metrics (service level) at and below the limits', () => {
    const t = DEFAULT_THRESHOLDS.serviceLevel;
    expect(levelOf(1, t)).toBe('green');
    expect(levelOf(0.81, t)).toBe('green');
    expect(levelOf(0.8, t)).toBe('amber');
    expect(levelOf(0.6, t)).toBe('red');
    expect(levelOf(0, t)).toBe('red');
  });
  it('gives no colour without a figure', () => {
    expect(levelOf(null, DEFAULT_THRESHOLDS.serviceLevel)).toBe('none');
    expect(levelOf(undefined, DEFAULT_THRESHOLDS.waiting)).toBe('none');
    expect(levelOf(Number.NaN, DEFAULT_THRESHOLDS.waiting)).toBe('none');
  });
  it('validates limits', () => {
    for (const t of Object.values(DEFAULT_THRESHOLDS)) expect(validThreshold(t)).toBe(true);
    expect(validThreshold({ amber: 60, red: 30, higherIsBetter: false })).toBe(false);
    expect(validThreshold({ amber: 0.6, red: 0.8, higherIsBetter: true })).toBe(false);
    expect(validThreshold({ amber: -1, red: 5, higherIsBetter: false })).toBe(false);
  });
  it('computes the abandon rate of ended queue calls', () => {
    expect(abandonRate(0, 0)).toBeNull();
    expect(abandonRate(1, 1)).toBe(0.5);
    expect(abandonRate(3, 0)).toBe(0);
  });
});

describe('CSV building', () => {
  it('quotes fields with commas, quotes and line breaks and neutralises formulas', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('x\ny')).toBe('"x\ny"');
    expect(csvField('=SUM(A1)')).toBe("'=SUM(A1)");
    expect(csvField(null)).toBe('');
    expect(csvField(0.5)).toBe('0.5');
    expect(csvField(-3)).toBe('-3');
    expect(buildCsv(['a', 'b'], [[1, 'x']])).toBe('a,b\r\n1,x\r\n');
  });
  it('writes one row per interval and group, overall first', () => {
    const f = (offered: number) => ({
      offered,
      answered: 1,
      abandoned: 1,
      serviceLevel: null,
      averageSpeedOfAnswerS: 4,
      averageHandleTimeS: null,
      occupancy: 0.25,
    });
    const csv = reportCsv([{ start: 0, end: 900_000, overall: f(2), groups: { support: f(1), billing: f(1) } }]);
    expect(csv.split('\r\n')).toEqual([
      'start,end,group,offered,answered,abandoned,serviceLevel,averageSpeedOfAnswerS,averageHandleTimeS,occupancy',
      '1970-01-01T00:00:00.000Z,1970-01-01T00:15:00.000Z,overall,2,1,1,,4,,0.25',
      '1970-01-01T00:00:00.000Z,1970-01-01T00:15:00.000Z,billing,1,1,1,,4,,0.25',
      '1970-01-01T00:00:00.000Z,1970-01-01T00:15:00.000Z,support,1,1,1,,4,,0.25',
      '',
    ]);
  });
});

describe('channel section tiles', () => {
  const f = { waiting: 7, longestWaitingS: 45, active: 3, open: 10, firstResponse: { count: 4, p50S: 12, p95S: 50 } };

  it('colours a chat like a call: waiting, longest wait, first response against ASA', () => {
    expect(channelTiles('chat', f, DEFAULT_THRESHOLDS)).toEqual([
      { key: 'waiting', value: 7, level: 'red' },
      { key: 'longestWaitingS', value: 45, level: 'amber' },
      { key: 'active', value: 3, level: 'none' },
      { key: 'firstResponseP95S', value: 50, level: 'red' },
    ]);
  });

  it('shows open e-mail cases and leaves their first response uncoloured; no reply yet is no colour', () => {
    const tiles = channelTiles('email', { ...f, firstResponse: { count: 0, p50S: null, p95S: null } }, DEFAULT_THRESHOLDS);
    expect(tiles.map((x) => x.key)).toEqual(['waiting', 'longestWaitingS', 'open', 'firstResponseP95S']);
    expect(tiles[2]).toEqual({ key: 'open', value: 10, level: 'none' });
    expect(tiles[3]).toEqual({ key: 'firstResponseP95S', value: null, level: 'none' });
  });
});
