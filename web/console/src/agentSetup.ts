// The agents form of the wizard and the Agents screen, as pure functions: the rows the form edits,
// read from the routing configuration, and the one PUT /api/v1/routing/config body they become.
// The routing configuration is the only place agents, skill groups and SIP accounts live; no DOM
// here, so tests run the same code the browser does.

/** A skill group as the routing API returns it (more fields pass through untouched). */
export interface RoutingGroup {
  id: string;
  name: string;
  intents: string[];
  adjacent: string[];
  overflow: { maxWaitMs: number; action: string; selfServiceUri?: string };
  [more: string]: unknown;
}

/** An agent as the routing API returns it. */
export interface RoutingAgent {
  id: string;
  name: string;
  sipUri: string;
  senior: boolean;
  skills: { group: string; level: number }[];
  sip?: { username: string; hasPassword: boolean };
  [more: string]: unknown;
}

export interface RoutingConfig {
  groups: RoutingGroup[];
  agents: RoutingAgent[];
  rules: { defaultGroup: string; [more: string]: unknown };
}

/** One agent line of the form. Empty password: keep the stored one. */
export interface AgentRow {
  id: string;
  name: string;
  /** Skill group ids separated by spaces or commas. */
  skills: string;
  sipUsername: string;
  sipPassword: string;
  /** Where routed calls are transferred; empty: the agent's registered phone on this box. */
  sipUri: string;
  hasPassword: boolean;
}

export const NEW_GROUP_OVERFLOW = { maxWaitMs: 120_000, action: 'none' } as const;
/** The level a skill gets when the form adds it (1 junior .. 5 expert). */
export const DEFAULT_SKILL_LEVEL = 3;

/** The speech languages a skill group (queue) may ask for; '' = none of its own. */
export const GROUP_LANGUAGES = ['', 'en', 'zh', 'auto'] as const;

/** Each group's own speech language ('' = none), by group id. */
export function groupLanguages(groups: readonly RoutingGroup[]): Record<string, string> {
  return Object.fromEntries(groups.map((g) => [g.id, typeof g['language'] === 'string' ? g['language'] : '']));
}

/** "id, name" per line. */
export function groupsText(groups: readonly RoutingGroup[]): string {
  return groups.map((g) => `${g.id}, ${g.name}`).join('\n');
}

export function parseGroups(text: string): { id: string; name: string }[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [id = '', ...rest] = l.split(',').map((s) => s.trim());
      return { id, name: rest.join(', ') || id };
    });
}

export function rowsOf(agents: readonly RoutingAgent[]): AgentRow[] {
  return agents.map((a) => ({
    id: a.id,
    name: a.name,
    skills: a.skills.map((s) => s.group).join(' '),
    sipUsername: a.sip?.username ?? '',
    sipPassword: '',
    sipUri: a.sipUri,
    hasPassword: a.sip?.hasPassword ?? false,
  }));
}

export function emptyRow(): AgentRow {
  return { id: '', name: '', skills: '', sipUsername: '', sipPassword: '', sipUri: '', hasPassword: false };
}

/**
 * The routing configuration the form describes: groups and agents as listed (what the form does
 * not show — intents, overflow, queue policy, skill levels, seniority — kept from `current`), the
 * default group kept when it is still listed, else the first group. Rules otherwise and scripts
 * are left as they are. `sipHost`: the box's SIP address, for agents' default transfer URI.
 */
export function routingConfigFrom(
  current: RoutingConfig,
  groupLines: string,
  rows: readonly AgentRow[],
  sipHost: string,
  /** Speech language per group id as the form shows it ('' = none of its own); groups not named keep theirs. */
  languages?: Readonly<Record<string, string>>,
): { groups: RoutingGroup[]; agents: Record<string, unknown>[]; rules: { defaultGroup: string } } {
  const oldGroups = new Map(current.groups.map((g) => [g.id, g]));
  const groups = parseGroups(groupLines).map((g) => {
    const old = oldGroups.get(g.id);
    const group: RoutingGroup = old
      ? { ...old, name: g.name }
      : { id: g.id, name: g.name, intents: [], adjacent: [], overflow: { ...NEW_GROUP_OVERFLOW } };
    const language = languages?.[g.id];
    if (language === undefined) return group;
    const { language: _old, ...rest } = group;
    return language === '' ? rest : { ...rest, language };
  });
  const oldAgents = new Map(current.agents.map((a) => [a.id, a]));
  const agents = rows
    .filter((r) => r.id.trim() !== '' || r.name.trim() !== '')
    .map((r) => {
      const id = r.id.trim();
      const old = oldAgents.get(id);
      const levels = new Map((old?.skills ?? []).map((s) => [s.group, s.level]));
      const username = r.sipUsername.trim();
      const host = sipHost.includes(':') ? `[${sipHost}]` : sipHost;
      return {
        id,
        name: r.name.trim() || id,
        sipUri: r.sipUri.trim() || `sip:${username || id}@${host}`,
        senior: old?.senior ?? false,
        skills: r.skills
          .split(/[\s,]+/)
          .filter(Boolean)
          .map((group) => ({ group, level: levels.get(group) ?? DEFAULT_SKILL_LEVEL })),
        ...(username === '' ? {} : { sip: { username, ...(r.sipPassword === '' ? {} : { password: r.sipPassword }) } }),
      };
    });
  const ids = groups.map((g) => g.id);
  const defaultGroup = ids.includes(current.rules.defaultGroup) || ids.length === 0 ? current.rules.defaultGroup : ids[0]!;
  return { groups, agents, rules: { defaultGroup } };
}

/** Where an API error about an agent belongs in the form: the agent's row and the field's column. */
export function fieldOfError(details: Record<string, unknown> | undefined): { agent: string; column: keyof AgentRow } | null {
  const agent = details?.['agent'];
  const field = details?.['field'];
  if (typeof agent !== 'string' || typeof field !== 'string') return null;
  if (field === 'id') return { agent, column: 'id' };
  if (field.startsWith('skills')) return { agent, column: 'skills' };
  if (field === 'sip.username') return { agent, column: 'sipUsername' };
  if (field === 'sip.password') return { agent, column: 'sipPassword' };
  if (field === 'sipUri') return { agent, column: 'sipUri' };
  return { agent, column: 'id' };
}
