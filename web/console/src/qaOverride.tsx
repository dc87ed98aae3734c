// A scorecard's supervisor overrides, shared by a call's QA page and a conversation's: the score line
// (after overrides, with the original beside it), the form that overrides the result or one rule with a
// reason, and the list of overrides made (when, who, what, why). The server checks and audits each.
import { useState } from 'preact/hooks';
import { fmtTime, post, type Session } from './api.js';
import { Card, Field, Notice, errorText } from './ui.js';
import { t } from '../../i18n/i18n.js';
import { outcomeText, resultText, scoreText } from './qaText.js';

/** Who may change QA (rules, overrides): supervisors, and technicians who run the box. */
export const canChange = (s: Session) => s.role === 'supervisor' || s.role === 'technician';

type Score = { readonly score: number | null; readonly passed: boolean | null };

export interface QaOverrideView {
  readonly id: number;
  readonly ruleId: string | null;
  readonly outcome: string;
  readonly reason: string;
  readonly author: string;
  readonly at: number;
}

/** The score as it stands after overrides; the original beside it once a supervisor changed something. */
export function QaScoreLine({ effective, original, overridden }: { effective: Score; original: Score; overridden: boolean }) {
  return (
    <p data-testid="qa-score">
      {t('qa:scoreLine', { score: scoreText(effective.score), result: resultText(effective.passed) })}
      {overridden ? (
        <span class="muted" data-testid="qa-score-original">
          {' '}
          {t('qa:originalLine', { score: scoreText(original.score), result: resultText(original.passed) })}
        </span>
      ) : null}
    </p>
  );
}

/** Override the result (`resultLabel`) or one rule's outcome, with a reason; POSTs to `path`. */
export function QaOverrideForm({
  path,
  resultLabel,
  results,
  onDone,
}: {
  path: string;
  resultLabel: string;
  results: readonly { ruleId: string }[];
  onDone: () => void;
}) {
  const [target, setTarget] = useState('');
  const [outcome, setOutcome] = useState('pass');
  const [reason, setReason] = useState('');
  const [msg, setMsg] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const submit = async () => {
    if (reason.trim().length < 3) return setMsg({ kind: 'error', text: t('qa:reasonNeeded') });
    try {
      await post(path, { ...(target ? { ruleId: target } : {}), outcome, reason: reason.trim() });
      setReason('');
      setMsg({ kind: 'ok', text: t('qa:overrideSaved') });
      onDone();
    } catch (e) {
      setMsg({ kind: 'error', text: errorText(e) });
    }
  };
  return (
    <Card title={t('qa:override')} testId="qa-override">
      <form onSubmit={(e) => (e.preventDefault(), void submit())}>
        <Field label={t('qa:overrideTarget')}>
          <select name="target" value={target} onChange={(e) => setTarget(e.currentTarget.value)} data-testid="qa-override-target">
            <option value="">{resultLabel}</option>
            {results.map((r) => (
              <option key={r.ruleId} value={r.ruleId}>
                {t('qa:ruleOption', { rule: r.ruleId })}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('qa:newOutcome')}>
          <select name="outcome" value={outcome} onChange={(e) => setOutcome(e.currentTarget.value)} data-testid="qa-override-outcome">
            <option value="pass">{outcomeText('pass')}</option>
            <option value="fail">{outcomeText('fail')}</option>
            {target ? <option value="na">{outcomeText('na')}</option> : null}
          </select>
        </Field>
        <Field label={t('qa:reason')} hint={t('qa:reasonHint')}>
          <textarea
            name="reason"
            rows={3}
            required
            value={reason}
            onInput={(e) => setReason(e.currentTarget.value)}
            data-testid="qa-override-reason"
          />
        </Field>
        {msg ? <Notice kind={msg.kind}>{msg.text}</Notice> : null}
        <button class="btn primary" type="submit" data-testid="qa-override-submit">
          {t('qa:saveOverride')}
        </button>
      </form>
    </Card>
  );
}

/** The overrides made, oldest first (nothing when there are none). */
export function QaOverridesCard({ overrides, resultLabel }: { overrides: readonly QaOverrideView[]; resultLabel: string }) {
  if (overrides.length === 0) return null;
  return (
    <Card title={t('qa:overrides')} testId="qa-overrides">
      <ul>
        {overrides.map((o) => (
          <li key={o.id}>
            {t('qa:overrideLine', {
              at: fmtTime(o.at),
              author: o.author,
              target: o.ruleId ?? resultLabel,
              outcome: outcomeText(o.outcome),
              reason: o.reason,
            })}
          </li>
        ))}
      </ul>
    </Card>
  );
}
