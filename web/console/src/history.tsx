/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call -- API JSON is validated and typed by the server; the screens read it loosely. */
// Call history with search (call id or words said) and the call detail page.
import { useEffect, useState } from 'preact/hooks';
import { fmtDuration, fmtTime, get } from './api.js';
import { Card, Notice, errorText } from './ui.js';
import { fmtNumber, fmtPercent, t } from '../../i18n/i18n.js';
import { LANGUAGE_FILTERS, emotionText, endReasonText, languageFilterText, languageText } from './labels.js';
import { QaSummaryLine } from './qa.js';
import { CallSummaryCard } from './callSummary.js';
import { CustomerCard } from './customerCard.js';
import { CallMood } from './insight.js';
import { CallCardsCard } from './assistCards.js';

export function History() {
  const [q, setQ] = useState('');
  const [language, setLanguage] = useState('');
  const [calls, setCalls] = useState<any[] | null>(null);
  const [error, setError] = useState('');
  const search = (query: string, lang = language) =>
    void get(`/api/v1/console/calls?limit=100&q=${encodeURIComponent(query)}${lang ? `&language=${encodeURIComponent(lang)}` : ''}`).then(
      (r) => setCalls(r.calls),
      (e) => setError(errorText(e)),
    );
  useEffect(() => search(''), []);
  return (
    <div data-testid="history">
      <h1>{t('history:title')}</h1>
      <form class="row" role="search" onSubmit={(e) => (e.preventDefault(), search(q))}>
        <label class="sr-only" for="history-q">
          {t('history:searchLabel')}
        </label>
        <input
          id="history-q"
          name="q"
          type="search"
          placeholder={t('history:searchPlaceholder')}
          value={q}
          onInput={(e) => setQ(e.currentTarget.value)}
        />
        <label class="sr-only" for="history-language">
          {t('common:speechLanguage.filter')}
        </label>
        <select
          id="history-language"
          name="language"
          data-testid="history-language"
          value={language}
          onChange={(e) => {
            const lang = e.currentTarget.value;
            setLanguage(lang);
            search(q, lang);
          }}
        >
          {LANGUAGE_FILTERS.map((l) => (
            <option key={l} value={l}>
              {languageFilterText(l)}
            </option>
          ))}
        </select>
        <button class="btn primary" type="submit" data-testid="history-search">
          {t('history:search')}
        </button>
      </form>
      {error ? <Notice kind="error">{error}</Notice> : null}
      {calls === null ? <p>{t('common:loading')}</p> : calls.length === 0 ? <p class="empty">{t('history:noCalls')}</p> : null}
      {calls && calls.length > 0 ? (
        <table class="table" data-testid="history-table">
          <thead>
            <tr>
              <th>{t('history:started')}</th>
              <th>{t('history:call')}</th>
              <th>{t('history:source')}</th>
              <th>{t('history:language')}</th>
              <th>{t('history:duration')}</th>
              <th>{t('history:end')}</th>
              <th>{t('history:utterances')}</th>
              <th>{t('history:match')}</th>
            </tr>
          </thead>
          <tbody>
            {calls.map((c) => (
              <tr key={c.id} data-testid="history-row">
                <td>{fmtTime(c.startedAt)}</td>
                <td>
                  <a href={`#/history/${encodeURIComponent(c.id)}`}>
                    <code>{c.id.slice(0, 8)}</code>
                  </a>
                </td>
                <td>{c.source}</td>
                <td data-testid="history-row-language" data-language={c.language ?? ''}>
                  {languageText(c.language)}
                </td>
                <td>{c.endedAt ? fmtDuration(c.endedAt - c.startedAt) : t('history:active')}</td>
                <td>{endReasonText(c.endReason)}</td>
                <td>{fmtNumber(c.utterances)}</td>
                <td class="muted">{c.match ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

export function CallDetail({ id }: { id: string }) {
  const [call, setCall] = useState<any>(null);
  const [error, setError] = useState('');
  useEffect(() => void get(`/api/v1/calls/${encodeURIComponent(id)}`).then(setCall, (e) => setError(errorText(e))), [id]);
  if (error) return <Notice kind="error">{error}</Notice>;
  if (!call) return <p>{t('common:loading')}</p>;
  return (
    <div data-testid="call-detail">
      <p>
        <a href="#/history">{t('history:back')}</a>
      </p>
      <h1>
        {t('history:callTitle')} <code>{call.id}</code>
      </h1>
      <QaSummaryLine callId={call.id} />
      <div class="grid2">
        <Card title={t('history:call')}>
          <dl>
            <dt>{t('history:source')}</dt>
            <dd>{call.source}</dd>
            <dt>{t('history:language')}</dt>
            <dd data-testid="call-language">
              {languageText(call.language, call.languageChoice)}
              {call.languageChoice === 'auto' && call.languageConfidence !== null ? (
                <span class="muted"> — {t('history:languageDecided', { confidence: fmtPercent(call.languageConfidence) })}</span>
              ) : null}
            </dd>
            {call.languageFrom ? (
              <>
                <dt>{t('history:languageFrom')}</dt>
                <dd>{t(`history:languageFromOf.${call.languageFrom}`, { defaultValue: String(call.languageFrom) })}</dd>
              </>
            ) : null}
            <dt>{t('history:state')}</dt>
            <dd>{t(`history:callState.${call.state}`, { defaultValue: String(call.state) })}</dd>
            <dt>{t('history:started')}</dt>
            <dd>{fmtTime(call.startedAt)}</dd>
            <dt>{t('history:answeredAfter')}</dt>
            <dd>{call.answeredAt ? fmtDuration(call.answeredAt - call.startedAt) : '—'}</dd>
            <dt>{t('history:duration')}</dt>
            <dd>{call.endedAt ? fmtDuration(call.endedAt - call.startedAt) : t('history:active')}</dd>
            <dt>{t('history:endReason')}</dt>
            <dd>{endReasonText(call.endReason)}</dd>
          </dl>
        </Card>
        <Card title={t('history:legsAndQuality')}>
          {call.legs.map((l: any) => (
            <div key={l.id}>
              <b>{l.label}</b> {l.codec ?? ''}
              <div class="kv">
                {Object.entries(l.quality ?? {}).map(([k, v]) => (
                  <span key={k}>
                    {k}: {typeof v === 'number' ? fmtNumber(Math.round(v * 100) / 100, Number.isInteger(v) ? 0 : 2) : String(v)}
                  </span>
                ))}
              </div>
            </div>
          ))}
        </Card>
      </div>
      <CustomerCard callId={call.id} />
      <CallSummaryCard summary={call.summary} />
      <Card title={t('history:transcript')} testId="call-transcript">
        {call.utterances.length === 0 ? <p class="empty">{t('history:noTranscript')}</p> : null}
        {call.utterances.map((u: any) => (
          <p key={u.id}>
            <span class="muted">{fmtDuration(u.startMs)}</span> <b>{u.speaker}:</b>{' '}
            <span lang={u.language === 'zh' ? 'zh' : undefined}>{u.text}</span>
            {u.pinyin ? (
              <span class="muted pinyin" lang="zh-Latn-pinyin" title={t('history:pinyin')}>
                {' '}
                ({u.pinyin})
              </span>
            ) : null}
            {u.analysis?.intent ? <span class="tag">{t('live:intentTag', { intent: u.analysis.intent.intent })}</span> : null}
            {u.analysis?.emotion ? (
              <span class="tag">{t('live:emotionTag', { emotion: emotionText(u.analysis.emotion.category) })}</span>
            ) : null}
            {u.analysis?.sentiment ? (
              <span class="tag" data-testid="sentiment-tag">
                {t('insight:sentimentTag', {
                  sentiment: t(`insight:sentiment.${u.analysis.sentiment.label}`, { defaultValue: String(u.analysis.sentiment.label) }),
                })}
              </span>
            ) : null}
          </p>
        ))}
      </Card>
      <CallCardsCard callId={call.id} />
      <CallMood callId={call.id} />
    </div>
  );
}
