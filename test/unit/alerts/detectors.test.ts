import { describe, expect, it } from 'vitest';
import { emotionAlert, IntentSpikeDetector, QueueWaitWatch } from '../../../appliance/alerts/detectors.js';
import { BUILTIN_SCRIPTS, selectScript } from '../../../appliance/alerts/scripts.js';
import type { Script } from '../../../appliance/routing/schemas.js';

describe('emotionAlert', () => {
  const e = (category: string, angryScore: number, trend: string) => ({ category, angryScore, trend, agitation: 0.5 });
  it('raises angry, escalating, or critical when both', () => {
    expect(emotionAlert(e('angry', 0.2, 'steady'), 0.5)).toEqual({ kind: 'caller_angry', severity: 'warning' });
    expect(emotionAlert(e('neutral', 0.7, 'steady'), 0.5)).toEqual({ kind: 'caller_angry', severity: 'warning' });
    expect(emotionAlert(e('neutral', 0.1, 'escalating'), 0.5)).toEqual({ kind: 'caller_escalating', severity: 'warning' });
    expect(emotionAlert(e('angry', 0.9, 'escalating'), 0.5)).toEqual({ kind: 'caller_angry', severity: 'critical' });
    expect(emotionAlert(e('sad', 0.1, 'calming'), 0.5)).toBeNull();
  });
});

describe('QueueWaitWatch', () => {
  it('fires once per group while the wait stays long and re-arms when it drops', () => {
    const w = new QueueWaitWatch();
    expect(w.check(new Map([['cards', 90_000]]), 60_000)).toEqual([{ groupId: 'cards', waitMs: 90_000 }]);
    expect(
      w.check(
        new Map([
          ['cards', 95_000],
          ['topup', 10_000],
        ]),
        60_000,
      ),
    ).toEqual([]);
    expect(w.check(new Map([['cards', 5_000]]), 60_000)).toEqual([]);
    expect(w.check(new Map([['cards', 70_000]]), 60_000)).toHaveLength(1);
    expect(w.check(new Map(), 60_000)).toEqual([]);
    expect(w.check(new Map([['cards', 70_000]]), 60_000)).toHaveLength(1);
  });
});

describe('IntentSpikeDetector', () => {
  const opts = { bucketMs: 60_000, baselineBuckets: 6, factor: 3, minCount: 5 };
  /** Feed `perBucket[i]` utterances of `intent` into bucket i; return the spikes. */
  const feed = (d: IntentSpikeDetector, intent: string, perBucket: number[], start = 0) => {
    const spikes = [];
    for (let b = 0; b < perBucket.length; b++) {
      for (let k = 0; k < perBucket[b]!; k++) {
        const s = d.add(intent, start + b * 60_000 + k * 10);
        if (s) spikes.push({ ...s, bucket: b });
      }
    }
    return spikes;
  };
  it('reports "payment failed" tripling over its baseline, once per bucket', () => {
    const d = new IntentSpikeDetector(opts);
    const spikes = feed(d, 'top_up_failed', [4, 4, 4, 4, 4, 4, 12, 5]);
    expect(spikes).toHaveLength(1);
    expect(spikes[0]).toMatchObject({ intent: 'top_up_failed', bucket: 6, count: 12, baseline: 4, ratio: 3 });
  });
  it('ignores steady traffic and small counts, and floors a new intent baseline at one per bucket', () => {
    const d = new IntentSpikeDetector(opts);
    expect(feed(d, 'card_arrival', [10, 11, 9, 12, 10, 11, 13])).toEqual([]);
    const d2 = new IntentSpikeDetector(opts);
    feed(d2, 'other', [1]);
    expect(feed(d2, 'rare', [0, 0, 0, 0, 0, 0, 4])).toEqual([]);
    const d3 = new IntentSpikeDetector(opts);
    feed(d3, 'other', [1]);
    expect(feed(d3, 'new', [0, 0, 0, 0, 0, 0, 5])).toHaveLength(1);
  });
  it('judges nothing before it has watched a whole baseline period', () => {
    const d = new IntentSpikeDetector(opts);
    expect(feed(d, 'x', [20, 0, 0, 0, 0, 0])).toEqual([]);
  });
  it('keeps a bounded history', () => {
    const d = new IntentSpikeDetector(opts);
    feed(d, 'a', [1]);
    feed(d, 'b', [1], 100 * 60_000);
    expect(d.trackedIntents).toBe(1);
  });
});

describe('selectScript', () => {
  const site: Script[] = [
    { id: 'general', title: 'g', when: { alertKinds: ['caller_angry'] }, steps: ['x'] },
    { id: 'group', title: 'g', when: { alertKinds: ['caller_angry'], groups: ['payments'] }, steps: ['x'] },
    { id: 'intent', title: 'i', when: { alertKinds: ['caller_angry'], intents: ['request_refund'] }, steps: ['x'] },
  ];
  it('prefers the most specific site script, else the built-in one', () => {
    expect(selectScript(site, { kind: 'caller_angry', groupId: 'payments', intent: 'request_refund' })?.id).toBe('intent');
    expect(selectScript(site, { kind: 'caller_angry', groupId: 'payments', intent: 'x' })?.id).toBe('group');
    expect(selectScript(site, { kind: 'caller_angry', groupId: null, intent: null })?.id).toBe('general');
    expect(selectScript(site, { kind: 'caller_escalating', groupId: null, intent: null })?.id).toBe('builtin-escalating');
    expect(selectScript([], { kind: 'caller_angry', groupId: null, intent: null })).toBe(BUILTIN_SCRIPTS[0]);
    expect(selectScript([], { kind: 'queue_wait', groupId: null, intent: null })).toBeNull();
  });
});
