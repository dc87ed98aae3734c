/**
 * The customer across channels for the screen-pop and the API: the customer of a call (by its
 * network-verified caller hash), a customer's view (open chats and e-mail cases first, the timeline,
 * churn over all channels), and agents' merges, attaches and unmerges, each in the audit log.
 */
import type { Database } from 'better-sqlite3';
import type { ProfileSettings } from '../profiles/profile.js';
import type { ProfilesRepo } from '../profiles/repo.js';
import type { ScreenPopCustomer } from './screenPop.js';
import type { CallRecord } from '../store/repos/calls.js';
import { evxError } from '../errors.js';
import { customerChurn } from './customerChurn.js';
import type { CustomerRepo, MergeRecord } from './customerRepo.js';
import { customerTimeline, type TimelineEntry } from './timeline.js';

const TIMELINE_LIMIT = 50;

export class CustomerService {
  constructor(
    private readonly deps: {
      repo: CustomerRepo;
      db: Database;
      profiles: Pick<ProfilesRepo, 'get'>;
      audit: { record(actor: string, action: string, target?: string, details?: Record<string, unknown>): number };
      settings: () => ProfileSettings;
      now?: () => number;
    },
  ) {}

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** The customer of a call's caller (created on first sight of the number); null for anonymous calls. */
  ofCall(call: Pick<CallRecord, 'callerHash'>): ScreenPopCustomer | null {
    if (call.callerHash === null) return null;
    return this.view(this.deps.repo.ensureForPhone(call.callerHash, this.now()));
  }

  view(id: string): ScreenPopCustomer {
    if (!this.deps.repo.exists(id)) throw evxError('EVX_ERR_CUSTOMER_NOT_FOUND', 'no such customer', { details: { resource: 'customer' } });
    const all: TimelineEntry[] = customerTimeline(this.deps.db, id, TIMELINE_LIMIT);
    const profiles = this.deps.repo
      .identifiers(id)
      .filter((x) => x.kind === 'phone')
      .flatMap((x) => this.deps.profiles.get(x.hash) ?? []);
    return {
      id,
      openCases: all.filter((e) => e.open),
      timeline: all.filter((e) => !e.open),
      churn: customerChurn(profiles, all, this.now(), this.deps.settings()),
    };
  }

  merge(from: string, into: string, agent: string): MergeRecord {
    const m = this.deps.repo.merge(from, into, agent, this.now());
    this.deps.audit.record(agent, 'customer.merged', `customer:${into}`, { mergeId: m.id, from });
    return m;
  }

  attach(conversationId: string, into: string, agent: string): MergeRecord {
    const m = this.deps.repo.attach(conversationId, into, agent, this.now());
    this.deps.audit.record(agent, 'customer.attached', `customer:${into}`, { mergeId: m.id, conversationId });
    return m;
  }

  unmerge(mergeId: number, agent: string): MergeRecord {
    const m = this.deps.repo.unmerge(mergeId, agent, this.now());
    this.deps.audit.record(agent, 'customer.unmerged', `customer:${m.intoCustomer}`, { mergeId, kind: m.kind });
    return m;
  }
}
