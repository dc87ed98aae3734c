// One closed conversation (a chat or an e-mail case) in the QA workspace: its scorecard (rules about
// audio are "not applicable" to text) after supervisors' overrides, with the original beside it and the
// same override controls as a call's (qaOverride.tsx), the customer's sentiment, the summary, and each message's
// sentiment label. What the API returns is all there is: scores, labels and the summary built from
// the stored, redacted text (it quotes redacted excerpts, as a call's does); never the message list,
// the customer's hashed identifiers or the words a rule matched.
import { useEffect, useState } from 'preact/hooks';
import { fmtTime, get, type Session } from './api.js';
import { CallSummaryCard, type CallSummaryView } from './callSummary.js';
import { Card, Notice, errorText } from './ui.js';
import { fmtNumber, t } from '../../i18n/i18n.js';
import { QaResultsTable, type QaResultRow } from './qaResults.js';
import { QaOverrideForm, QaOverridesCard, QaScoreLine, canChange, type QaOverrideView } from './qaOverride.js';

type Label = 'positive' | 'neutral' | 'negative';

/** GET /api/v1/conversations/:id/analysis. */
interface ConversationAnalysisView {
  conversationId: string;
  channel: string;
  createdAt: number;
  qaRulesVersion: number;
  sentiment: { label: Label | null; compound: number | null; last: Label | null; counts: Record<Label, number>; scored: number };
  qa: { score: number | null; passed: boolean | null; results: QaResultRow[] };
  /** The scorecard after supervisors' overrides (a changed rule keeps its `original` outcome). */
  effective: { score: number | null; passed: boolean | null; results: QaResultRow[] };
  overrides: QaOverrideView[];
  summary: CallSummaryView | null;
  messages: { seq: number; sender: string; label: Label; compound: number }[];
}

const LABELS: readonly Label[] = ['positive', 'neutral', 'negative'];
const labelClass = (l: Label | null) => (l === 'negative' ? 'bad' : l === 'positive' ? 'good' : '');
const labelText = (l: Label | null) => (l === null ? t('qa:conversation.noSentiment') : t(`qa:conversation.label.${l}`));

function SentimentTag({ label, testId }: { label: Label | null; testId?: string }) {
  return (
    <span class={`tag ${labelClass(label)}`} data-testid={testId} data-label={label ?? ''}>
      {labelText(label)}
    </span>
  );
}

export function QaConversation({ session, conversationId }: { session: Session; conversationId: string }) {
  const [d, setD] = useState<ConversationAnalysisView | null>(null);
  const [error, setError] = useState('');
  const load = () =>
    void get<ConversationAnalysisView>(`/api/v1/conversations/${encodeURIComponent(conversationId)}/analysis`).then(
      (r) => (setD(r), setError('')),
      (e) => setError(errorText(e)),
    );
  useEffect(load, [conversationId]);
  const back = (
    <p>
      <a href="#/qa">{t('qa:back')}</a>
    </p>
  );
  if (error && !d)
    return (
      <div data-testid="qa-conversation">
        {back}
        <Notice kind="error">{error}</Notice>
      </div>
    );
  if (!d) return <p>{t('common:loading')}</p>;
  const channel = t(`qa:channel.${d.channel}`, { defaultValue: d.channel });
  const s = d.sentiment;
  return (
    <div data-testid="qa-conversation" data-channel={d.channel}>
      {back}
      <h1>
        {t('qa:conversation.title', { channel })} <code>{conversationId}</code>
      </h1>
      <p class="muted">
        {t('qa:conversation.closedAt', { at: fmtTime(d.createdAt) })} · {t('qa:rulesVersion', { version: d.qaRulesVersion })}
      </p>
      <QaScoreLine effective={d.effective} original={d.qa} overridden={d.overrides.length > 0} />
      <div class="grid2">
        <Card title={t('qa:rules')} testId="qa-results">
          <QaResultsTable results={d.effective.results} />
          <p class="muted">{t('qa:conversation.audioRules')}</p>
        </Card>
        <Card title={t('qa:conversation.sentiment')} testId="qa-conversation-sentiment">
          <dl>
            <dt>{t('qa:conversation.overall')}</dt>
            <dd>
              <SentimentTag label={s.label} testId="qa-conversation-sentiment-overall" />
              {s.compound === null ? null : <span class="muted"> {fmtNumber(s.compound, 2)}</span>}
            </dd>
            <dt>{t('qa:conversation.last')}</dt>
            <dd>
              <SentimentTag label={s.last} />
            </dd>
            <dt>{t('qa:conversation.counts')}</dt>
            <dd>{LABELS.map((l) => t('qa:conversation.countOf', { label: labelText(l), n: fmtNumber(s.counts[l]) })).join(' · ')}</dd>
          </dl>
        </Card>
      </div>
      <div class="grid2">
        {canChange(session) ? (
          <QaOverrideForm
            path={`/api/v1/qa/conversations/${encodeURIComponent(conversationId)}/overrides`}
            resultLabel={t('qa:conversation.result')}
            results={d.effective.results}
            onDone={load}
          />
        ) : null}
        <QaOverridesCard overrides={d.overrides} resultLabel={t('qa:conversation.result')} />
      </div>
      <CallSummaryCard summary={d.summary} title={t('qa:conversation.summary')} />
      <Card title={t('qa:conversation.messages')} testId="qa-conversation-messages">
        <p class="muted">{t('qa:conversation.messagesHint')}</p>
        {d.messages.length === 0 ? <p class="empty">{t('qa:conversation.noMessages')}</p> : null}
        {d.messages.length > 0 ? (
          <table class="table">
            <thead>
              <tr>
                <th>{t('qa:conversation.message')}</th>
                <th>{t('qa:conversation.sender')}</th>
                <th>{t('qa:conversation.sentimentHead')}</th>
              </tr>
            </thead>
            <tbody>
              {d.messages.map((m) => (
                <tr key={m.seq} data-testid={`qa-message-${m.seq}`}>
                  <td>{fmtNumber(m.seq)}</td>
                  <td>{t(`qa:conversation.senderOf.${m.sender}`, { defaultValue: m.sender })}</td>
                  <td>
                    <SentimentTag label={m.label} /> <span class="muted">{fmtNumber(m.compound, 2)}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </Card>
    </div>
  );
}
