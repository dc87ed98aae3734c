/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument -- API JSON is validated and typed by the server; the screens read it loosely. */
// Callbacks: the callers who asked to be called back (numbers masked by the server), their state,
// attempts and next attempt, the day's figures (offered, accepted, hung up, no answer, completed,
// failed, cancelled), and cancelling a pending request (supervisors and technicians).
import { useEffect, useState } from 'preact/hooks';
import { api, fmtTime, get, type Session } from './api.js';
import { ActionButton, Card, Notice, errorText } from './ui.js';
import { fmtNumber, t } from '../../i18n/i18n.js';

/** The figures of GET /api/v1/acd/callbacks/kpis the page shows, in order: offers, how they ended, requests. */
export const CALLBACK_FIGURES = ['offered', 'accepted', 'hungUp', 'noAnswer', 'completed', 'failed', 'cancelled', 'pending'] as const;

export function CallbacksScreen({ session }: { session: Session }) {
  const [list, setList] = useState<any[] | null>(null);
  const [kpis, setKpis] = useState<Record<string, number> | null>(null);
  const [error, setError] = useState('');
  const canCancel = session.role === 'technician' || session.role === 'supervisor';
  const refresh = async () => {
    try {
      const [l, k] = await Promise.all([get('/api/v1/acd/callbacks?limit=200'), get('/api/v1/acd/callbacks/kpis')]);
      setList(l.callbacks);
      setKpis(k);
      setError('');
    } catch (err) {
      setError(errorText(err));
    }
  };
  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), 5000);
    return () => clearInterval(timer);
  }, []);
  const cancel = async (id: string) => {
    try {
      await api('DELETE', `/api/v1/acd/callbacks/${encodeURIComponent(id)}`);
    } catch (err) {
      setError(errorText(err));
    }
    await refresh();
  };
  return (
    <main data-testid="callbacks">
      <Card title={t('callbacks:kpisTitle')} testId="callback-kpis">
        {kpis === null ? (
          <p>{t('common:loading')}</p>
        ) : (
          <div class="row">
            {CALLBACK_FIGURES.map((f) => (
              <span key={f} class="figure" data-testid={`callback-kpi-${f}`}>
                <strong>{fmtNumber(kpis[f] ?? 0)}</strong> {t(`callbacks:figure.${f}`)}
              </span>
            ))}
          </div>
        )}
      </Card>
      <Card title={t('callbacks:listTitle')} testId="callback-list">
        {error ? <Notice kind="error">{error}</Notice> : null}
        {list?.length === 0 ? <p class="empty">{t('callbacks:none')}</p> : null}
        <table class="table">
          <thead>
            <tr>
              <th>{t('callbacks:askedAt')}</th>
              <th>{t('callbacks:group')}</th>
              <th>{t('callbacks:number')}</th>
              <th>{t('callbacks:state')}</th>
              <th>{t('callbacks:attempts')}</th>
              <th>{t('callbacks:nextAttempt')}</th>
              <th>{t('callbacks:reason')}</th>
              <th>
                <span class="sr-only">{t('callbacks:actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(list ?? []).map((c) => (
              <tr key={c.id} data-testid={`callback-${c.id}`}>
                <td>{fmtTime(c.requestedAt)}</td>
                <td>{c.groupId}</td>
                <td>{c.number}</td>
                <td data-testid={`callback-state-${c.id}`}>{t(`callbacks:stateOf.${c.state}`, { defaultValue: String(c.state) })}</td>
                <td>{fmtNumber(c.attempts)}</td>
                <td class="muted">{c.state === 'pending' ? fmtTime(c.nextAttemptAt) : ''}</td>
                <td class="muted">{c.reason ? t(`callbacks:reasonOf.${c.reason}`, { defaultValue: String(c.reason) }) : ''}</td>
                <td>
                  {canCancel && c.state === 'pending' ? (
                    <ActionButton kind="secondary" testId={`callback-cancel-${c.id}`} onClick={() => cancel(c.id)}>
                      {t('callbacks:cancel')}
                    </ActionButton>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
    </main>
  );
}
