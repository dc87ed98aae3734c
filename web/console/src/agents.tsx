/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument -- API JSON is validated and typed by the server; the screens read it loosely. */
// Agents: the skill groups, agents and their SIP accounts of the routing configuration (the wizard's
// Agents step and the Agents screen are the same editor, saving through /api/v1/routing), and the
// agents' live states, which supervisors can set.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, fmtTime, get, type Session } from './api.js';
import { emptyRow, fieldOfError, groupsText, routingConfigFrom, rowsOf, type AgentRow, type RoutingConfig } from './agentSetup.js';
import { ActionButton, Card, Field, Notice, errorText } from './ui.js';

const COLUMNS: { key: keyof AgentRow; label: string; placeholder?: string; type?: 'text' | 'password' }[] = [
  { key: 'id', label: 'Id', placeholder: 'a1' },
  { key: 'name', label: 'Name', placeholder: 'Display name' },
  { key: 'skills', label: 'Skill groups', placeholder: 'billing support' },
  { key: 'sipUsername', label: 'SIP username', placeholder: '(no phone account)' },
  { key: 'sipPassword', label: 'SIP password', type: 'password' },
  { key: 'sipUri', label: 'Transfer URI', placeholder: 'sip:<username>@this box' },
];

/** The editor: loads the routing configuration, saves it in one PUT; errors about an agent show in its row. */
export function AgentEditor(props: { sipHost: string; saveLabel: string; saveTestId: string; onSaved?: () => void; readOnly?: boolean }) {
  const [current, setCurrent] = useState<RoutingConfig | null>(null);
  const [groups, setGroups] = useState('');
  const [rows, setRows] = useState<AgentRow[]>([]);
  const [error, setError] = useState<{ text: string; agent: string | null; column: keyof AgentRow | null } | null>(null);
  const [saved, setSaved] = useState(false);

  const load = async () => {
    const cfg = await get<RoutingConfig>('/api/v1/routing/config');
    setCurrent(cfg);
    setGroups(groupsText(cfg.groups));
    setRows(cfg.agents.length ? rowsOf(cfg.agents) : [emptyRow()]);
  };
  useEffect(() => {
    load().catch((e) => setError({ text: errorText(e), agent: null, column: null }));
  }, []);

  if (current === null) return error ? <Notice kind="error">{error.text}</Notice> : <p>Loading agents…</p>;
  const setCell = (i: number, key: keyof AgentRow, value: string) => setRows(rows.map((r, j) => (j === i ? { ...r, [key]: value } : r)));
  const save = async () => {
    setError(null);
    setSaved(false);
    try {
      await api('PUT', '/api/v1/routing/config', routingConfigFrom(current, groups, rows, props.sipHost));
      await load();
      setSaved(true);
      props.onSaved?.();
    } catch (err) {
      const at = err instanceof ApiError ? fieldOfError(err.details) : null;
      setError({ text: errorText(err), agent: at?.agent ?? null, column: at?.column ?? null });
    }
  };
  return (
    <div data-testid="agent-editor">
      <Field label="Skill groups" hint="One per line: id, name (e.g. billing, Billing enquiries)">
        <textarea name="skill-groups" rows={4} value={groups} disabled={props.readOnly} onInput={(e) => setGroups(e.currentTarget.value)} />
      </Field>
      <table class="table agents">
        <thead>
          <tr>
            {COLUMNS.map((c) => (
              <th key={c.key}>{c.label}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => {
            const rowError = error !== null && error.agent !== null && error.agent === r.id.trim();
            return [
              <tr key={`row-${i}`} data-testid={`agent-row-${i}`}>
                {COLUMNS.map((c) => {
                  const invalid = rowError && error?.column === c.key;
                  const common = {
                    name: `agent-${c.key}-${i}`,
                    value: r[c.key] as string,
                    'aria-invalid': invalid ? ('true' as const) : undefined,
                    class: invalid ? 'invalid' : undefined,
                    disabled: props.readOnly,
                    onInput: (e: { currentTarget: HTMLInputElement }) => setCell(i, c.key, e.currentTarget.value),
                  };
                  return (
                    <td key={c.key}>
                      {c.type === 'password' ? (
                        <input
                          {...common}
                          type="password"
                          autocomplete="new-password"
                          placeholder={r.hasPassword ? '(unchanged)' : '(none)'}
                        />
                      ) : (
                        <input {...common} type="text" autocomplete="off" placeholder={c.placeholder} />
                      )}
                    </td>
                  );
                })}
              </tr>,
              rowError ? (
                <tr key={`error-${i}`}>
                  <td colSpan={COLUMNS.length} class="bad" data-testid={`agent-error-${i}`}>
                    {error.text}
                  </td>
                </tr>
              ) : null,
            ];
          })}
        </tbody>
      </table>
      {props.readOnly ? null : (
        <div class="row">
          <button class="btn secondary" data-testid="agent-add" onClick={() => setRows([...rows, emptyRow()])}>
            Add agent
          </button>
          <ActionButton testId={props.saveTestId} onClick={save}>
            {props.saveLabel}
          </ActionButton>
        </div>
      )}
      {error && error.agent === null ? (
        <Notice kind="error" testId="agent-editor-error">
          {error.text}
        </Notice>
      ) : null}
      {saved && !props.onSaved ? <Notice kind="ok">Saved.</Notice> : null}
    </div>
  );
}

const AWAY_REASONS = ['break', 'lunch', 'meeting', 'training', 'other'];

/** The Agents screen: live states (supervisors set them) and the editor (technicians). */
export function AgentsScreen({ session }: { session: Session }) {
  const [states, setStates] = useState<any[] | null>(null);
  const [sipHost, setSipHost] = useState('127.0.0.1');
  const [error, setError] = useState('');
  const canSet = session.role === 'technician' || session.role === 'supervisor';
  const refresh = () =>
    get('/api/v1/agents').then(
      (r) => setStates(r.agents),
      (e) => setError(errorText(e)),
    );
  useEffect(() => {
    void refresh();
    void get('/api/v1/config').then(
      (r) => setSipHost(r.config.sip.rtpHost || r.config.sip.host),
      () => {},
    );
    const timer = setInterval(() => void refresh(), 5000);
    return () => clearInterval(timer);
  }, []);
  const setState = async (id: string, state: string, reason?: string) => {
    setError('');
    try {
      await api('PUT', `/api/v1/agents/${encodeURIComponent(id)}/state`, reason ? { state, reason } : { state });
      await refresh();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <main data-testid="agents">
      <Card title="Agent states" testId="agent-states">
        {error ? <Notice kind="error">{error}</Notice> : null}
        {states === null ? <p>Loading…</p> : null}
        {states?.length === 0 ? <p class="empty">No agents yet.</p> : null}
        <table class="table">
          <tbody>
            {(states ?? []).map((a) => (
              <tr key={a.agentId}>
                <td>{a.agentId}</td>
                <td data-testid={`agent-state-${a.agentId}`}>
                  {a.state}
                  {a.awayReason ? ` (${a.awayReason})` : ''}
                </td>
                <td class="muted">since {fmtTime(a.since)}</td>
                <td class="muted">
                  {a.registeredContacts} phone(s), {a.softphones} softphone(s)
                </td>
                <td>
                  {canSet ? (
                    <span class="row">
                      <button class="btn secondary" onClick={() => void setState(a.agentId, 'available')}>
                        Available
                      </button>
                      <select onChange={(e) => e.currentTarget.value && void setState(a.agentId, 'away', e.currentTarget.value)}>
                        <option value="">Away…</option>
                        {AWAY_REASONS.map((r) => (
                          <option key={r} value={r}>
                            {r}
                          </option>
                        ))}
                      </select>
                      <button class="btn secondary" onClick={() => void setState(a.agentId, 'logged-out')}>
                        Log out
                      </button>
                    </span>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
      <Card title="Agents, skill groups and phone accounts" testId="agent-config">
        <p class="muted">
          Agents register their phones with this box using their SIP username and password. Passwords are stored encrypted and never shown
          again: leave the field empty to keep the one stored.
        </p>
        <AgentEditor sipHost={sipHost} saveLabel="Save agents" saveTestId="agents-save" readOnly={session.role !== 'technician'} />
      </Card>
    </main>
  );
}
