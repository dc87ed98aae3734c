/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return -- API JSON is validated and typed by the server; the screens read it loosely. */
// Alerts: the list with filters (state, severity, kind, time), acknowledge / assign / resolve for
// supervisors (each audited by the server), live updates from /api/v1/events, and a tone on a new
// critical alert (mute remembered in this browser; browsers allow sound only after a first click or key).
import { useEffect, useRef, useState } from 'preact/hooks';
import { fmtTime, get, post, type Session } from './api.js';
import { ActionButton, Card, Field, Notice, errorText } from './ui.js';
import { fmtNumber, t } from '../../i18n/i18n.js';
import {
  ALERT_VIEWS,
  DEFAULT_FILTERS,
  KINDS,
  SEVERITIES,
  alertsQuery,
  isMuted,
  setMuted,
  shouldSound,
  type AlertFilters,
} from './alertsModel.js';

const PAGE = 100;

export function kindText(kind: string): string {
  return t(`alerts:kind.${kind}`, { defaultValue: kind });
}

export function AlertsScreen({ session }: { session: Session }) {
  const canWrite = session.role === 'supervisor' || session.role === 'technician';
  const [filters, setFilters] = useState<AlertFilters>(DEFAULT_FILTERS);
  const [list, setList] = useState<any[] | null>(null);
  const [nextBefore, setNextBefore] = useState<number | null>(null);
  const [assignees, setAssignees] = useState<string[]>([]);
  const [error, setError] = useState('');
  const [muted, setMutedState] = useState(isMuted());
  const [soundReady, setSoundReady] = useState(false);
  const [chimes, setChimes] = useState(0);
  const [connected, setConnected] = useState(false);
  const audio = useRef<AudioContext | null>(null);
  const filtersRef = useRef(filters);
  const mutedRef = useRef(muted);
  filtersRef.current = filters;
  mutedRef.current = muted;

  const load = async (f = filtersRef.current) => {
    try {
      const r = await get(`/api/v1/alerts?${alertsQuery(f, PAGE)}`);
      setList(r.alerts);
      setNextBefore(r.nextBefore);
      setError('');
    } catch (err) {
      setError(errorText(err));
    }
  };
  const more = async () => {
    if (nextBefore === null) return;
    try {
      const r = await get(`/api/v1/alerts?${alertsQuery(filters, PAGE, nextBefore)}`);
      setList((l) => [...(l ?? []), ...r.alerts]);
      setNextBefore(r.nextBefore);
    } catch (err) {
      setError(errorText(err));
    }
  };

  // Web Audio may only start after a user gesture on the page: create (or resume) it on the first one.
  useEffect(() => {
    const unlock = () => {
      audio.current ??= new AudioContext();
      void audio.current.resume().then(() => setSoundReady(audio.current?.state === 'running'));
    };
    document.addEventListener('pointerdown', unlock);
    document.addEventListener('keydown', unlock);
    return () => {
      document.removeEventListener('pointerdown', unlock);
      document.removeEventListener('keydown', unlock);
      void audio.current?.close();
    };
  }, []);

  useEffect(() => {
    let ws: WebSocket | null = null;
    let closed = false;
    let retry: number | undefined;
    const connect = () => {
      ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/events?types=alert,alert.updated`);
      ws.onopen = () => {
        setConnected(true);
        void load();
      };
      ws.onclose = () => {
        setConnected(false);
        if (!closed) retry = window.setTimeout(connect, 2000);
      };
      ws.onmessage = (m) => {
        const e = JSON.parse(m.data as string);
        if (e.type !== 'alert' && e.type !== 'alert.updated') return;
        if (shouldSound(e, mutedRef.current) && audio.current !== null && playTone(audio.current)) setChimes((n) => n + 1);
        void load();
      };
    };
    connect();
    if (canWrite)
      void get('/api/v1/alerts/assignees').then(
        (r) => setAssignees(r.assignees.map((a: any) => a.username)),
        () => {},
      );
    return () => {
      closed = true;
      ws?.close();
      window.clearTimeout(retry);
    };
  }, []);

  const change = (patch: Partial<AlertFilters>) => {
    const f = { ...filters, ...patch };
    setFilters(f);
    void load(f);
  };
  const toggleMute = () => {
    setMuted(!muted);
    setMutedState(!muted);
  };
  const act = async (path: string, body: Record<string, unknown>) => {
    try {
      await post(path, body);
      setError('');
    } catch (err) {
      setError(errorText(err));
    }
    await load();
  };

  return (
    <main class="alerts-page" data-testid="alerts-page" data-chimes={chimes}>
      <div class="toolbar">
        <h1>{t('alerts:title')}</h1>
        <span class={`dot ${connected ? 'on' : 'off'}`} data-testid="alerts-connection">
          {connected ? t('alerts:connected') : t('alerts:reconnecting')}
        </span>
        <button type="button" class="btn secondary" aria-pressed={muted} data-testid="alerts-mute" onClick={toggleMute}>
          {muted ? t('alerts:unmute') : t('alerts:mute')}
        </button>
      </div>
      {!muted && !soundReady ? (
        <p class="muted" data-testid="alerts-sound-hint">
          {t('alerts:soundHint')}
        </p>
      ) : null}
      <Card title={t('alerts:filters')} testId="alerts-filters">
        <div class="row alerts-filters">
          <Choice
            field="view"
            value={filters.view}
            options={ALERT_VIEWS.map((v) => [v, t(`alerts:view.${v}`)])}
            onChange={(view) => change({ view: view as AlertFilters['view'] })}
          />
          <Choice
            field="severity"
            value={filters.severity}
            options={[['', t('alerts:any')], ...SEVERITIES.map((v): [string, string] => [v, t(`alerts:severity.${v}`)])]}
            onChange={(severity) => change({ severity: severity as AlertFilters['severity'] })}
          />
          <Choice
            field="kind"
            value={filters.kind}
            options={[['', t('alerts:any')], ...KINDS.map((k): [string, string] => [k, kindText(k)])]}
            onChange={(kind) => change({ kind })}
          />
          {(['since', 'until'] as const).map((bound) => (
            <Field key={bound} label={t(`alerts:filter.${bound}`)}>
              <input
                type="datetime-local"
                data-testid={`alerts-filter-${bound}`}
                value={filters[bound]}
                onChange={(e) => change({ [bound]: e.currentTarget.value })}
              />
            </Field>
          ))}
        </div>
      </Card>
      <Card title={t('alerts:listTitle')} testId="alerts-list">
        {error ? (
          <Notice kind="error" testId="alerts-error">
            {error}
          </Notice>
        ) : null}
        {list === null ? <p>{t('common:loading')}</p> : null}
        {list?.length === 0 ? <p class="empty">{t('alerts:none')}</p> : null}
        {list !== null && list.length > 0 ? (
          <div class="table-scroll">
            <table class="table">
              <thead>
                <tr>
                  <th>{t('alerts:col.at')}</th>
                  <th>{t('alerts:col.severity')}</th>
                  <th>{t('alerts:col.kind')}</th>
                  <th>{t('alerts:col.call')}</th>
                  <th>{t('alerts:col.state')}</th>
                  <th>{t('alerts:col.assignee')}</th>
                  {canWrite ? <th>{t('alerts:col.actions')}</th> : null}
                </tr>
              </thead>
              <tbody>
                {list.map((a) => (
                  <AlertRow key={a.id} alert={a} canWrite={canWrite} assignees={assignees} onAct={act} />
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        {nextBefore !== null ? (
          <ActionButton kind="secondary" onClick={more} testId="alerts-more">
            {t('alerts:more')}
          </ActionButton>
        ) : null}
      </Card>
    </main>
  );
}

/** An alert's audited changes (who, when, what, the note), fetched when opened. */
function History(props: { id: number; updatedAt: number | null }) {
  const [entries, setEntries] = useState<any[] | null>(null);
  const [open, setOpen] = useState(false);
  useEffect(() => {
    if (open)
      void get(`/api/v1/alerts/${props.id}`).then(
        (r) => setEntries(r.history),
        () => setEntries([]),
      );
  }, [open, props.updatedAt]);
  return (
    <details class="alert-history" data-testid="alert-history" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>{t('alerts:history')}</summary>
      {entries === null ? null : (
        <ul>
          {[...entries].reverse().map((h) => (
            <li key={h.id}>
              {t('alerts:historyLine', {
                at: fmtTime(h.at),
                who: h.actor,
                action: t(`alerts:action.${String(h.action).replace('alert.', '')}`, { defaultValue: h.action }),
              })}
              {h.details?.assignee !== undefined ? ` → ${h.details.assignee ?? t('alerts:nobody')}` : ''}
              {h.details?.note ? ` — “${h.details.note}”` : ''}
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}

/** One filter's labelled drop-down: options as [value, label]. */
function Choice(props: { field: string; value: string; options: [string, string][]; onChange: (value: string) => void }) {
  return (
    <Field label={t(`alerts:filter.${props.field}`)}>
      <select data-testid={`alerts-filter-${props.field}`} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        {props.options.map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
    </Field>
  );
}

function AlertRow(props: {
  alert: any;
  canWrite: boolean;
  assignees: string[];
  onAct: (path: string, body: Record<string, unknown>) => Promise<void>;
}) {
  const a = props.alert;
  const [note, setNote] = useState('');
  const [assignee, setAssignee] = useState<string>(a.assignedTo ?? '');
  const withNote = (body: Record<string, unknown> = {}) => (note.trim() ? { ...body, note: note.trim() } : body);
  const base = `/api/v1/alerts/${a.id}`;
  const act = async (path: string, body: Record<string, unknown>) => {
    await props.onAct(path, body);
    setNote('');
  };
  const live = a.state !== 'resolved';
  return (
    <tr class={`alert-row sev-${a.severity}`} data-testid="alert-row" data-alert-id={a.id} data-state={a.state}>
      <td>{fmtTime(a.at)}</td>
      <td>
        <span class={`badge sev-${a.severity}`}>{t(`alerts:severity.${a.severity}`, { defaultValue: a.severity })}</span>
      </td>
      <td>{kindText(a.kind)}</td>
      <td>{a.callId ? <a href={`#/history/${encodeURIComponent(a.callId)}`}>{String(a.callId).slice(0, 8)}</a> : '—'}</td>
      <td data-testid="alert-state">
        {t(`alerts:state.${a.state}`, { defaultValue: a.state })}
        {a.state !== 'open' ? <History id={a.id} updatedAt={a.updatedAt} /> : null}
      </td>
      <td data-testid="alert-assignee">{a.assignedTo ?? '—'}</td>
      {props.canWrite ? (
        <td class="alert-actions">
          {live ? (
            <>
              <input
                type="text"
                maxLength={500}
                value={note}
                aria-label={t('alerts:noteLabel', { id: fmtNumber(a.id) })}
                placeholder={t('alerts:notePlaceholder')}
                data-testid="alert-note"
                onInput={(e) => setNote(e.currentTarget.value)}
              />
              {a.state === 'open' ? (
                <ActionButton testId="alert-ack" onClick={() => act(`${base}/ack`, withNote())}>
                  {t('alerts:acknowledge')}
                </ActionButton>
              ) : null}
              <select
                aria-label={t('alerts:assigneeLabel', { id: fmtNumber(a.id) })}
                data-testid="alert-assignee-select"
                value={assignee}
                onChange={(e) => setAssignee(e.currentTarget.value)}
              >
                <option value="">{t('alerts:nobody')}</option>
                {props.assignees.map((u) => (
                  <option key={u} value={u}>
                    {u}
                  </option>
                ))}
              </select>
              <ActionButton
                kind="secondary"
                testId="alert-assign"
                onClick={() => act(`${base}/assign`, withNote({ assignee: assignee === '' ? null : assignee }))}
              >
                {t('alerts:assign')}
              </ActionButton>
              <ActionButton kind="secondary" testId="alert-resolve" onClick={() => act(`${base}/resolve`, withNote())}>
                {t('alerts:resolve')}
              </ActionButton>
            </>
          ) : (
            <span class="muted">{t('alerts:resolvedBy', { who: a.resolvedBy ?? '—' })}</span>
          )}
        </td>
      ) : null}
    </tr>
  );
}

/** The live page's compact alerts line: open and acknowledged counts, critical first, and a link to the page. */
export function AlertsSummary() {
  const [counts, setCounts] = useState<Record<string, Record<string, number>> | null>(null);
  const load = () =>
    void get('/api/v1/alerts/counts').then(
      (r) => setCounts(r.counts),
      () => setCounts(null),
    );
  useEffect(() => {
    load();
    const onEvent = () => load();
    window.addEventListener('evx-alert-event', onEvent);
    return () => window.removeEventListener('evx-alert-event', onEvent);
  }, []);
  if (counts === null) return <p class="muted">{t('common:loading')}</p>;
  const sum = (state: string) => Object.values(counts[state] ?? {}).reduce((x, y) => x + y, 0);
  const critical = (counts['open']?.['critical'] ?? 0) + (counts['acknowledged']?.['critical'] ?? 0);
  return (
    <p class="alerts-summary" data-testid="alerts-summary">
      <span data-testid="alerts-open-count">{t('alerts:summaryOpen', { count: fmtNumber(sum('open')) })}</span>
      {' · '}
      <span>{t('alerts:summaryAcknowledged', { count: fmtNumber(sum('acknowledged')) })}</span>
      {critical > 0 ? (
        <>
          {' · '}
          <span class="sev-critical">{t('alerts:summaryCritical', { count: fmtNumber(critical) })}</span>
        </>
      ) : null}{' '}
      <a href="#/alerts" data-testid="alerts-link">
        {t('alerts:openPage')}
      </a>
    </p>
  );
}

/** Two short rising beeps; returns false when the context cannot play yet (no user gesture so far). */
export function playTone(ctx: AudioContext): boolean {
  if (ctx.state !== 'running') return false;
  const t0 = ctx.currentTime;
  for (const [i, hz] of [880, 1320].entries()) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = 'sine';
    osc.frequency.value = hz;
    const start = t0 + i * 0.22;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.3, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.18);
    osc.connect(gain).connect(ctx.destination);
    osc.start(start);
    osc.stop(start + 0.2);
  }
  return true;
}
