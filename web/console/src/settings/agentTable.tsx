// Agents & skills as a table editor: skill groups (id, name) and agents (id, name, skill groups
// chosen from the groups defined above, phone account), saved in one PUT of the routing
// configuration; the server's refusal shows beside the agent's field it is about.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, get } from '../api.js';
import { emptyRow, fieldOfError, routingConfigFrom, rowsOf, type AgentRow, type RoutingConfig } from '../agentSetup.js';
import { ActionButton, Notice, errorText } from '../ui.js';
import { fmtNumber, t } from '../../../i18n/i18n.js';
import { errorId } from './model.js';

interface GroupRow {
  id: string;
  name: string;
}

const skillList = (r: AgentRow) => r.skills.split(/[\s,]+/).filter(Boolean);

export function AgentTable(props: { sipHost: string; canEdit: boolean }) {
  const [current, setCurrent] = useState<RoutingConfig | null>(null);
  const [groups, setGroups] = useState<GroupRow[]>([]);
  const [rows, setRows] = useState<AgentRow[]>([]);
  const [error, setError] = useState<{ text: string; agent: string | null; column: keyof AgentRow | null } | null>(null);
  const [saved, setSaved] = useState(false);

  const load = async () => {
    const cfg = await get<RoutingConfig>('/api/v1/routing/config');
    setCurrent(cfg);
    setGroups(cfg.groups.map((g) => ({ id: g.id, name: g.name })));
    setRows(rowsOf(cfg.agents));
  };
  useEffect(() => {
    load().catch((e) => setError({ text: errorText(e), agent: null, column: null }));
  }, []);
  if (current === null) return error ? <Notice kind="error">{error.text}</Notice> : <p>{t('common:loading')}</p>;

  const ro = !props.canEdit;
  const setRow = (i: number, patch: Partial<AgentRow>) => setRows(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const setGroup = (i: number, patch: Partial<GroupRow>) => setGroups(groups.map((g, j) => (j === i ? { ...g, ...patch } : g)));
  const defined = groups.map((g) => g.id.trim()).filter(Boolean);
  // the refusal is shown beside a field when its agent and column are on screen
  const shownBeside = error !== null && error.column !== null && rows.some((r) => r.id.trim() === error.agent);
  const save = async () => {
    setError(null);
    setSaved(false);
    try {
      const lines = groups
        .filter((g) => g.id.trim() !== '')
        .map((g) => `${g.id.trim()}, ${g.name.trim() || g.id.trim()}`)
        .join('\n');
      await api('PUT', '/api/v1/routing/config', routingConfigFrom(current, lines, rows, props.sipHost));
      await load();
      setSaved(true);
    } catch (err) {
      const at = err instanceof ApiError ? fieldOfError(err.details) : null;
      setError({ text: errorText(err), agent: at?.agent ?? null, column: at?.column ?? null });
    }
  };
  const cellError = (r: AgentRow, column: keyof AgentRow) =>
    error !== null && error.agent !== null && error.agent === r.id.trim() && error.column === column ? error.text : null;
  const cell = (i: number, r: AgentRow, column: keyof AgentRow, label: string, type: 'text' | 'password' = 'text') => {
    const msg = cellError(r, column);
    const id = errorId(`agent.${i}.${column}`);
    const common = {
      name: `agent-${column}-${i}`,
      'aria-label': t('settings:agents.cell', { column: label, row: fmtNumber(i + 1) }),
      'aria-invalid': msg ? ('true' as const) : undefined,
      'aria-describedby': msg ? id : undefined,
      placeholder: type === 'password' ? (r.hasPassword ? t('agents:placeholder.unchanged') : t('agents:placeholder.none')) : undefined,
      value: r[column] as string,
      disabled: ro,
      onInput: (e: { currentTarget: HTMLInputElement }) => setRow(i, { [column]: e.currentTarget.value }),
    };
    return (
      <td data-label={label}>
        {type === 'password' ? (
          <input type="password" autocomplete="new-password" {...common} />
        ) : (
          <input type="text" autocomplete="off" {...common} />
        )}
        {msg ? (
          <span class="field-error" id={id} data-testid={`agent-issue-${i}-${column}`}>
            {msg}
          </span>
        ) : null}
      </td>
    );
  };

  return (
    <div data-testid="agent-table">
      <h2>{t('settings:agents.groupsTitle')}</h2>
      <table class="table editor">
        <thead>
          <tr>
            <th>{t('settings:agents.groupId')}</th>
            <th>{t('settings:agents.groupName')}</th>
            <th>
              <span class="sr-only">{t('settings:agents.actions')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {groups.map((g, i) => (
            <tr key={i} data-testid={`group-row-${i}`}>
              <td data-label={t('settings:agents.groupId')}>
                <input
                  name={`group-id-${i}`}
                  aria-label={t('settings:agents.cell', { column: t('settings:agents.groupId'), row: fmtNumber(i + 1) })}
                  value={g.id}
                  disabled={ro}
                  onInput={(e) => setGroup(i, { id: e.currentTarget.value })}
                />
              </td>
              <td data-label={t('settings:agents.groupName')}>
                <input
                  name={`group-name-${i}`}
                  aria-label={t('settings:agents.cell', { column: t('settings:agents.groupName'), row: fmtNumber(i + 1) })}
                  value={g.name}
                  disabled={ro}
                  onInput={(e) => setGroup(i, { name: e.currentTarget.value })}
                />
              </td>
              <td>
                {ro ? null : (
                  <button
                    type="button"
                    class="btn secondary small"
                    data-testid={`group-remove-${i}`}
                    onClick={() => setGroups(groups.filter((_, j) => j !== i))}
                  >
                    {t('settings:agents.removeGroup', { id: g.id || fmtNumber(i + 1) })}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {ro ? null : (
        <button type="button" class="btn secondary" data-testid="group-add" onClick={() => setGroups([...groups, { id: '', name: '' }])}>
          {t('settings:agents.addGroup')}
        </button>
      )}

      <h2>{t('settings:agents.agentsTitle')}</h2>
      <p class="muted">{t('agents:configHelp')}</p>
      <table class="table editor agents-editor">
        <thead>
          <tr>
            <th>{t('agents:col.id')}</th>
            <th>{t('agents:col.name')}</th>
            <th>{t('agents:col.skills')}</th>
            <th>{t('agents:col.sipUsername')}</th>
            <th>{t('agents:col.sipPassword')}</th>
            <th>{t('agents:col.sipUri')}</th>
            <th>
              <span class="sr-only">{t('settings:agents.actions')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => {
            const has = skillList(r);
            const unknown = has.filter((s) => !defined.includes(s));
            const msg = cellError(r, 'skills');
            const id = errorId(`agent.${i}.skills`);
            return (
              <tr key={i} data-testid={`agent-row-${i}`}>
                {cell(i, r, 'id', t('agents:col.id'))}
                {cell(i, r, 'name', t('agents:col.name'))}
                <td data-label={t('agents:col.skills')}>
                  <fieldset class="skills" aria-invalid={msg ? 'true' : undefined} aria-describedby={msg ? id : undefined}>
                    <legend class="sr-only">{t('settings:agents.cell', { column: t('agents:col.skills'), row: fmtNumber(i + 1) })}</legend>
                    {[...defined, ...unknown].map((g) => (
                      <label key={g} class={`choice${unknown.includes(g) ? ' unknown' : ''}`}>
                        <input
                          type="checkbox"
                          name={`agent-skill-${i}-${g}`}
                          checked={has.includes(g)}
                          disabled={ro}
                          onChange={(e) =>
                            setRow(i, { skills: (e.currentTarget.checked ? [...has, g] : has.filter((x) => x !== g)).join(' ') })
                          }
                        />
                        <span>{unknown.includes(g) ? t('settings:agents.undefinedGroup', { id: g }) : g}</span>
                      </label>
                    ))}
                    {msg ? (
                      <span class="field-error" id={id} data-testid={`agent-issue-${i}-skills`}>
                        {msg}
                      </span>
                    ) : null}
                  </fieldset>
                </td>
                {cell(i, r, 'sipUsername', t('agents:col.sipUsername'))}
                {cell(i, r, 'sipPassword', t('agents:col.sipPassword'), 'password')}
                {cell(i, r, 'sipUri', t('agents:col.sipUri'))}
                <td>
                  {ro ? null : (
                    <button
                      type="button"
                      class="btn secondary small"
                      data-testid={`agent-remove-${i}`}
                      onClick={() => setRows(rows.filter((_, j) => j !== i))}
                    >
                      {t('settings:agents.removeAgent', { id: r.id || fmtNumber(i + 1) })}
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {ro ? null : (
        <div class="row">
          <button type="button" class="btn secondary" data-testid="agent-add" onClick={() => setRows([...rows, emptyRow()])}>
            {t('agents:add')}
          </button>
          <ActionButton testId="agents-save" onClick={save}>
            {t('agents:save')}
          </ActionButton>
        </div>
      )}
      {error ? (
        <Notice kind="error" testId="agents-error">
          {shownBeside ? t('settings:agents.notSaved') : error.text}
        </Notice>
      ) : null}
      {saved ? (
        <Notice kind="ok" testId="agents-saved">
          {t('agents:saved')}
        </Notice>
      ) : null}
    </div>
  );
}
