/** ProfileService on a real store and bus: a call's caller intents and emotions become the caller's profile at call end. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { EventBus, type ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { ProfileService } from '../../../appliance/profiles/profileService.js';
import { Store } from '../../../appliance/store/database.js';
import { ProfilesRepo } from '../../../appliance/profiles/repo.js';
import { scratchDir } from '../../helpers/paths.js';

const DAY = 86_400_000;
const HASH = 'a'.repeat(32);

describe('ProfileService', () => {
  let store: Store;
  let bus: EventBus;
  let repo: ProfilesRepo;
  let service: ProfileService;
  let now = 1_700_000_000_000;

  beforeEach(() => {
    store = Store.open(scratchDir('profiles'));
    bus = new EventBus();
    repo = new ProfilesRepo(store.db, store.write.bind(store));
    service = new ProfileService({ repo, calls: store.calls, bus, logger: pino({ level: 'silent' }), now: () => now });
  });
  afterEach(() => {
    service.close();
    store.close();
  });

  const callWith = (id: string, at: number, intents: (string | null)[], angry: number | null, hash: string | null = HASH) => {
    store.calls.create({ id, source: 'sip', callerHash: hash, startedAt: at });
    const base = { at, callId: id, legId: `${id}:l`, utteranceId: null, latencyMs: 1 };
    for (const i of intents)
      bus.publish({ ...base, type: 'intent', speaker: 'caller', intent: i, confidence: 0.8, outOfScope: i === null, top: [] });
    bus.publish({ ...base, type: 'intent', speaker: 'agent', intent: 'terminate_account', confidence: 0.9, outOfScope: false, top: [] });
    if (angry !== null) {
      const e: ApplianceEvent = {
        ...base,
        type: 'emotion',
        speaker: 'caller',
        category: angry > 0.5 ? 'angry' : 'neutral',
        confidence: 0.8,
        arousal: 0.6,
        valence: -0.6,
        scores: { angry },
        agitation: angry,
        trend: 'escalating',
        audioMs: 2000,
      };
      bus.publish(e);
    }
    bus.publish({ type: 'call.ended', at: at + 60_000, callId: id, reason: 'bye', durationMs: 60_000 });
  };

  it('builds the profile from caller intents and emotion at call end (agent intents ignored)', () => {
    callWith('c1', now, ['card_arrival', null], 0.1);
    const p = repo.get(HASH)!;
    expect(p).toMatchObject({ callsTotal: 1, unresolvedRepeats: 0, lastEmotion: { category: 'neutral', trend: 'escalating' } });
    expect(p.lastIntents.map((x) => x.intent)).toEqual(['card_arrival']);
    expect(service.trackedCalls).toBe(0);
  });

  it('counts a repeat and raises churn risk; routing sees a repeat caller', () => {
    callWith('c1', now, ['card_arrival'], 0.1);
    callWith('c2', now + DAY, ['card_arrival'], 0.9);
    callWith('c3', now + 2 * DAY, ['card_arrival'], 0.9);
    const p = repo.get(HASH)!;
    expect(p).toMatchObject({ callsTotal: 3, unresolvedRepeats: 2 });
    expect(p.churnRisk).toBeGreaterThan(0.6);
    store.calls.create({ id: 'c4', source: 'sip', callerHash: HASH, startedAt: now + 3 * DAY });
    now += 3 * DAY;
    expect(service.routeProfileOfCall('c4')).toMatchObject({ repeatCaller: true, unresolvedRepeats: 2, vip: false });
    expect(service.markResolved(HASH)?.unresolvedRepeats).toBe(0);
  });

  it('keeps VIP and manual tags set through the API across calls, and ignores anonymous calls', () => {
    service.setTags(HASH, { vip: true, tags: ['gold', 'gold'] });
    callWith('c1', now, ['card_arrival'], null);
    expect(repo.get(HASH)).toMatchObject({ vip: true, tags: ['gold'], callsTotal: 1 });
    callWith('anon', now, ['card_arrival'], null, null);
    expect(repo.list(10)).toHaveLength(1);
  });
});
