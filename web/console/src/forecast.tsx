// Forecast and staffing (supervisors): per skill group, the forecast vs actual chart (GET
// /api/v1/forecast), the agents needed per interval by Erlang C and Erlang A (GET
// /api/v1/forecast/staffing), the CSV export of both, the site's special days and the settings
// (targets, shrinkage, the scale-up alert). Days and times are the site's (the reply's time zone).
import { useEffect, useState } from 'preact/hooks';
import { api, get, post } from './api.js';
import { Card, Field, Notice, errorText } from './ui.js';
import { currentLanguage, fmtDuration, fmtNumber, fmtPercent, t } from '../../i18n/i18n.js';
import { ForecastChart } from './forecastChart.js';
import {
  dayStarts,
  fromForm,
  pointsOfDay,
  toForm,
  type ForecastReply,
  type ForecastSettings,
  type SettingsForm,
  type SpecialDay,
  type StaffingReply,
} from './forecastModel.js';

interface GroupsReply {
  groups: string[];
  intervalsMinutes: number[];
  timeZone: string;
  maxDays: number;
}

const ALL = '_all';
const DAY_CHOICES = [1, 7, 14, 28];
const METHODS = ['default', 'seasonal-naive', 'profile', 'holt-winters', 'ensemble'];

const groupName = (g: string) => (g === ALL ? t('forecast:allGroups') : g);

export function ForecastScreen() {
  const [info, setInfo] = useState<GroupsReply | null>(null);
  const [group, setGroup] = useState(ALL);
  const [days, setDays] = useState(7);
  const [interval, setInterval] = useState(15);
  const [dayIndex, setDayIndex] = useState(0);
  const [forecast, setForecast] = useState<ForecastReply | null>(null);
  const [staffing, setStaffing] = useState<StaffingReply | null>(null);
  const [error, setError] = useState('');

  useEffect(() => {
    get<GroupsReply>('/api/v1/forecast/groups')
      .then((g) => {
        setInfo(g);
        setInterval(g.intervalsMinutes[0] ?? 15);
      })
      .catch((e) => setError(errorText(e)));
  }, []);

  const query = `group=${encodeURIComponent(group)}&days=${days}&interval=${interval}`;
  const load = async () => {
    setError('');
    try {
      const [f, s] = await Promise.all([
        get<ForecastReply>(`/api/v1/forecast?${query}`),
        get<StaffingReply>(`/api/v1/forecast/staffing?${query}`),
      ]);
      setForecast(f);
      setStaffing(s);
      setDayIndex((i) => Math.min(i, f.days - 1));
    } catch (e) {
      setError(errorText(e));
    }
  };
  useEffect(() => {
    if (info !== null) void load();
  }, [info, group, days, interval]);

  const language = currentLanguage();
  const timeZone = forecast?.timeZone ?? info?.timeZone ?? 'UTC';
  const dayLabel = new Intl.DateTimeFormat(language, { timeZone, weekday: 'short', year: 'numeric', month: 'numeric', day: 'numeric' });
  const timeLabel = new Intl.DateTimeFormat(language, { timeZone, hour: '2-digit', minute: '2-digit' });
  const starts = forecast ? dayStarts(forecast.from, forecast.days) : [];
  const dayStart = starts[dayIndex] ?? forecast?.from ?? 0;
  const staffRows = staffing ? pointsOfDay(staffing.points, dayStart) : [];

  return (
    <section class="forecast" data-testid="forecast">
      <h1>{t('forecast:title')}</h1>
      <p class="muted">{t('forecast:intro', { timeZone })}</p>
      <form class="report-filters" onSubmit={(e) => e.preventDefault()}>
        <Field label={t('forecast:group')}>
          <select name="group" value={group} onChange={(e) => setGroup(e.currentTarget.value)} data-testid="forecast-group">
            {(info?.groups ?? [ALL]).map((g) => (
              <option key={g} value={g} translate={g === ALL ? undefined : false}>
                {groupName(g)}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('forecast:days')}>
          <select name="days" value={String(days)} onChange={(e) => setDays(Number(e.currentTarget.value))} data-testid="forecast-days">
            {DAY_CHOICES.map((d) => (
              <option key={d} value={String(d)}>
                {d === 1 ? t('forecast:today') : t('forecast:dayCount', { count: d })}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('forecast:interval')}>
          <select name="interval" value={String(interval)} onChange={(e) => setInterval(Number(e.currentTarget.value))}>
            {(info?.intervalsMinutes ?? [15]).map((m) => (
              <option key={m} value={String(m)}>
                {t('forecast:minutes', { count: m })}
              </option>
            ))}
          </select>
        </Field>
        {forecast ? (
          <a class="btn secondary" data-testid="forecast-csv" href={`/api/v1/forecast/export.csv?${query}`} download>
            {t('forecast:exportCsv')}
          </a>
        ) : null}
      </form>
      {error ? <Notice kind="error">{error}</Notice> : null}
      {forecast ? (
        <>
          {forecast.historyIntervals === 0 ? (
            <Notice kind="warn" testId="forecast-no-history">
              {t('forecast:noHistory')}
            </Notice>
          ) : (
            <p class="muted" data-testid="forecast-basis">
              {t('forecast:basis', { intervals: fmtNumber(forecast.historyIntervals), method: t(`forecast:method.${forecast.method}`) })}
            </p>
          )}
          <ForecastChart
            points={forecast.points}
            timeZone={timeZone}
            language={language}
            title={t('forecast:chart.title', { group: groupName(group) })}
          />
        </>
      ) : null}
      {staffing && forecast ? (
        <div class="forecast-staffing">
          <h2>{t('forecast:staffing.title')}</h2>
          <p class="muted">{t('forecast:staffing.peak', { erlangC: staffing.peak.erlangC, erlangA: staffing.peak.erlangA })}</p>
          <Field label={t('forecast:staffing.day')}>
            <select
              name="day"
              value={String(dayIndex)}
              onChange={(e) => setDayIndex(Number(e.currentTarget.value))}
              data-testid="staffing-day"
            >
              {starts.map((s, i) => (
                <option key={s} value={String(i)}>
                  {dayLabel.format(s)}
                </option>
              ))}
            </select>
          </Field>
          <div class="table-scroll">
            <table class="report-table" data-testid="staffing-table">
              <thead>
                <tr>
                  <th>{t('forecast:staffing.interval')}</th>
                  <th>{t('forecast:staffing.calls')}</th>
                  <th>{t('forecast:staffing.aht')}</th>
                  <th>{t('forecast:staffing.erlangC')}</th>
                  <th>{t('forecast:staffing.scheduled')}</th>
                  <th>{t('forecast:staffing.serviceLevel')}</th>
                  <th>{t('forecast:staffing.asa')}</th>
                  <th>{t('forecast:staffing.erlangA')}</th>
                  <th>{t('forecast:staffing.scheduled')}</th>
                  <th>{t('forecast:staffing.abandon')}</th>
                </tr>
              </thead>
              <tbody>
                {staffRows.map((p) => (
                  <tr key={p.start} data-calls={p.calls} data-agents={p.erlangC?.agents ?? ''}>
                    <td>{timeLabel.format(p.start)}</td>
                    <td>{fmtNumber(p.calls, 1)}</td>
                    <td>{p.ahtS === null ? '—' : fmtDuration(p.ahtS * 1000)}</td>
                    <td>{fmtNumber(p.erlangC?.agents)}</td>
                    <td>{fmtNumber(p.erlangC?.scheduled)}</td>
                    <td>{fmtPercent(p.erlangC?.serviceLevel)}</td>
                    <td>{p.erlangC ? fmtDuration(p.erlangC.asaS * 1000) : '—'}</td>
                    <td>{fmtNumber(p.erlangA?.agents)}</td>
                    <td>{fmtNumber(p.erlangA?.scheduled)}</td>
                    <td>{fmtPercent(p.erlangA?.abandonRate, 1)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      ) : null}
      <SpecialDays groups={info?.groups ?? [ALL]} onChange={() => void load()} />
      <SettingsEditor onChange={() => void load()} />
    </section>
  );
}

function SpecialDays(props: { groups: string[]; onChange: () => void }) {
  const [list, setList] = useState<SpecialDay[] | null>(null);
  const [date, setDate] = useState('');
  const [group, setGroup] = useState(ALL);
  const [effectPct, setEffectPct] = useState('30');
  const [label, setLabel] = useState('');
  const [error, setError] = useState('');
  const load = async () => setList((await get<{ days: SpecialDay[] }>('/api/v1/forecast/special-days')).days);
  useEffect(() => void load().catch((e) => setError(errorText(e))), []);
  const add = async () => {
    setError('');
    try {
      await post('/api/v1/forecast/special-days', { date, group, factor: Math.max(0, 1 + Number(effectPct) / 100), label });
      setLabel('');
      await load();
      props.onChange();
    } catch (e) {
      setError(errorText(e));
    }
  };
  const remove = async (id: number) => {
    setError('');
    try {
      await api('DELETE', `/api/v1/forecast/special-days/${id}`);
      await load();
      props.onChange();
    } catch (e) {
      setError(errorText(e));
    }
  };
  return (
    <Card title={t('forecast:special.title')} testId="special-days">
      <p class="muted">{t('forecast:special.intro')}</p>
      {list && list.length === 0 ? <p class="muted">{t('forecast:special.none')}</p> : null}
      {list && list.length > 0 ? (
        <table class="report-table" data-testid="special-days-table">
          <thead>
            <tr>
              <th>{t('forecast:special.date')}</th>
              <th>{t('forecast:group')}</th>
              <th>{t('forecast:special.effect')}</th>
              <th>{t('forecast:special.label')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((d) => (
              <tr key={d.id}>
                <td>{d.date}</td>
                <td translate={d.group === ALL ? undefined : false}>{groupName(d.group)}</td>
                <td>{t('forecast:special.effectValue', { pct: fmtNumber(Math.round((d.factor - 1) * 100)) })}</td>
                <td translate={false}>{d.label}</td>
                <td>
                  <button class="btn secondary" type="button" onClick={() => void remove(d.id)} data-testid={`special-day-delete-${d.id}`}>
                    {t('forecast:special.delete')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <form
        class="report-filters"
        onSubmit={(e) => {
          e.preventDefault();
          void add();
        }}
      >
        <Field label={t('forecast:special.date')}>
          <input type="date" name="date" value={date} onInput={(e) => setDate(e.currentTarget.value)} required />
        </Field>
        <Field label={t('forecast:group')}>
          <select name="special-group" value={group} onChange={(e) => setGroup(e.currentTarget.value)}>
            {props.groups.map((g) => (
              <option key={g} value={g} translate={g === ALL ? undefined : false}>
                {groupName(g)}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('forecast:special.effectPct')} hint={t('forecast:special.effectHint')}>
          <input
            type="number"
            name="effect"
            step="1"
            min="-100"
            max="900"
            value={effectPct}
            onInput={(e) => setEffectPct(e.currentTarget.value)}
          />
        </Field>
        <Field label={t('forecast:special.label')}>
          <input name="label" maxLength={80} value={label} onInput={(e) => setLabel(e.currentTarget.value)} required />
        </Field>
        <button class="btn primary" type="submit" data-testid="special-day-add">
          {t('forecast:special.add')}
        </button>
      </form>
      {error ? <Notice kind="error">{error}</Notice> : null}
    </Card>
  );
}

function SettingsEditor(props: { onChange: () => void }) {
  const [form, setForm] = useState<SettingsForm | null>(null);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  useEffect(() => {
    get<ForecastSettings>('/api/v1/forecast/settings')
      .then((s) => setForm(toForm(s)))
      .catch((e) => setMessage({ kind: 'error', text: errorText(e) }));
  }, []);
  if (form === null) return message ? <Notice kind="error">{message.text}</Notice> : null;
  const set = (key: keyof SettingsForm) => (e: { currentTarget: HTMLInputElement | HTMLSelectElement }) =>
    setForm({ ...form, [key]: key === 'alertEnabled' ? (e.currentTarget as HTMLInputElement).checked : e.currentTarget.value });
  const save = async () => {
    setMessage(null);
    try {
      const saved = await api<ForecastSettings>('PUT', '/api/v1/forecast/settings', fromForm(form));
      setForm(toForm(saved));
      setMessage({ kind: 'ok', text: t('forecast:settings.saved') });
      props.onChange();
    } catch (e) {
      setMessage({ kind: 'error', text: errorText(e) });
    }
  };
  const num = (key: keyof SettingsForm, label: string, hint?: string) => (
    <Field label={label} {...(hint === undefined ? {} : { hint })}>
      <input type="number" name={key} step="any" value={form[key] as string} onInput={set(key)} />
    </Field>
  );
  return (
    <Card title={t('forecast:settings.title')} testId="forecast-settings">
      <form
        class="settings-grid"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        {num('serviceLevelPct', t('forecast:settings.serviceLevelPct'))}
        {num('serviceLevelS', t('forecast:settings.serviceLevelS'))}
        {num('asaTargetS', t('forecast:settings.asaTargetS'), t('forecast:settings.blankNone'))}
        {num('shrinkagePct', t('forecast:settings.shrinkagePct'))}
        {num('maxOccupancyPct', t('forecast:settings.maxOccupancyPct'), t('forecast:settings.blankNone'))}
        {num('patienceS', t('forecast:settings.patienceS'))}
        <Field label={t('forecast:settings.method')}>
          <select name="method" value={form.method} onChange={set('method')}>
            {METHODS.map((m) => (
              <option key={m} value={m}>
                {t(`forecast:method.${m}`)}
              </option>
            ))}
          </select>
        </Field>
        {num('historyWeeks', t('forecast:settings.historyWeeks'))}
        <h3>{t('forecast:settings.alertTitle')}</h3>
        <Field label={t('forecast:settings.alertEnabled')}>
          <input type="checkbox" name="alertEnabled" checked={form.alertEnabled} onChange={set('alertEnabled')} />
        </Field>
        {num('deviationPct', t('forecast:settings.deviationPct'))}
        {num('intervals', t('forecast:settings.intervals'))}
        {num('minForecastCalls', t('forecast:settings.minForecastCalls'))}
        <button class="btn primary" type="submit" data-testid="forecast-settings-save">
          {t('forecast:settings.save')}
        </button>
      </form>
      {message ? <Notice kind={message.kind === 'ok' ? 'ok' : 'error'}>{message.text}</Notice> : null}
    </Card>
  );
}
