// Agent-assist cards in the console: the knowledge and next-best-action cards pushed to a call's
// agent (assist.cards events, GET /api/v1/calls/:id/cards) with the feedback on each. The live view
// lists them per call (supervisors mark them useful or not); call detail lists the stored ones.
import { useEffect, useState } from 'preact/hooks';
import { fmtTime, get, post } from './api.js';
import { ActionButton, Card, Notice, errorText } from './ui.js';
import { emotionText } from './labels.js';
import { fmtNumber, t } from '../../i18n/i18n.js';
import type { CardVerdict, LiveCard, StoredCard } from './assistCardsModel.js';

/** GET the call's stored cards. */
export async function loadCards(callId: string): Promise<StoredCard[]> {
  const r = await get<{ cards: StoredCard[] }>(`/api/v1/calls/${encodeURIComponent(callId)}/cards`);
  return r.cards;
}

/** "Useful, by ann" / "Not useful, by ann" / "No feedback yet". */
function feedbackText(feedback: CardVerdict | null, by: string | null): string {
  if (feedback === null) return t('cards:noFeedback');
  return t(`cards:verdictBy.${feedback}`, { by: by ?? '—' });
}

function kindTag(kind: LiveCard['kind']) {
  return (
    <span class={`tag card-kind-${kind}`} data-testid="assist-card-kind" data-kind={kind}>
      {t(`cards:kind.${kind}`)}
    </span>
  );
}

function pickedFor(intent: string | null, emotion: string | null): string {
  if (intent && emotion) return t('cards:pickedForBoth', { intent, emotion: emotionText(emotion) });
  if (intent) return t('cards:pickedForIntent', { intent });
  if (emotion) return t('cards:pickedForEmotion', { emotion: emotionText(emotion) });
  return '';
}

/**
 * One call's cards in the live view; `canRate` (supervisor and up) adds the Useful / Not useful
 * buttons, whose answer `onRated` applies at once (the assist.feedback event follows).
 */
export function LiveCards(props: {
  callId: string;
  cards: LiveCard[];
  canRate: boolean;
  onRated: (cardId: string, feedback: CardVerdict, by: string) => void;
}) {
  const [error, setError] = useState('');
  if (props.cards.length === 0) return null;
  const rate = async (cardId: string, useful: boolean) => {
    setError('');
    try {
      const r = await post<{ feedback: CardVerdict; feedbackBy: string | null }>(
        `/api/v1/calls/${encodeURIComponent(props.callId)}/cards/${encodeURIComponent(cardId)}/feedback`,
        { useful },
      );
      props.onRated(cardId, r.feedback, r.feedbackBy ?? '');
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <div class="assist-cards" data-testid="assist-cards">
      <h3>{t('cards:title')}</h3>
      {error ? <Notice kind="error">{error}</Notice> : null}
      <ol>
        {props.cards.map((c) => (
          <li key={c.cardId} class={`assist-card ${c.kind}`} data-testid="assist-card" data-card-id={c.cardId}>
            <div>
              <b data-testid="assist-card-title" translate={false}>
                {c.title}
              </b>
              {kindTag(c.kind)}
              <span class="muted"> {pickedFor(c.intent, c.emotion)}</span>
            </div>
            {c.snippet ? (
              <p class="snippet" translate={false}>
                {c.snippet}
              </p>
            ) : null}
            {c.steps.length > 0 ? (
              <ol class="card-steps" translate={false}>
                {c.steps.map((s, i) => (
                  <li key={i}>{s}</li>
                ))}
              </ol>
            ) : null}
            <div class="row">
              <span class="muted" data-testid="assist-card-feedback" data-feedback={c.feedback ?? ''}>
                {feedbackText(c.feedback, c.feedbackBy)}
              </span>
              {props.canRate ? (
                <>
                  <ActionButton
                    kind="secondary"
                    testId="assist-card-useful"
                    disabled={c.feedback === 'useful'}
                    onClick={() => rate(c.cardId, true)}
                  >
                    {t('cards:useful')}
                  </ActionButton>
                  <ActionButton
                    kind="secondary"
                    testId="assist-card-not-useful"
                    disabled={c.feedback === 'not_useful'}
                    onClick={() => rate(c.cardId, false)}
                  >
                    {t('cards:notUseful')}
                  </ActionButton>
                </>
              ) : null}
            </div>
          </li>
        ))}
      </ol>
    </div>
  );
}

/** Call detail's "Cards" section: the stored cards in order with rank, when shown, latency and feedback. */
export function CallCardsCard({ callId }: { callId: string }) {
  const [cards, setCards] = useState<StoredCard[] | null>(null);
  const [error, setError] = useState('');
  useEffect(() => void loadCards(callId).then(setCards, (e) => setError(errorText(e))), [callId]);
  return (
    <Card title={t('cards:title')} testId="call-cards">
      {error ? <Notice kind="error">{error}</Notice> : null}
      {cards === null && !error ? <p>{t('common:loading')}</p> : null}
      {cards?.length === 0 ? <p class="empty">{t('cards:none')}</p> : null}
      {cards && cards.length > 0 ? (
        <table class="table">
          <thead>
            <tr>
              <th>{t('cards:rank')}</th>
              <th>{t('cards:card')}</th>
              <th>{t('cards:shownAt')}</th>
              <th>{t('cards:latency')}</th>
              <th>{t('cards:feedback')}</th>
            </tr>
          </thead>
          <tbody>
            {cards.map((c) => (
              <tr key={c.cardId} data-testid="call-card" data-card-id={c.cardId}>
                <td>{fmtNumber(c.rank + 1)}</td>
                <td>
                  <span translate={false}>{c.title}</span>
                  {kindTag(c.kind)}
                  <div class="muted">{pickedFor(c.intent, c.emotion)}</div>
                </td>
                <td>{fmtTime(c.shownAt)}</td>
                <td data-testid="call-card-latency">{t('cards:latencyMs', { ms: fmtNumber(c.latencyMs) })}</td>
                <td data-testid="call-card-feedback" data-feedback={c.feedback ?? ''}>
                  {feedbackText(c.feedback, c.feedbackBy)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Card>
  );
}
