/**
 * Routing configuration (groups, agents with their state, rules, scripts) and routing decisions.
 * An agent's SIP password is kept sealed (privacy/secrets.ts) inside its row and read back only by
 * `sipPasswords()`; `agents()` says whether there is one. Agents' activity is not stored.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { Agent, AgentState, RouteDecision, RoutingRules, SkillGroup } from './types.js';
import type { Script } from './schemas.js';
import { parseJson, type Writer } from '../store/repos/writer.js';

export interface StoredDecision {
  id: number;
  callId: string;
  at: number;
  trigger: 'utterance' | 'dequeue';
  latencyMs: number | null;
  decideMs: number;
  transferState: string | null;
  transferStatus: number | null;
  decision: RouteDecision;
}

interface DecisionRow {
  id: number;
  call_id: string;
  at: number;
  trigger: 'utterance' | 'dequeue';
  latency_ms: number | null;
  decide_ms: number;
  transfer_state: string | null;
  transfer_status: number | null;
  decision_json: string;
}

/** An agent's row: its configuration, with the SIP password sealed. */
type StoredAgentJson = Omit<Agent, 'state' | 'stateSince' | 'sip' | 'activity'> & {
  readonly sip?: { readonly username: string; readonly passwordSealed?: string };
};

/** The associated data an agent's SIP password is sealed under: a sealed value copied to another agent does not open. */
export function sipPasswordSecretName(agentId: string): string {
  return `routing.agent.${agentId}.sip.password`;
}

export class RoutingRepo {
  private readonly insertDecisionStmt: Statement;
  private readonly transferStmt: Statement;
  private readonly agentStateStmt: Statement;

  constructor(
    private readonly db: Database,
    private readonly write: Writer,
  ) {
    this.insertDecisionStmt = db.prepare(
      `INSERT INTO route_decisions (call_id, at, trigger, action, group_id, agent_id, priority, latency_ms, decide_ms, decision_json)
       VALUES (@callId, @at, @trigger, @action, @groupId, @agentId, @priority, @latencyMs, @decideMs, @json)`,
    );
    this.transferStmt = db.prepare(`UPDATE route_decisions SET transfer_state = ?, transfer_status = ? WHERE id = ?`);
    this.agentStateStmt = db.prepare(`UPDATE routing_agents SET state = ?, state_since = ?, updated_at = ? WHERE id = ?`);
  }

  groups(): SkillGroup[] {
    return (this.db.prepare(`SELECT group_json FROM routing_groups ORDER BY position, id`).all() as { group_json: string }[]).map(
      (r) => JSON.parse(r.group_json) as SkillGroup,
    );
  }

  agents(): Agent[] {
    const rows = this.db.prepare(`SELECT agent_json, state, state_since FROM routing_agents ORDER BY id`).all() as {
      agent_json: string;
      state: AgentState;
      state_since: number;
    }[];
    return rows.map((r) => {
      const { sip, ...rest } = JSON.parse(r.agent_json) as StoredAgentJson;
      return {
        ...rest,
        ...(sip === undefined ? {} : { sip: { username: sip.username, hasPassword: sip.passwordSealed !== undefined } }),
        state: r.state,
        stateSince: r.state_since,
      };
    });
  }

  /** Sealed SIP passwords by agent id (open them with the SecretBox, name `sipPasswordSecretName(id)`). */
  sipPasswords(): Map<string, string> {
    const out = new Map<string, string>();
    for (const r of this.db.prepare(`SELECT id, agent_json FROM routing_agents ORDER BY id`).all() as {
      id: string;
      agent_json: string;
    }[]) {
      const sealed = (JSON.parse(r.agent_json) as StoredAgentJson).sip?.passwordSealed;
      if (sealed !== undefined) out.set(r.id, sealed);
    }
    return out;
  }

  /** Agents' own away / logged-out choices, kept across restarts (acd/agentPresence.ts). */
  agentChoices(): Record<string, unknown> {
    const row = this.db.prepare(`SELECT value_json FROM routing_settings WHERE key = 'agentChoices'`).get() as
      { value_json: string } | undefined;
    return parseJson(row?.value_json, {});
  }

  putAgentChoices(choices: Readonly<Record<string, unknown>>, at: number): void {
    this.write('routing.agent.choices', () =>
      this.db
        .prepare(
          `INSERT INTO routing_settings (key, value_json, updated_at) VALUES ('agentChoices', ?, ?) ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json, updated_at = excluded.updated_at`,
        )
        .run(JSON.stringify(choices), at),
    );
  }

  rules(): Partial<RoutingRules> {
    const row = this.db.prepare(`SELECT value_json FROM routing_settings WHERE key = 'rules'`).get() as { value_json: string } | undefined;
    return parseJson(row?.value_json, {});
  }

  scripts(): Script[] {
    return (this.db.prepare(`SELECT script_json FROM routing_scripts ORDER BY id`).all() as { script_json: string }[]).map(
      (r) => JSON.parse(r.script_json) as Script,
    );
  }

  /** Replace groups and agents (and optionally rules and scripts) in one transaction. */
  replaceConfig(
    cfg: {
      groups: readonly SkillGroup[];
      agents: readonly Agent[];
      /** Sealed SIP passwords of the agents that have one. */
      sipPasswords?: ReadonlyMap<string, string>;
      rules?: RoutingRules;
      scripts?: readonly Script[];
    },
    at: number,
  ): void {
    this.write('routing.config', () =>
      this.db.transaction(() => {
        this.db.prepare(`DELETE FROM routing_groups`).run();
        this.db.prepare(`DELETE FROM routing_agents`).run();
        cfg.groups.forEach((g, i) => this.putGroupRow(g, i, at));
        for (const a of cfg.agents) this.putAgentRow(a, at, cfg.sipPasswords?.get(a.id));
        if (cfg.rules !== undefined) this.putRulesRow(cfg.rules, at);
        if (cfg.scripts !== undefined) {
          this.db.prepare(`DELETE FROM routing_scripts`).run();
          for (const s of cfg.scripts) this.putScriptRow(s, at);
        }
      })(),
    );
  }

  putGroup(g: SkillGroup, at: number): void {
    this.write('routing.group', () => {
      const pos = this.db.prepare(`SELECT position FROM routing_groups WHERE id = ?`).get(g.id) as { position: number } | undefined;
      const next = (this.db.prepare(`SELECT COALESCE(MAX(position), -1) + 1 AS p FROM routing_groups`).get() as { p: number }).p;
      this.putGroupRow(g, pos?.position ?? next, at);
    });
  }

  deleteGroup(id: string): boolean {
    return this.write('routing.group.delete', () => this.db.prepare(`DELETE FROM routing_groups WHERE id = ?`).run(id).changes > 0);
  }

  /** Store an agent; `sipPasswordSealed` is its sealed SIP password (absent: none). */
  putAgent(a: Agent, at: number, sipPasswordSealed?: string): void {
    this.write('routing.agent', () => this.putAgentRow(a, at, sipPasswordSealed));
  }

  deleteAgent(id: string): boolean {
    return this.write('routing.agent.delete', () => this.db.prepare(`DELETE FROM routing_agents WHERE id = ?`).run(id).changes > 0);
  }

  setAgentState(id: string, state: AgentState, since: number): void {
    this.write('routing.agent.state', () => this.agentStateStmt.run(state, since, since, id));
  }

  putRules(rules: RoutingRules, at: number): void {
    this.write('routing.rules', () => this.putRulesRow(rules, at));
  }

  putScript(s: Script, at: number): void {
    this.write('routing.script', () => this.putScriptRow(s, at));
  }

  deleteScript(id: string): boolean {
    return this.write('routing.script.delete', () => this.db.prepare(`DELETE FROM routing_scripts WHERE id = ?`).run(id).changes > 0);
  }

  insertDecision(d: {
    callId: string;
    at: number;
    trigger: 'utterance' | 'dequeue';
    latencyMs: number | null;
    decideMs: number;
    decision: RouteDecision;
  }): number {
    return this.write('routing.decision', () =>
      Number(
        this.insertDecisionStmt.run({
          callId: d.callId,
          at: d.at,
          trigger: d.trigger,
          action: d.decision.action,
          groupId: d.decision.groupId,
          agentId: d.decision.agentId,
          priority: d.decision.priority,
          latencyMs: d.latencyMs,
          decideMs: d.decideMs,
          json: JSON.stringify(d.decision),
        }).lastInsertRowid,
      ),
    );
  }

  setTransfer(decisionId: number, state: string, status: number | null): void {
    this.write('routing.transfer', () => this.transferStmt.run(state, status, decisionId));
  }

  decisions(q: { callId?: string | undefined; limit: number; beforeId?: number | undefined }): StoredDecision[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (q.callId !== undefined) {
      where.push('call_id = ?');
      params.push(q.callId);
    }
    if (q.beforeId !== undefined) {
      where.push('id < ?');
      params.push(q.beforeId);
    }
    const sql = `SELECT * FROM route_decisions ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...params, q.limit) as DecisionRow[]).map((r) => ({
      id: r.id,
      callId: r.call_id,
      at: r.at,
      trigger: r.trigger,
      latencyMs: r.latency_ms,
      decideMs: r.decide_ms,
      transferState: r.transfer_state,
      transferStatus: r.transfer_status,
      decision: JSON.parse(r.decision_json) as RouteDecision,
    }));
  }

  private putGroupRow(g: SkillGroup, position: number, at: number): void {
    this.db
      .prepare(
        `INSERT INTO routing_groups (id, position, group_json, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET group_json = excluded.group_json, updated_at = excluded.updated_at`,
      )
      .run(g.id, position, JSON.stringify(g), at);
  }

  private putAgentRow(a: Agent, at: number, sipPasswordSealed: string | undefined): void {
    const { state, stateSince, sip, activity: _activity, ...rest } = a;
    const stored: StoredAgentJson = {
      ...rest,
      ...(sip === undefined
        ? {}
        : { sip: { username: sip.username, ...(sipPasswordSealed === undefined ? {} : { passwordSealed: sipPasswordSealed }) } }),
    };
    this.db
      .prepare(
        `INSERT INTO routing_agents (id, agent_json, state, state_since, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET agent_json = excluded.agent_json, state = excluded.state, state_since = excluded.state_since, updated_at = excluded.updated_at`,
      )
      .run(a.id, JSON.stringify(stored), state, stateSince, at);
  }

  private putRulesRow(rules: RoutingRules, at: number): void {
    this.db
      .prepare(
        `INSERT INTO routing_settings (key, value_json, updated_at) VALUES ('rules', ?, ?) ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json, updated_at = excluded.updated_at`,
      )
      .run(JSON.stringify(rules), at);
  }

  private putScriptRow(s: Script, at: number): void {
    this.db
      .prepare(
        `INSERT INTO routing_scripts (id, script_json, updated_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET script_json = excluded.script_json, updated_at = excluded.updated_at`,
      )
      .run(s.id, JSON.stringify(s), at);
  }
}
