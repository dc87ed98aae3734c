// A scorecard's rules as a table, for a call's QA page and a conversation's: each rule with its
// critical mark, outcome (and the outcome before an override, where one changed it), value and hits.
import { fmtNumber, t } from '../../i18n/i18n.js';
import { outcomeText } from './qaText.js';

export interface QaResultRow {
  readonly ruleId: string;
  readonly critical: boolean;
  readonly outcome: string;
  /** The outcome before a supervisor's override, where one changed it. */
  readonly original?: string | null;
  readonly value: number | null;
  readonly hits?: readonly unknown[];
}

export function QaResultsTable({ results }: { results: readonly QaResultRow[] }) {
  return (
    <table class="table">
      <thead>
        <tr>
          <th>{t('qa:rule')}</th>
          <th>{t('qa:outcomeHead')}</th>
          <th>{t('qa:value')}</th>
          <th>{t('qa:hits')}</th>
        </tr>
      </thead>
      <tbody>
        {results.map((r) => (
          <tr key={r.ruleId} data-testid={`qa-result-${r.ruleId}`}>
            <td>
              {r.ruleId}
              {r.critical ? <span class="tag">{t('qa:critical')}</span> : null}
            </td>
            <td>
              <span class={`tag ${r.outcome === 'fail' ? 'bad' : r.outcome === 'pass' ? 'good' : ''}`}>{outcomeText(r.outcome)}</span>
              {r.original ? <span class="muted"> {t('qa:wasOutcome', { outcome: outcomeText(r.original) })}</span> : null}
            </td>
            <td>{r.value === null ? '—' : fmtNumber(r.value, Number.isInteger(r.value) ? 0 : 3)}</td>
            <td>{fmtNumber(r.hits?.length ?? 0)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
