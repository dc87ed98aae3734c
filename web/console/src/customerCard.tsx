// The caller's customer on the call detail page: their open chats and e-mail cases first, then the
// earlier calls, chats and cases (newest first), the churn risk over all channels, and attaching a
// chat or e-mail case to this customer (undone with Undo). From the call's screen-pop.
import { useEffect, useState } from 'preact/hooks';
import { fmtTime, get, post } from './api.js';
import { Card, errorText } from './ui.js';
import { fmtPercent, t } from '../../i18n/i18n.js';

interface Entry {
  channel: 'call' | 'chat' | 'email';
  id: string;
  at: number;
  state: string;
  intent: string | null;
  mood: string | null;
  summary: string | null;
  linkedBy: 'network' | 'token' | 'agent';
}
interface Pop {
  caller: { churnRisk: number; tags: string[] };
  customer: { id: string; openCases: Entry[]; timeline: Entry[] } | null;
}

function Row({ e }: { e: Entry }) {
  return (
    <li data-testid={`customer-${e.channel}`} data-id={e.id}>
      <span class="tag">{t(`customer:channelOf.${e.channel}`)}</span> {fmtTime(e.at)}{' '}
      {e.intent ? <span class="tag">{e.intent}</span> : null} {e.mood ? <span class="tag">{e.mood}</span> : null}{' '}
      <span class="muted">{t(`customer:linkedByOf.${e.linkedBy}`)}</span>
      {e.summary ? <div>{e.summary}</div> : null}
    </li>
  );
}

export function CustomerCard({ callId }: { callId: string }) {
  const [pop, setPop] = useState<Pop | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [conversationId, setConversationId] = useState('');
  const [mergeId, setMergeId] = useState<number | null>(null);
  const load = () => void get<Pop>(`/api/v1/calls/${encodeURIComponent(callId)}/screen-pop`).then(setPop, (e) => setError(errorText(e)));
  useEffect(load, [callId]);
  if (error !== null) return <Card title={t('customer:title')}>{error}</Card>;
  if (pop === null) return null;
  const c = pop.customer;
  if (c === null)
    return (
      <Card title={t('customer:title')} testId="customer">
        <p class="empty">{t('customer:none')}</p>
      </Card>
    );
  const attach = () =>
    void post<{ id: number }>('/api/v1/customers/merge', { into: c.id, conversationId: conversationId.trim() }).then(
      (m) => (setMergeId(m.id), setConversationId(''), load()),
      (e) => setError(errorText(e)),
    );
  const undo = () =>
    void post('/api/v1/customers/unmerge', { mergeId }).then(
      () => (setMergeId(null), load()),
      (e) => setError(errorText(e)),
    );
  return (
    <Card title={t('customer:title')} testId="customer">
      <p>
        {t('customer:churnRisk')}: <b data-testid="customer-churn">{fmtPercent(pop.caller.churnRisk)}</b>{' '}
        {pop.caller.tags.map((tag) => (
          <span key={tag} class="tag">
            {tag}
          </span>
        ))}
      </p>
      {c.openCases.length > 0 ? (
        <>
          <h3>{t('customer:openCases')}</h3>
          <ul data-testid="customer-open">
            {c.openCases.map((e) => (
              <Row key={e.id} e={e} />
            ))}
          </ul>
        </>
      ) : null}
      <h3>{t('customer:timeline')}</h3>
      {c.timeline.length === 0 ? <p class="empty">{t('customer:noContacts')}</p> : null}
      <ul data-testid="customer-timeline">
        {c.timeline.map((e) => (
          <Row key={e.id} e={e} />
        ))}
      </ul>
      <label>
        {t('customer:attach')}{' '}
        <input
          value={conversationId}
          placeholder={t('customer:attachPlaceholder')}
          maxLength={64}
          onInput={(ev) => setConversationId((ev.target as HTMLInputElement).value)}
        />
      </label>{' '}
      <button type="button" disabled={conversationId.trim() === ''} onClick={attach}>
        {t('customer:attachButton')}
      </button>
      {mergeId !== null ? (
        <p>
          {t('customer:attached', { id: mergeId })}{' '}
          <button type="button" onClick={undo}>
            {t('customer:undo')}
          </button>
        </p>
      ) : null}
    </Card>
  );
}
