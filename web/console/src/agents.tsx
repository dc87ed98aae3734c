/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument -- API JSON is validated and typed by the server; the screens read it loosely. */
// Agents: the skill groups, agents and their SIP accounts of the routing configuration (the wizard's
// Agents step and the Agents screen are the same editor, saving through /api/v1/routing), and the
// agents' live states, which supervisors can set.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, fmtTime, get, type Session } from './api.js';
import {
  GROUP_LANGUAGES,
  emptyRow,
  fieldOfError,
  groupLanguages,
  groupsText,
  parseGroups,
  routingConfigFrom,
  rowsOf,
  type AgentRow,
  type RoutingConfig,
} from './agentSetup.js';
import { ActionButton, Card, Field, Notice, errorText } from './ui.js';
import { fmtNumber, t } from '../../i18n/i18n.js';
import { agentStateText, awayReasonText, languageText } from './labels.js';

/** The editor's columns: label and placeholder are keys of the agents catalogue. */
const COLUMNS: { key: keyof AgentRow; label: string; placeholder?: string; type?: 'text' | 'password' }[] = [
  { key: 'id', label: 'agents:col.id', placeholder: 'agents:placeholder.id' },
  { key: 'name', label: 'agents:col.name', placeholder: 'agents:placeholder.name' },
  { key: 'skills', label: 'agents:col.skills', placeholder: 'agents:placeholder.skills' },
  { key: 'sipUsername', label: 'agents:col.sipUsername', placeholder: 'agents:placeholder.sipUsername' },
  { key: 'sipPassword', label: 'agents:col.sipPassword', type: 'password' },
  { key: 'sipUri', label: 'agents:col.sipUri', placeholder: 'agents:placeholder.sipUri' },
];

/** The editor: loads the routing configuration, saves it in one PUT; errors about an agent show in its row. */
export function AgentEditor(props: { sipHost: string; saveLabel: string; saveTestId: string; onSaved?: () => void; readOnly?: boolean }) {
  const [current, setCurrent] = useState<RoutingConfig | null>(null);
  const [groups, setGroups] = useState('');
  /** Each group's own speech language ('' = none), by group id. */
  const [languages, setLanguages] = useState<Record<string, string>>({});
  const [rows, setRows] = useState<AgentRow[]>([]);
  const [error, setError] = useState<{ text: string; agent: string | null; column: keyof AgentRow | null } | null>(null);
  const [saved, setSaved] = useState(false);

  const load = async () => {
    const cfg = await get<RoutingConfig>('/api/v1/routing/config');
    setCurrent(cfg);
    setGroups(groupsText(cfg.groups));
    setLanguages(groupLanguages(cfg.groups));
    setRows(cfg.agents.length ? rowsOf(cfg.agents) : [emptyRow()]);
  };
  useEffect(() => {
    load().catch((e) => setError({ text: errorText(e), agent: null, column: null }));
  }, []);

  if (current === null) return error ? <Notice kind="error">{error.text}</Notice> : <p>{t('agents:loading')}</p>;
  const setCell = (i: number, key: keyof AgentRow, value: string) => setRows(rows.map((r, j) => (j === i ? { ...r, [key]: value } : r)));
  const save = async () => {
    setError(null);
    setSaved(false);
    try {
      await api('PUT', '/api/v1/routing/config', routingConfigFrom(current, groups, rows, props.sipHost, languages));
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
      <Field label={t('agents:skillGroups')} hint={t('agents:skillGroupsHint')}>
        <textarea name="skill-groups" rows={4} value={groups} disabled={props.readOnly} onInput={(e) => setGroups(e.currentTarget.value)} />
      </Field>
      <Field label={t('agents:groupLanguages')} hint={t('agents:groupLanguagesHint')}>
        <div class="kv" data-testid="group-languages">
          {parseGroups(groups).map((g) => (
            <label key={g.id} class="choice">
              {/* a name the site typed: data, not a message (translate="no"; a property in Preact, so false) */}
              <span translate={false}>{g.name}</span>
              <select
                name={`group-language-${g.id}`}
                value={languages[g.id] ?? ''}
                disabled={props.readOnly}
                onChange={(e) => setLanguages({ ...languages, [g.id]: e.currentTarget.value })}
              >
                {GROUP_LANGUAGES.map((l) => (
                  <option key={l} value={l}>
                    {l === '' ? t('common:speechLanguage.siteDefault') : l === 'auto' ? t('common:speechLanguage.auto') : languageText(l)}
                  </option>
                ))}
              </select>
            </label>
          ))}
        </div>
      </Field>
      <table class="table agents">
        <thead>
          <tr>
            {COLUMNS.map((c) => (
              <th key={c.key} id={`agent-col-${c.key}`}>
                {t(c.label)}
              </th>
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
                    // each cell's name: its column and its row (a screen reader hears "SIP username, agent 2")
                    'aria-label': t('agents:cellLabel', { column: t(c.label), row: fmtNumber(i + 1) }),
                    value: r[c.key] as string,
                    'aria-invalid': invalid ? ('true' as const) : undefined,
                    // the refusal, in the row below, describes the cell it is about
                    'aria-describedby': invalid ? `agent-error-${i}` : undefined,
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
                          placeholder={r.hasPassword ? t('agents:placeholder.unchanged') : t('agents:placeholder.none')}
                        />
                      ) : (
                        <input {...common} type="text" autocomplete="off" placeholder={c.placeholder ? t(c.placeholder) : undefined} />
                      )}
                    </td>
                  );
                })}
              </tr>,
              rowError ? (
                <tr key={`error-${i}`}>
                  <td colSpan={COLUMNS.length} class="bad" id={`agent-error-${i}`} data-testid={`agent-error-${i}`}>
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
          <button class="btn secondary" type="button" data-testid="agent-add" onClick={() => setRows([...rows, emptyRow()])}>
            {t('agents:add')}
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
      {saved && !props.onSaved ? <Notice kind="ok">{t('agents:saved')}</Notice> : null}
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
      <Card title={t('agents:statesTitle')} testId="agent-states">
        {error ? <Notice kind="error">{error}</Notice> : null}
        {states === null ? <p>{t('common:loading')}</p> : null}
        {states?.length === 0 ? <p class="empty">{t('agents:none')}</p> : null}
        <table class="table">
          <tbody>
            {(states ?? []).map((a) => (
              <tr key={a.agentId}>
                <td>{a.agentId}</td>
                <td data-testid={`agent-state-${a.agentId}`}>{agentStateText(a.state, a.awayReason)}</td>
                <td class="muted">{t('agents:since', { time: fmtTime(a.since) })}</td>
                <td class="muted">
                  {t('agents:devices', { phones: fmtNumber(a.registeredContacts), softphones: fmtNumber(a.softphones) })}
                </td>
                <td>
                  {canSet ? (
                    <span class="row">
                      <button class="btn secondary" type="button" onClick={() => void setState(a.agentId, 'available')}>
                        {t('agents:makeAvailable')}
                      </button>
                      <select
                        aria-label={t('agents:setAwayFor', { agent: a.agentId })}
                        onChange={(e) => e.currentTarget.value && void setState(a.agentId, 'away', e.currentTarget.value)}
                      >
                        <option value="">{t('agents:awayChoose')}</option>
                        {AWAY_REASONS.map((r) => (
                          <option key={r} value={r}>
                            {awayReasonText(r)}
                          </option>
                        ))}
                      </select>
                      <button class="btn secondary" type="button" onClick={() => void setState(a.agentId, 'logged-out')}>
                        {t('agents:logOut')}
                      </button>
                    </span>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
      <Card title={t('agents:configTitle')} testId="agent-config">
        <p class="muted">{t('agents:configHelp')}</p>
        <AgentEditor sipHost={sipHost} saveLabel={t('agents:save')} saveTestId="agents-save" readOnly={session.role !== 'technician'} />
      </Card>
    </main>
  );
}
