// The post-call summary on the call detail page: reason, what was asked, what was done or
// promised, outcome and follow-up items (built on the box from the redacted transcript).
import { Card } from './ui.js';
import { t } from '../../i18n/i18n.js';

interface Actor {
  role: 'agent' | 'caller' | 'other';
  name: string;
}

/** The summary as GET /api/v1/calls/:id returns it (`summary`, null until the call has ended). */
export interface CallSummaryView {
  language: 'en' | 'zh';
  reason: { intent: string | null; text: string | null };
  asked: string[];
  actions: { kind: 'done' | 'promised'; who: Actor; text: string; when: { text: string; relative: string } | null }[];
  outcome: 'resolved' | 'follow_up' | 'transferred' | 'unresolved';
  followUps: { who: Actor; what: string; when: string; whenSaid: string }[];
  text: string;
}

function whoText(who: Actor): string {
  return who.role === 'other' ? who.name : t(`summary:who.${who.role}`);
}

/** `title`: another heading (a conversation's summary); the call's by default. */
export function CallSummaryCard({ summary, title }: { summary: CallSummaryView | null | undefined; title?: string }) {
  const heading = title ?? t('summary:title');
  if (!summary) {
    return (
      <Card title={heading} testId="call-summary">
        <p class="empty">{t('summary:none')}</p>
      </Card>
    );
  }
  const lang = summary.language === 'zh' ? 'zh' : undefined;
  return (
    <Card title={heading} testId="call-summary">
      <p lang={lang} data-testid="call-summary-text">
        {summary.text}
      </p>
      <dl>
        <dt>{t('summary:outcome')}</dt>
        <dd data-testid="call-summary-outcome">
          <span class="tag">{t(`summary:outcomeOf.${summary.outcome}`)}</span>
        </dd>
        <dt>{t('summary:reason')}</dt>
        <dd>
          {summary.reason.intent ? <span class="tag">{summary.reason.intent}</span> : null}{' '}
          <span lang={lang}>{summary.reason.text ?? t('summary:unknown')}</span>
        </dd>
        <dt>{t('summary:asked')}</dt>
        <dd>
          {summary.asked.length === 0 ? (
            '—'
          ) : (
            <ul lang={lang}>
              {summary.asked.map((a, i) => (
                <li key={i}>{a}</li>
              ))}
            </ul>
          )}
        </dd>
        <dt>{t('summary:actions')}</dt>
        <dd>
          {summary.actions.length === 0 ? (
            '—'
          ) : (
            <ul lang={lang}>
              {summary.actions.map((a, i) => (
                <li key={i}>
                  <span class="tag">{t(`summary:kind.${a.kind}`)}</span> {a.text}
                </li>
              ))}
            </ul>
          )}
        </dd>
        <dt>{t('summary:followUps')}</dt>
        <dd data-testid="call-summary-followups">
          {summary.followUps.length === 0 ? (
            '—'
          ) : (
            <ul>
              {summary.followUps.map((f, i) => (
                <li key={i}>
                  {t('summary:followUpLine', { who: whoText(f.who), when: f.whenSaid })} — <span lang={lang}>{f.what}</span>
                </li>
              ))}
            </ul>
          )}
        </dd>
      </dl>
    </Card>
  );
}
