/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return -- API JSON is validated and typed by the server; the screens read it loosely. */
// QA workspace: scored calls and closed conversations (chats, e-mail cases; channel shown) with
// filters; one call's scorecard with its transcript and every rule
// hit marked where it matched, and a supervisor's override with a reason; per-agent and per-rule
// trends; the rule editor with a dry run against stored calls. Reads for everyone, changes for supervisors.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, fmtTime, get, post, type Session } from './api.js';
import { ActionButton, Card, Field, Notice, errorText } from './ui.js';
import { fmtNumber, fmtPercent, t } from '../../i18n/i18n.js';
import {
  KIND_FIELDS,
  NO_FILTERS,
  QA_CHANNELS,
  RULE_KINDS,
  callRow,
  conversationQuery,
  conversationRow,
  mergeQaRows,
  qaCursor,
  formFromRule,
  markSegments,
  marksByUtterance,
  ruleFromForm,
  scorecardQuery,
  type QaCursor,
  type QaFilters,
  type QaListRow,
  type RuleForm,
  failedRuleIds,
} from './qaModel.js';
import { QaConversation } from './qaConversation.js';
import { outcomeText, resultText, scoreText } from './qaText.js';
import { QaResultsTable } from './qaResults.js';
import { QaOverrideForm, QaOverridesCard, QaScoreLine, canChange } from './qaOverride.js';

const PAGE = 50;
type Tab = 'calls' | 'trends' | 'rules';

export function QaScreen({ session, arg, sub }: { session: Session; arg?: string | undefined; sub?: string | undefined }) {
  const [tab, setTab] = useState<Tab>('calls');
  // #/qa/conversations/<id>: a chat's or e-mail case's analysis (call ids never read "conversations").
  if (arg === 'conversations' && sub) return <QaConversation session={session} conversationId={decodeURIComponent(sub)} />;
  if (arg) return <QaCall session={session} callId={decodeURIComponent(arg)} />;
  return (
    <div data-testid="qa">
      <h1>{t('qa:title')}</h1>
      <div class="row" role="tablist" aria-label={t('qa:views')}>
        {(['calls', 'trends', 'rules'] as Tab[]).map((k) => (
          <button
            key={k}
            type="button"
            role="tab"
            aria-selected={tab === k}
            class={`btn ${tab === k ? 'primary' : 'secondary'}`}
            data-testid={`qa-tab-${k}`}
            onClick={() => setTab(k)}
          >
            {t(`qa:tab.${k}`)}
          </button>
        ))}
      </div>
      {tab === 'calls' ? <QaList /> : tab === 'trends' ? <QaTrends /> : <QaRules session={session} />}
    </div>
  );
}

/** A page of closed conversations (chats, e-mail cases) for the filters; none with channel voice or chat off. */
async function conversationPage(f: QaFilters, cursor?: QaCursor | null): Promise<{ rows: QaListRow[]; next: QaCursor | null }> {
  if (f.channel === 'voice') return { rows: [], next: null };
  try {
    const r = await get(`/api/v1/qa/conversations?${conversationQuery(f, PAGE, cursor)}`);
    return { rows: r.conversations.map(conversationRow), next: qaCursor(r) };
  } catch (e) {
    // Chat and e-mail off: the route is not there, and there is nothing to list.
    if (e instanceof ApiError && e.status === 404) return { rows: [], next: null };
    throw e;
  }
}

const rowHref = (r: QaListRow) =>
  r.kind === 'call' ? `#/qa/${encodeURIComponent(r.id)}` : `#/qa/conversations/${encodeURIComponent(r.id)}`;

function QaList() {
  const [filters, setFilters] = useState<QaFilters>(NO_FILTERS);
  const [rules, setRules] = useState<any[]>([]);
  const [calls, setCalls] = useState<QaListRow[] | null>(null);
  const [conversations, setConversations] = useState<QaListRow[]>([]);
  const [next, setNext] = useState<QaCursor | null>(null);
  const [nextConversation, setNextConversation] = useState<QaCursor | null>(null);
  const [error, setError] = useState('');
  /** The first page for `f`, or (`more`) the next page of each side that has one. */
  const load = async (f: QaFilters, more = false) => {
    try {
      const callsOn = f.channel === '' || f.channel === 'voice';
      const [page, convs] = await Promise.all([
        callsOn && (!more || next !== null)
          ? get(`/api/v1/qa/scorecards?${scorecardQuery(f, PAGE, more ? next : null)}`)
          : Promise.resolve({ scorecards: [], nextBefore: null }),
        !more || nextConversation !== null
          ? conversationPage(f, more ? nextConversation : null)
          : Promise.resolve({ rows: [], next: null }),
      ]);
      const rows: QaListRow[] = page.scorecards.map(callRow);
      setCalls((prev) => (more && prev ? [...prev, ...rows] : rows));
      setNext(qaCursor(page));
      setConversations((prev) => (more ? [...prev, ...convs.rows] : convs.rows));
      setNextConversation(convs.next);
      setError('');
    } catch (e) {
      setError(errorText(e));
    }
  };
  useEffect(() => {
    void load(NO_FILTERS);
    void get('/api/v1/qa/rules').then(
      (r) => setRules(r.rules),
      () => {},
    );
  }, []);
  const set = (k: keyof QaFilters) => (e: { currentTarget: { value: string } }) => setFilters({ ...filters, [k]: e.currentTarget.value });
  const rows =
    calls === null ? null : mergeQaRows({ rows: calls, more: next !== null }, { rows: conversations, more: nextConversation !== null });
  return (
    <div data-testid="qa-list">
      <form class="row filters" role="search" aria-label={t('qa:filters')} onSubmit={(e) => (e.preventDefault(), void load(filters))}>
        <Field label={t('qa:channelHead')}>
          <select name="channel" value={filters.channel} onChange={set('channel')} data-testid="qa-filter-channel">
            <option value="">{t('qa:any')}</option>
            {QA_CHANNELS.map((c) => (
              <option key={c} value={c}>
                {t(`qa:channel.${c}`)}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('qa:agent')}>
          <input name="agent" value={filters.agent} onInput={set('agent')} data-testid="qa-filter-agent" />
        </Field>
        <Field label={t('qa:group')}>
          <input name="group" value={filters.group} onInput={set('group')} />
        </Field>
        <Field label={t('qa:result')}>
          <select name="result" value={filters.result} onChange={set('result')} data-testid="qa-filter-result">
            <option value="">{t('qa:any')}</option>
            <option value="pass">{t('qa:pass')}</option>
            <option value="fail">{t('qa:fail')}</option>
          </select>
        </Field>
        <Field label={t('qa:failedRule')}>
          <select name="rule" value={filters.rule} onChange={set('rule')}>
            <option value="">{t('qa:any')}</option>
            {rules.map((r) => (
              <option key={r.id} value={r.id}>
                {r.id}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('qa:from')}>
          <input name="from" type="date" value={filters.from} onInput={set('from')} />
        </Field>
        <Field label={t('qa:to')}>
          <input name="to" type="date" value={filters.to} onInput={set('to')} />
        </Field>
        <button class="btn primary" type="submit" data-testid="qa-filter-apply">
          {t('qa:apply')}
        </button>
      </form>
      {error ? <Notice kind="error">{error}</Notice> : null}
      {rows === null ? <p>{t('common:loading')}</p> : rows.length === 0 ? <p class="empty">{t('qa:noCalls')}</p> : null}
      {rows && rows.length > 0 ? (
        <div class="table-scroll">
          <table class="table" data-testid="qa-table">
            <thead>
              <tr>
                <th>{t('qa:started')}</th>
                <th>{t('qa:channelHead')}</th>
                <th>{t('qa:contact')}</th>
                <th>{t('qa:agent')}</th>
                <th>{t('qa:group')}</th>
                <th>{t('qa:score')}</th>
                <th>{t('qa:result')}</th>
                <th>{t('qa:failedRules')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={`${r.kind}:${r.id}`} data-testid="qa-row" data-channel={r.channel}>
                  <td>{fmtTime(r.startedAt)}</td>
                  <td>
                    <span class="tag">{t(`qa:channel.${r.channel}`, { defaultValue: r.channel })}</span>
                  </td>
                  <td>
                    <a href={rowHref(r)} data-testid="qa-open">
                      <code>{r.id.slice(0, 8)}</code>
                    </a>
                  </td>
                  <td>{r.agent ?? '—'}</td>
                  <td>{r.group ?? '—'}</td>
                  <td>{scoreText(r.score)}</td>
                  <td>
                    <span class={`tag ${r.passed === false ? 'bad' : 'good'}`}>{resultText(r.passed)}</span>
                    {r.overridden ? <span class="tag">{t('qa:overridden')}</span> : null}
                  </td>
                  <td class="muted">{r.failed}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {next !== null || nextConversation !== null ? (
        <ActionButton kind="secondary" onClick={() => load(filters, true)}>
          {t('qa:more')}
        </ActionButton>
      ) : null}
    </div>
  );
}

/** One transcript line with each rule hit inside a <mark> labelled with its rule. */
function MarkedLine({ u, marks, failing }: { u: any; marks: { start: number; end: number; rule: string }[]; failing: Set<string> }) {
  return (
    <p data-testid="qa-utterance">
      <b>{u.speaker}:</b>{' '}
      {markSegments(u.text, marks).map((p, i) =>
        p.rules.length === 0 ? (
          p.text
        ) : (
          <mark
            key={i}
            class={p.rules.some((r) => failing.has(r)) ? 'fail' : undefined}
            data-rules={p.rules.join(' ')}
            aria-label={t('qa:hitLabel', { rules: p.rules.join(', '), text: p.text })}
            title={p.rules.join(', ')}
          >
            {p.text}
          </mark>
        ),
      )}
    </p>
  );
}

export function QaCall({ session, callId }: { session: Session; callId: string }) {
  const [d, setD] = useState<any>(null);
  const [error, setError] = useState('');
  const load = () =>
    void get(`/api/v1/qa/calls/${encodeURIComponent(callId)}`).then(
      (r) => (setD(r), setError('')),
      (e) => setError(errorText(e)),
    );
  useEffect(load, [callId]);
  if (error && !d) return <Notice kind="error">{error}</Notice>;
  if (!d) return <p>{t('common:loading')}</p>;
  const marks = marksByUtterance(d.scorecard.results, d.transcript);
  const eff = d.effective;
  const failing = new Set<string>(eff.results.filter((r: any) => r.outcome === 'fail').map((r: any) => r.ruleId));
  return (
    <div data-testid="qa-call">
      <p>
        <a href="#/qa">{t('qa:back')}</a> · <a href={`#/history/${encodeURIComponent(callId)}`}>{t('qa:callDetail')}</a>
      </p>
      <h1>
        {t('qa:scorecardTitle')} <code>{callId}</code>
      </h1>
      <QaScoreLine effective={eff} original={d.scorecard} overridden={d.overrides.length > 0} />
      <div class="grid2">
        <Card title={t('qa:rules')} testId="qa-results">
          <QaResultsTable results={eff.results} />
        </Card>
        {canChange(session) ? (
          <QaOverrideForm
            path={`/api/v1/qa/calls/${encodeURIComponent(callId)}/overrides`}
            resultLabel={t('qa:callResult')}
            results={eff.results}
            onDone={load}
          />
        ) : null}
      </div>
      <Card title={t('qa:transcript')} testId="qa-transcript">
        {d.transcript.length === 0 ? <p class="empty">{t('qa:noTranscript')}</p> : null}
        {d.transcript.map((u: any) => (
          <MarkedLine key={u.id} u={u} marks={marks.get(u.index) ?? []} failing={failing} />
        ))}
      </Card>
      <QaOverridesCard overrides={d.overrides} resultLabel={t('qa:callResult')} />
    </div>
  );
}

function QaTrends() {
  const [by, setBy] = useState<'agent' | 'rule'>('agent');
  const [days, setDays] = useState(14);
  const [data, setData] = useState<any>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    const to = Date.now();
    void get(`/api/v1/qa/trends?by=${by}&from=${to - days * 86_400_000}&to=${to}`).then(
      (r) => (setData(r), setError('')),
      (e) => setError(errorText(e)),
    );
  }, [by, days]);
  return (
    <div data-testid="qa-trends">
      <div class="row">
        <Field label={t('qa:trendBy')}>
          <select value={by} onChange={(e) => setBy(e.currentTarget.value as 'agent' | 'rule')} data-testid="qa-trend-by">
            <option value="agent">{t('qa:byAgent')}</option>
            <option value="rule">{t('qa:byRule')}</option>
          </select>
        </Field>
        <Field label={t('qa:period')}>
          <select value={String(days)} onChange={(e) => setDays(Number(e.currentTarget.value))}>
            {[7, 14, 30, 90].map((n) => (
              <option key={n} value={String(n)}>
                {t('qa:lastDays', { count: n })}
              </option>
            ))}
          </select>
        </Field>
      </div>
      {error ? <Notice kind="error">{error}</Notice> : null}
      {data && data.series.length === 0 ? <p class="empty">{t('qa:noTrend')}</p> : null}
      {data && data.series.length > 0 ? (
        <div class="table-scroll">
          <table class="table qa-trend" data-testid="qa-trend-table">
            <caption class="sr-only">{by === 'agent' ? t('qa:trendCaptionAgent') : t('qa:trendCaptionRule')}</caption>
            <thead>
              <tr>
                <th>{by === 'agent' ? t('qa:agent') : t('qa:rule')}</th>
                {data.days.map((d: string) => (
                  <th key={d}>{d.slice(5)}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {data.series.map((s: any) => (
                <tr key={s.key ?? ''} data-testid="qa-trend-row">
                  <th scope="row">{s.key ?? t('qa:noAgent')}</th>
                  {s.points.map((p: any) => (
                    <td
                      key={p.day}
                      title={t('qa:trendCell', { passed: p.passed, count: p.count })}
                      class={p.passRate === null ? 'muted' : p.passRate >= 0.8 ? 'good' : p.passRate >= 0.5 ? 'warn' : 'bad'}
                    >
                      {p.passRate === null ? '—' : fmtPercent(p.passRate)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}

function QaRules({ session }: { session: Session }) {
  const [set, setSet] = useState<{ version: number; rules: any[] } | null>(null);
  const [editing, setEditing] = useState<{ original: string | null; form: RuleForm } | null>(null);
  const [issues, setIssues] = useState<{ field?: string; message: string }[]>([]);
  const [error, setError] = useState('');
  const [dry, setDry] = useState<any>(null);
  const writer = canChange(session);
  const load = () => void get('/api/v1/qa/rules').then(setSet, (e) => setError(errorText(e)));
  useEffect(load, []);
  const fail = (e: unknown) => {
    if (e instanceof ApiError && Array.isArray(e.details['issues']))
      setIssues(e.details['issues'] as { field?: string; message: string }[]);
    else setError(errorText(e));
  };
  const proposed = (): unknown[] => {
    const rules = set?.rules ?? [];
    if (!editing) return rules;
    const rule = ruleFromForm(editing.form);
    return editing.original === null ? [...rules, rule] : rules.map((r) => (r.id === editing.original ? rule : r));
  };
  const save = async () => {
    if (!editing) return;
    setIssues([]);
    setError('');
    const rule = ruleFromForm(editing.form);
    try {
      const r =
        editing.original === null
          ? await post('/api/v1/qa/rules/items', rule)
          : await api('PUT', `/api/v1/qa/rules/items/${encodeURIComponent(editing.original)}`, rule);
      setSet(r);
      setEditing(null);
    } catch (e) {
      fail(e);
    }
  };
  const remove = async (id: string) => {
    try {
      setSet(await api('DELETE', `/api/v1/qa/rules/items/${encodeURIComponent(id)}`));
    } catch (e) {
      fail(e);
    }
  };
  const dryRun = async () => {
    setIssues([]);
    setError('');
    try {
      setDry(await post('/api/v1/qa/rules/dry-run', { rules: { rules: proposed() } }));
    } catch (e) {
      fail(e);
    }
  };
  const f = editing?.form;
  const setField = (name: string, value: string | boolean) =>
    editing && setEditing({ ...editing, form: { ...editing.form, [name]: value } });
  const issuesOf = (field: string) => issues.filter((i) => i.field === field);
  const fieldError = (field: string) =>
    issuesOf(field).map((i, k) => (
      <span key={k} class="field-error" role="alert">
        {i.message}
      </span>
    ));
  return (
    <div data-testid="qa-rules">
      {error ? <Notice kind="error">{error}</Notice> : null}
      {set ? <p class="muted">{t('qa:rulesVersion', { version: set.version })}</p> : null}
      <div class="table-scroll">
        <table class="table" data-testid="qa-rules-table">
          <thead>
            <tr>
              <th>{t('qa:rule')}</th>
              <th>{t('qa:kind')}</th>
              <th>{t('qa:weight')}</th>
              <th>{t('qa:critical')}</th>
              {writer ? <th>{t('qa:actions')}</th> : null}
            </tr>
          </thead>
          <tbody>
            {(set?.rules ?? []).map((r) => (
              <tr key={r.id}>
                <td>{r.id}</td>
                <td>{t(`qa:kindName.${r.kind}`, { defaultValue: r.kind })}</td>
                <td>{fmtNumber(r.weight)}</td>
                <td>{r.critical ? t('qa:yes') : t('qa:no')}</td>
                {writer ? (
                  <td>
                    <button
                      type="button"
                      class="btn secondary"
                      onClick={() => (setIssues([]), setEditing({ original: r.id, form: formFromRule(r) }))}
                    >
                      {t('qa:edit')}
                    </button>{' '}
                    <ActionButton kind="danger" onClick={() => remove(r.id)}>
                      {t('qa:delete')}
                    </ActionButton>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {writer && !editing ? (
        <button
          type="button"
          class="btn primary"
          data-testid="qa-rule-new"
          onClick={() => (setIssues([]), setEditing({ original: null, form: formFromRule({ kind: 'forbidden', weight: 10 }) }))}
        >
          {t('qa:newRule')}
        </button>
      ) : null}
      {editing && f ? (
        <Card title={editing.original === null ? t('qa:newRule') : t('qa:editRule', { rule: editing.original })} testId="qa-rule-editor">
          <form onSubmit={(e) => (e.preventDefault(), void save())}>
            {issues
              .filter((i) => !i.field)
              .map((i, k) => (
                <Notice key={k} kind="error">
                  {i.message}
                </Notice>
              ))}
            <Field label={t('qa:ruleId')} hint={t('qa:ruleIdHint')}>
              <input name="id" value={String(f['id'])} onInput={(e) => setField('id', e.currentTarget.value)} />
              {fieldError('id')}
            </Field>
            <Field label={t('qa:kind')}>
              <select
                name="kind"
                value={String(f['kind'])}
                onChange={(e) => setEditing({ ...editing, form: formFromRule({ ...ruleFromForm(f), kind: e.currentTarget.value }) })}
              >
                {RULE_KINDS.map((k) => (
                  <option key={k} value={k}>
                    {t(`qa:kindName.${k}`, { defaultValue: k })}
                  </option>
                ))}
              </select>
              {fieldError('kind')}
            </Field>
            <Field label={t('qa:weight')}>
              <input
                name="weight"
                type="number"
                step="any"
                value={String(f['weight'])}
                onInput={(e) => setField('weight', e.currentTarget.value)}
              />
              {fieldError('weight')}
            </Field>
            <label class="check">
              <input type="checkbox" checked={f['critical'] === true} onChange={(e) => setField('critical', e.currentTarget.checked)} />{' '}
              {t('qa:criticalHint')}
            </label>
            {(KIND_FIELDS[String(f['kind'])] ?? []).map(([name, kind]) => (
              <Field key={name} label={t(`qa:field.${name}`, { defaultValue: name })}>
                {kind === 'lines' ? (
                  <textarea name={name} rows={4} value={String(f[name] ?? '')} onInput={(e) => setField(name, e.currentTarget.value)} />
                ) : kind === 'bool' ? (
                  <input name={name} type="checkbox" checked={f[name] === true} onChange={(e) => setField(name, e.currentTarget.checked)} />
                ) : kind === 'expect' ? (
                  <select name={name} value={String(f[name])} onChange={(e) => setField(name, e.currentTarget.value)}>
                    <option value="absent">{t('qa:expectAbsent')}</option>
                    <option value="present">{t('qa:expectPresent')}</option>
                  </select>
                ) : kind === 'number' ? (
                  <input
                    name={name}
                    type="number"
                    step="any"
                    value={String(f[name] ?? '')}
                    onInput={(e) => setField(name, e.currentTarget.value)}
                  />
                ) : (
                  <input name={name} type="text" value={String(f[name] ?? '')} onInput={(e) => setField(name, e.currentTarget.value)} />
                )}
                {fieldError(name)}
              </Field>
            ))}
            <div class="row">
              <button class="btn primary" type="submit" data-testid="qa-rule-save">
                {t('qa:saveRule')}
              </button>
              <ActionButton kind="secondary" onClick={dryRun} testId="qa-rule-dry-run">
                {t('qa:dryRun')}
              </ActionButton>
              <button type="button" class="btn secondary" onClick={() => (setEditing(null), setIssues([]), setDry(null))}>
                {t('qa:cancel')}
              </button>
            </div>
          </form>
        </Card>
      ) : null}
      {dry ? <DryRunResult dry={dry} /> : null}
    </div>
  );
}

function DryRunResult({ dry }: { dry: any }) {
  return (
    <Card title={t('qa:dryRunTitle')} testId="qa-dry-run">
      <p class="muted">
        {t('qa:dryRunSummary', { count: dry.scanned })}
        {dry.truncated ? ` ${t('qa:dryRunTruncated')}` : ''}
      </p>
      <table class="table">
        <thead>
          <tr>
            <th>{t('qa:rule')}</th>
            <th>{outcomeText('pass')}</th>
            <th>{outcomeText('fail')}</th>
            <th>{outcomeText('na')}</th>
          </tr>
        </thead>
        <tbody>
          {dry.rules.map((r: any) => (
            <tr key={r.ruleId}>
              <td>{r.ruleId}</td>
              <td>{fmtNumber(r.pass)}</td>
              <td>{fmtNumber(r.fail)}</td>
              <td>{fmtNumber(r.na)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="table-scroll">
        <table class="table">
          <thead>
            <tr>
              <th>{t('qa:call')}</th>
              <th>{t('qa:now')}</th>
              <th>{t('qa:proposed')}</th>
              <th>{t('qa:failedRules')}</th>
            </tr>
          </thead>
          <tbody>
            {dry.calls.map((c: any) => (
              <tr key={c.callId} data-testid="qa-dry-call">
                <td>
                  <a href={`#/qa/${encodeURIComponent(c.callId)}`}>
                    <code>{c.callId.slice(0, 8)}</code>
                  </a>
                </td>
                <td>{c.current ? `${scoreText(c.current.score)} · ${resultText(c.current.passed)}` : t('qa:notScored')}</td>
                <td>{`${scoreText(c.proposed.score)} · ${resultText(c.proposed.passed)}`}</td>
                <td class="muted">{failedRuleIds(c.results)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

/** The QA line of a call's detail page: effective score and result with a link to the scorecard. */
export function QaSummaryLine({ callId }: { callId: string }) {
  const [card, setCard] = useState<any>(undefined);
  useEffect(() => void get(`/api/v1/qa/scorecards/${encodeURIComponent(callId)}`).then(setCard, () => setCard(null)), [callId]);
  if (card === undefined) return null;
  return (
    <p data-testid="call-qa">
      {card === null ? (
        <span class="muted">{t('qa:notScoredYet')}</span>
      ) : (
        <a href={`#/qa/${encodeURIComponent(callId)}`}>
          {t('qa:scoreLine', {
            score: scoreText(card.effectiveScore ?? card.score),
            result: resultText(card.effectivePassed ?? card.passed),
          })}
        </a>
      )}
    </p>
  );
}
