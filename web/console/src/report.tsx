// Historical report: the ACD's per-interval figures (GET /api/v1/acd/kpis/intervals) of a date
// range, overall and per skill group; the CSV export is the box's (GET /api/v1/acd/kpis/intervals.csv).
// Below, the per-agent figures of the same range and group (GET /api/v1/acd/kpis/agents, agents.csv).
import { useEffect, useState } from 'preact/hooks';
import { get } from './api.js';
import { Field, Notice, errorText } from './ui.js';
import { fmtDateTime, fmtDuration, fmtNumber, fmtPercent, t } from '../../i18n/i18n.js';
import { defaultReportRange } from './reportModel.js';
import type { ReportFigures, ReportInterval } from './wallboardModel.js';

interface AgentRow {
  readonly agentId: string;
  readonly rung: number;
  readonly answered: number;
  readonly notAnswered: number;
  readonly transferred: number;
  readonly handleTimeS: number;
  readonly averageHandleTimeS: number | null;
  readonly averageAnswerTimeS: number | null;
}

const secs = (s: number | null) => (s === null ? '—' : fmtDuration(s * 1000));

export function Report() {
  const [opened] = useState(() => defaultReportRange(Date.now()));
  const [from, setFrom] = useState(opened.from);
  const [to, setTo] = useState(opened.to);
  const [group, setGroup] = useState('overall');
  const [intervals, setIntervals] = useState<ReportInterval[] | null>(null);
  const [agents, setAgents] = useState<AgentRow[] | null>(null);
  const [error, setError] = useState('');
  const groupQuery = group === 'overall' ? '' : `&group=${encodeURIComponent(group)}`;

  const load = async () => {
    setError('');
    try {
      const f = new Date(from).getTime();
      const tt = new Date(to).getTime();
      const r = await get<{ intervals: ReportInterval[] }>(`/api/v1/acd/kpis/intervals?from=${f}&to=${tt}`);
      setIntervals(r.intervals);
    } catch (err) {
      setError(errorText(err));
    }
  };
  // the per-agent figures are per group: loaded again when the group changes
  const loadAgents = async () => {
    try {
      const f = new Date(from).getTime();
      const tt = new Date(to).getTime();
      const a = await get<{ agents: AgentRow[] }>(`/api/v1/acd/kpis/agents?from=${f}&to=${tt}${groupQuery}`);
      setAgents(a.agents);
    } catch (err) {
      setError(errorText(err));
    }
  };
  useEffect(() => void load(), []);
  useEffect(() => void loadAgents(), [group]);

  const groups = Array.from(new Set((intervals ?? []).flatMap((i) => Object.keys(i.groups)))).sort();
  const pick = (i: ReportInterval): ReportFigures | undefined => (group === 'overall' ? i.overall : i.groups[group]);
  // The CSV comes from the box (every interval of the range, overall and each group), as loaded.
  const csvHref = `/api/v1/acd/kpis/intervals.csv?from=${new Date(from).getTime()}&to=${new Date(to).getTime()}`;
  const agentsCsvHref = `/api/v1/acd/kpis/agents.csv?from=${new Date(from).getTime()}&to=${new Date(to).getTime()}${groupQuery}`;

  return (
    <section class="report" data-testid="report">
      <h1>{t('report:title')}</h1>
      <form
        class="report-filters"
        onSubmit={(e) => {
          e.preventDefault();
          void load();
          void loadAgents();
        }}
      >
        <Field label={t('report:from')}>
          <input type="datetime-local" name="from" value={from} onInput={(e) => setFrom(e.currentTarget.value)} required />
        </Field>
        <Field label={t('report:to')}>
          <input type="datetime-local" name="to" value={to} onInput={(e) => setTo(e.currentTarget.value)} required />
        </Field>
        <Field label={t('report:group')}>
          <select name="group" value={group} onChange={(e) => setGroup(e.currentTarget.value)}>
            <option value="overall">{t('report:overall')}</option>
            {groups.map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </select>
        </Field>
        <button class="btn primary" type="submit" data-testid="report-load">
          {t('report:show')}
        </button>
        {intervals?.length ? (
          <a class="btn secondary" data-testid="report-csv" href={csvHref} download>
            {t('report:exportCsv')}
          </a>
        ) : null}
      </form>
      {error ? <Notice kind="error">{error}</Notice> : null}
      {intervals && intervals.length === 0 ? <p class="muted">{t('report:empty')}</p> : null}
      {intervals && intervals.length > 0 ? (
        <table class="report-table" data-testid="report-table">
          <thead>
            <tr>
              <th>{t('report:interval')}</th>
              <th>{t('report:offered')}</th>
              <th>{t('report:answered')}</th>
              <th>{t('report:abandoned')}</th>
              <th>{t('report:serviceLevel')}</th>
              <th>{t('report:asa')}</th>
              <th>{t('report:aht')}</th>
              <th>{t('report:occupancy')}</th>
            </tr>
          </thead>
          <tbody>
            {intervals.map((i) => {
              const f = pick(i);
              return (
                <tr key={i.start}>
                  <td>{fmtDateTime(i.start)}</td>
                  <td>{fmtNumber(f?.offered ?? 0)}</td>
                  <td>{fmtNumber(f?.answered ?? 0)}</td>
                  <td>{fmtNumber(f?.abandoned ?? 0)}</td>
                  <td>{fmtPercent(f?.serviceLevel)}</td>
                  <td>{secs(f?.averageSpeedOfAnswerS ?? null)}</td>
                  <td>{secs(f?.averageHandleTimeS ?? null)}</td>
                  <td>{fmtPercent(f?.occupancy)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
      {agents ? (
        <div class="report-agents" data-testid="report-agents">
          <h2>{t('report:perAgent')}</h2>
          {agents.length === 0 ? (
            <p class="muted">{t('report:agentsEmpty')}</p>
          ) : (
            <>
              <a class="btn secondary" data-testid="report-agents-csv" href={agentsCsvHref} download>
                {t('report:exportAgentsCsv')}
              </a>
              <table class="report-table" data-testid="report-agents-table">
                <thead>
                  <tr>
                    <th>{t('report:agent')}</th>
                    <th>{t('report:rung')}</th>
                    <th>{t('report:answered')}</th>
                    <th>{t('report:notAnswered')}</th>
                    <th>{t('report:answerTime')}</th>
                    <th>{t('report:aht')}</th>
                    <th>{t('report:handleTime')}</th>
                    <th>{t('report:transferred')}</th>
                  </tr>
                </thead>
                <tbody>
                  {agents.map((a) => (
                    <tr key={a.agentId}>
                      <td>{a.agentId}</td>
                      <td>{fmtNumber(a.rung)}</td>
                      <td>{fmtNumber(a.answered)}</td>
                      <td>{fmtNumber(a.notAnswered)}</td>
                      <td>{secs(a.averageAnswerTimeS)}</td>
                      <td>{secs(a.averageHandleTimeS)}</td>
                      <td>{secs(a.handleTimeS)}</td>
                      <td>{fmtNumber(a.transferred)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </div>
      ) : null}
    </section>
  );
}
