/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument -- API JSON is validated and typed by the server; the screens read it loosely. */
// E-mail cases: the open cases (subject and text redacted by the server, never the customer's
// address), one case's messages, and a reply sent through the box's relay (supervisors and
// technicians; replying takes a waiting case).
import { useEffect, useState } from 'preact/hooks';
import { api, fmtTime, get, type Session } from './api.js';
import { ActionButton, Card, Notice, errorText } from './ui.js';
import { t } from '../../i18n/i18n.js';

export function EmailCasesScreen({ session }: { session: Session }) {
  const [list, setList] = useState<any[] | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [detail, setDetail] = useState<any>(null);
  const [text, setText] = useState('');
  const [error, setError] = useState('');
  const canReply = session.role === 'technician' || session.role === 'supervisor';
  const refresh = async () => {
    try {
      setList((await get('/api/v1/email/cases?limit=200')).cases);
      if (open !== null) setDetail(await get(`/api/v1/email/cases/${encodeURIComponent(open)}`));
      setError('');
    } catch (err) {
      setError(errorText(err));
    }
  };
  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), 5000);
    return () => clearInterval(timer);
  }, [open]);
  const reply = async () => {
    if (open === null || text.trim() === '') return;
    try {
      await api('POST', `/api/v1/email/cases/${encodeURIComponent(open)}/reply`, { text });
      setText('');
    } catch (err) {
      setError(errorText(err));
    }
    await refresh();
  };
  const closeCase = async () => {
    if (open === null) return;
    try {
      await api('POST', `/api/v1/email/cases/${encodeURIComponent(open)}/close`);
    } catch (err) {
      setError(errorText(err));
    }
    await refresh();
  };
  return (
    <main data-testid="email-cases">
      <Card title={t('email:listTitle')} testId="email-case-list">
        {error ? <Notice kind="error">{error}</Notice> : null}
        {list?.length === 0 ? <p class="empty">{t('email:none')}</p> : null}
        <table class="table">
          <thead>
            <tr>
              <th>{t('email:updatedAt')}</th>
              <th>{t('email:subject')}</th>
              <th>{t('email:mailbox')}</th>
              <th>{t('email:group')}</th>
              <th>{t('email:state')}</th>
            </tr>
          </thead>
          <tbody>
            {(list ?? []).map((c) => (
              <tr key={c.id} data-testid={`email-case-${c.id}`} class={c.id === open ? 'selected' : ''} onClick={() => setOpen(c.id)}>
                <td>{fmtTime(c.updatedAt)}</td>
                <td>
                  <a href="#/email" onClick={() => setOpen(c.id)}>
                    {c.subject ?? t('email:noSubject')}
                  </a>
                </td>
                <td class="muted">{c.mailbox}</td>
                <td>{c.groupId ?? ''}</td>
                <td>{t(`email:stateOf.${c.state}`, { defaultValue: String(c.state) })}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
      {detail !== null && open !== null ? (
        <Card title={detail.case.subject ?? t('email:noSubject')} testId="email-case">
          <ol class="messages">
            {(detail.messages as any[]).map((m) => (
              <li key={m.seq} class={m.sender} data-testid={`email-message-${m.seq}`}>
                <span class="muted">
                  {fmtTime(m.at)} ·{' '}
                  {m.sender === 'agent' ? t('email:fromAgent', { agent: String(m.agentId ?? '') }) : t('email:fromCustomer')}
                </span>
                <pre class="mail-text">{m.text}</pre>
              </li>
            ))}
          </ol>
          {canReply && detail.case.state !== 'closed' ? (
            <div class="reply">
              <label>
                {t('email:reply')}
                <textarea
                  data-testid="email-reply-text"
                  rows={6}
                  value={text}
                  onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
                />
              </label>
              <ActionButton testId="email-reply-send" onClick={reply}>
                {t('email:send')}
              </ActionButton>
              <ActionButton kind="secondary" testId="email-close" onClick={closeCase}>
                {t('email:close')}
              </ActionButton>
            </div>
          ) : null}
        </Card>
      ) : null}
    </main>
  );
}
