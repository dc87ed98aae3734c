/**
 * Wrap-up disposition codes: after a call the agent (or a supervisor for them) records what came of
 * it, one code per call from the site's list (`agents.dispositionCodes`), changeable afterwards
 * (the last one counts). Stored with the call and deleted with it by retention; published as
 * `agent.disposition`. Setting one may also end the agent's wrap-up early.
 */
import type { Database } from 'better-sqlite3';
import { evxError } from '../errors.js';
import type { EventBus } from '../events/appEvents.js';
import type { Writer } from '../store/repos/writer.js';

export interface Disposition {
  readonly callId: string;
  readonly agentId: string;
  readonly code: string;
  readonly at: number;
}

export class DispositionRepo {
  constructor(
    private readonly db: Database,
    private readonly write: Writer,
  ) {}

  put(d: Disposition): void {
    this.write('acd.disposition', () =>
      this.db
        .prepare(
          `INSERT INTO call_dispositions (call_id, agent_id, code, at) VALUES (?, ?, ?, ?)
           ON CONFLICT (call_id) DO UPDATE SET agent_id = excluded.agent_id, code = excluded.code, at = excluded.at`,
        )
        .run(d.callId, d.agentId, d.code, d.at),
    );
  }

  get(callId: string): Disposition | undefined {
    const row = this.db.prepare(`SELECT call_id, agent_id, code, at FROM call_dispositions WHERE call_id = ?`).get(callId) as
      { call_id: string; agent_id: string; code: string; at: number } | undefined;
    return row === undefined ? undefined : { callId: row.call_id, agentId: row.agent_id, code: row.code, at: row.at };
  }
}

export interface DispositionsDeps {
  readonly repo: DispositionRepo;
  readonly bus: Pick<EventBus, 'publish'>;
  /** The codes in effect now (read at each call: console changes apply at once). */
  readonly codes: () => readonly string[];
  readonly hasAgent: (agentId: string) => boolean;
  /** The call's stored record has a leg labelled agent (the agent was on it). */
  readonly agentWasOn: (callId: string) => boolean | undefined;
  readonly now: () => number;
}

export class Dispositions {
  constructor(private readonly deps: DispositionsDeps) {}

  /** Record `code` for `callId` by `agentId`. Throws EVX_ERR_NOT_FOUND (agent, call) or EVX_ERR_BAD_REQUEST (code, a call nobody answered). */
  set(agentId: string, callId: string, code: string): Disposition {
    const { deps } = this;
    if (!deps.hasAgent(agentId)) throw evxError('EVX_ERR_NOT_FOUND', 'no such agent', { details: { resource: 'agent' } });
    if (!deps.codes().includes(code))
      throw evxError('EVX_ERR_BAD_REQUEST', `unknown disposition code; the codes are agents.dispositionCodes`, {
        details: { field: 'code', codes: [...deps.codes()] },
      });
    const wasOn = deps.agentWasOn(callId);
    if (wasOn === undefined) throw evxError('EVX_ERR_NOT_FOUND', 'no such call', { details: { resource: 'call' } });
    if (!wasOn) throw evxError('EVX_ERR_BAD_REQUEST', 'no agent was on this call', { details: { field: 'callId' } });
    const d: Disposition = { callId, agentId, code, at: deps.now() };
    deps.repo.put(d);
    deps.bus.publish({ type: 'agent.disposition', at: d.at, agentId, callId, code });
    return d;
  }

  get(callId: string): Disposition | undefined {
    return this.deps.repo.get(callId);
  }
}
