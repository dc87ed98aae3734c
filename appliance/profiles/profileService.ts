/**
 * Keeps caller profiles up to date: collects each call's caller intents and emotions from the event
 * bus and, when the call ends, folds them into the caller's profile (keyed by the call's salted
 * caller hash). Per-call state is bounded and dropped at call end.
 */
import type { EventBus } from '../events/appEvents.js';
import { isEdgeVoxError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { CallsRepo } from '../store/repos/calls.js';
import type { ProfilesRepo } from './repo.js';
import type { RouteProfile } from '../routing/types.js';
import {
  DEFAULT_PROFILE_SETTINGS,
  routeProfile,
  updateProfile,
  type CallerProfile,
  type ProfileEmotion,
  type ProfileSettings,
} from './profile.js';

interface CallNotes {
  intents: string[];
  emotion: ProfileEmotion | null;
  maxAgitation: number;
  wasAngry: boolean;
}

const MAX_TRACKED_CALLS = 10_000;
const MAX_INTENTS_PER_CALL = 20;

export class ProfileService {
  private readonly notes = new Map<string, CallNotes>();
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(
    private readonly deps: {
      repo: ProfilesRepo;
      calls: Pick<CallsRepo, 'get'>;
      bus: EventBus;
      logger: Logger;
      settings?: ProfileSettings;
      /** Anger threshold (routing rules) used to mark a call as angry. */
      angerThreshold?: () => number;
      now?: () => number;
    },
  ) {
    this.unsubscribe = deps.bus.subscribe((e) => {
      switch (e.type) {
        case 'intent':
          if (e.speaker === 'caller' && e.intent !== null && !e.outOfScope) {
            const n = this.notesFor(e.callId);
            if (n.intents.length < MAX_INTENTS_PER_CALL) n.intents.push(e.intent);
          }
          break;
        case 'emotion':
          if (e.speaker === 'caller') {
            const n = this.notesFor(e.callId);
            n.emotion = { category: e.category, agitation: e.agitation, trend: e.trend, at: e.at };
            n.maxAgitation = Math.max(n.maxAgitation, e.agitation);
            if (e.category === 'angry' || (e.scores['angry'] ?? 0) >= (deps.angerThreshold?.() ?? 0.5)) n.wasAngry = true;
          }
          break;
        case 'call.ended':
          this.onCallEnded(e.callId, e.at);
          break;
        default:
          break;
      }
    });
  }

  get settings(): ProfileSettings {
    return this.deps.settings ?? DEFAULT_PROFILE_SETTINGS;
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  private notesFor(callId: string): CallNotes {
    let n = this.notes.get(callId);
    if (n === undefined) {
      if (this.notes.size >= MAX_TRACKED_CALLS) this.notes.delete(this.notes.keys().next().value!);
      n = { intents: [], emotion: null, maxAgitation: 0, wasAngry: false };
      this.notes.set(callId, n);
    }
    return n;
  }

  /** The profile of the caller of `callId` (undefined when the caller is unknown or anonymous). */
  profileOfCall(callId: string): CallerProfile | undefined {
    const hash = this.deps.calls.get(callId)?.callerHash;
    return hash ? this.deps.repo.get(hash) : undefined;
  }

  /** What routing sees about the caller of `callId`. */
  routeProfileOfCall(callId: string): RouteProfile | null {
    return routeProfile(this.profileOfCall(callId) ?? null, this.now(), this.settings);
  }

  private onCallEnded(callId: string, at: number): void {
    const notes = this.notes.get(callId);
    this.notes.delete(callId);
    if (this.closed) return;
    try {
      const call = this.deps.calls.get(callId);
      if (call === undefined || call.callerHash === null) return;
      const prev = this.deps.repo.get(call.callerHash) ?? null;
      const next = updateProfile(
        prev,
        {
          callerHash: call.callerHash,
          startedAt: call.startedAt,
          endedAt: at,
          intents: notes?.intents ?? [],
          emotion: notes?.emotion ? { ...notes.emotion, maxAgitation: notes.maxAgitation, wasAngry: notes.wasAngry } : null,
        },
        this.settings,
      );
      this.deps.repo.put(next);
    } catch (err) {
      if (!isEdgeVoxError(err)) throw err;
      this.deps.logger.warn({ code: err.code }, 'caller profile not updated');
    }
  }

  /** Set or clear the VIP flag and manual tags (e.g. from a CRM sync). Creates the profile if needed. */
  setTags(callerHash: string, patch: { vip?: boolean | undefined; tags?: readonly string[] | undefined }): CallerProfile {
    const now = this.now();
    const prev = this.deps.repo.get(callerHash);
    const base: CallerProfile = prev ?? {
      callerHash,
      firstSeenAt: now,
      lastCallAt: 0,
      callsTotal: 0,
      recentCalls: [],
      lastIntents: [],
      lastEmotion: null,
      unresolvedRepeats: 0,
      churnRisk: 0,
      vip: false,
      tags: [],
      updatedAt: now,
    };
    const next = { ...base, vip: patch.vip ?? base.vip, tags: patch.tags ? [...new Set(patch.tags)] : base.tags, updatedAt: now };
    this.deps.repo.put(next);
    return next;
  }

  /** The caller's issue was resolved: clear the unresolved-repeat count. */
  markResolved(callerHash: string): CallerProfile | undefined {
    const prev = this.deps.repo.get(callerHash);
    if (prev === undefined) return undefined;
    const next = { ...prev, unresolvedRepeats: 0, updatedAt: this.now() };
    this.deps.repo.put(next);
    return next;
  }

  get trackedCalls(): number {
    return this.notes.size;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.notes.clear();
  }
}
