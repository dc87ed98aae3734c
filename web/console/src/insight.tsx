/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call -- API JSON is validated and typed by the server; the screen reads it loosely. */
// Conversation insight on the console: a call's mood (GET /api/v1/calls/:id/mood: the voice's
// acoustic distress and the words' text distress as separate lines, and their combination), and the
// wallboard's contact-reasons tile (GET /api/v1/insight/summary: top reasons, rising reasons,
// repeat calls; supervisors and technicians only).
import { useEffect, useState } from 'preact/hooks';
import { get } from './api.js';
import { Card } from './ui.js';
import { fmtDuration, fmtNumber, t } from '../../i18n/i18n.js';

const SERIES = [
  { key: 'acoustic', colour: '#7c3aed', dash: '' },
  { key: 'text', colour: '#0891b2', dash: '4 3' },
  { key: 'combined', colour: '#dc2626', dash: '' },
] as const;

const trendText = (trend: string) => t(`insight:trend.${trend}`, { defaultValue: trend });

/** One speaker's distress lines over the call's utterances (0 = calm / neutral words, 1 = distressed). */
function MoodLines({ speaker }: { speaker: any }) {
  const w = 480;
  const h = 120;
  const points: any[] = speaker.points;
  const x = (i: number) => 30 + (i / Math.max(1, points.length - 1)) * (w - 40);
  const y = (v: number) => 10 + (1 - v) * (h - 20);
  return (
    <figure class="chart" data-testid={`mood-${speaker.speaker}`}>
      <figcaption>
        {t('insight:moodOf', { speaker: speaker.speaker })}{' '}
        {SERIES.map((s) => (
          <span key={s.key} class="tag" data-testid={`mood-trend-${s.key}`}>
            {t(`insight:series.${s.key}`)}: {trendText(speaker.trend[s.key])}
          </span>
        ))}
      </figcaption>
      <svg viewBox={`0 0 ${w} ${h + 20}`} role="img" aria-label={t('insight:moodOf', { speaker: speaker.speaker })}>
        <line x1="30" y1={y(0)} x2={w} y2={y(0)} stroke="#94a3b8" />
        <text x="26" y={y(1) + 4} text-anchor="end" class="axis">
          1
        </text>
        <text x="26" y={y(0) + 4} text-anchor="end" class="axis">
          0
        </text>
        {SERIES.map((s) => {
          const pts = points.map((p, i) => (p[s.key] === null ? null : `${x(i)},${y(p[s.key])}`)).filter((p) => p !== null);
          return pts.length > 1 ? (
            <polyline key={s.key} points={pts.join(' ')} fill="none" stroke={s.colour} stroke-width="2" stroke-dasharray={s.dash} />
          ) : null;
        })}
        {points.map((p, i) => (
          <circle key={p.utteranceId} cx={x(i)} cy={y(p.combined ?? 0)} r="3" fill="#dc2626">
            <title>
              {t('insight:pointTitle', {
                at: fmtDuration(p.startMs),
                emotion: p.emotion ?? '—',
                sentiment: p.sentimentLabel ? t(`insight:sentiment.${p.sentimentLabel}`, { defaultValue: p.sentimentLabel }) : '—',
                combined: p.combined === null ? '—' : fmtNumber(p.combined, 2),
              })}
            </title>
          </circle>
        ))}
      </svg>
      <p class="muted">
        {SERIES.map((s) => (
          <span key={s.key} style={{ color: s.colour, marginRight: '1em' }}>
            {t(`insight:series.${s.key}`)}
          </span>
        ))}
      </p>
    </figure>
  );
}

/** The call detail's mood card: voice and words apart, and combined (how: the card's note). */
export function CallMood({ callId }: { callId: string }) {
  const [mood, setMood] = useState<any>(null);
  useEffect(() => void get(`/api/v1/calls/${encodeURIComponent(callId)}/mood`).then(setMood, () => setMood(null)), [callId]);
  if (!mood) return null;
  return (
    <Card title={t('insight:moodTitle')} testId="call-mood">
      {mood.speakers.length === 0 ? <p class="empty">{t('insight:noMood')}</p> : null}
      {mood.speakers.map((s: any) => (
        <MoodLines key={s.speaker} speaker={s} />
      ))}
      <p class="muted">
        {t('insight:moodMethod', { acoustic: fmtNumber(mood.method.acousticWeight, 1), text: fmtNumber(mood.method.textWeight, 1) })}
      </p>
    </Card>
  );
}

/** The wallboard tile: top contact reasons (24 h), rising ones now, repeat calls (24 h). */
export function ContactReasonsTile() {
  const [s, setS] = useState<any>(null);
  useEffect(() => {
    const load = () => void get('/api/v1/insight/summary').then(setS, () => setS(null));
    load();
    const timer = window.setInterval(load, 60_000);
    return () => window.clearInterval(timer);
  }, []);
  if (!s) return null;
  return (
    <div class="wb-reasons-tile" data-testid="wb-contact-reasons">
      <h2>{t('insight:reasonsTitle')}</h2>
      {s.rising.length > 0 ? (
        <p class="wb-tile wb-red" data-testid="wb-rising">
          {s.rising
            .map((r: any) => t('insight:risingLine', { intent: r.intent, count: r.count, expected: fmtNumber(r.expected, 1) }))
            .join(' · ')}
        </p>
      ) : (
        <p class="muted">{t('insight:noneRising')}</p>
      )}
      <ol>
        {s.top.map((r: any) => (
          <li key={r.intent}>{t('insight:reasonCalls', { intent: r.intent, calls: r.calls })}</li>
        ))}
      </ol>
      <p data-testid="wb-repeats">
        {t('insight:repeatLine', { repeats: s.repeats.repeatCalls, calls: s.repeats.calls, days: s.repeats.days })}
      </p>
    </div>
  );
}
