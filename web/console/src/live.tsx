/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return -- API JSON is validated and typed by the server; the screens read it loosely. */
// Live operations: active calls with streaming transcripts (WebSocket /api/v1/events), intent and
// emotion per call, alerts as they fire, and charts of the last 24 hours.
import { useEffect, useRef, useState } from 'preact/hooks';
import { fmtDuration, get, type Session } from './api.js';
import { BarChart, Donut, HBarChart, Sparkline } from './charts.js';
import { Card, Notice } from './ui.js';
import { currentLanguage, fmtNumber, t } from '../../i18n/i18n.js';
import { LANGUAGE_FILTERS, agentStateText, emotionText, endReasonText, languageFilterText, languageText } from './labels.js';
import { AlertsSummary } from './alerts.js';
import { LiveCards, loadCards } from './assistCards.js';
import { addPushedCards, addStoredCards, setCardFeedback, type LiveCard } from './assistCardsModel.js';

interface Line {
  key: string;
  speaker: string;
  text: string;
  final: boolean;
}

interface LiveCall {
  id: string;
  source: string;
  startedAt: number;
  answered: boolean;
  legs: Record<string, string>;
  lines: Line[];
  partials: Record<string, string>;
  intent: string | null;
  emotion: string | null;
  valence: number[];
  /** Text sentiment (VADER compound, -1..1) of the call's English finals, apart from the voice's valence. */
  sentiment: number[];
  route: string | null;
  endedAt: number | null;
  endReason: string | null;
  /** The language spoken (null: auto, not decided yet), and what the call asked for. */
  language: string | null;
  languageChoice: string | null;
  /** Agent-assist cards pushed so far (and, for a call in progress when the page opened, the stored ones). */
  cards: LiveCard[];
}

export function Live({ session }: { session: Session }) {
  const canRateCards = session.role === 'supervisor' || session.role === 'technician';
  const [calls, setCalls] = useState<Record<string, LiveCall>>({});
  const [stats, setStats] = useState<any>(null);
  const [connected, setConnected] = useState(false);
  const [now, setNow] = useState(Date.now());
  const statsTimer = useRef<number | null>(null);
  /** Calls whose stored cards were asked for (once per call, when the page first sees it). */
  const cardsLoaded = useRef(new Set<string>());
  /** Change a known call's cards (a call the page no longer lists is left alone). */
  const updateCards = (id: string, fn: (cards: LiveCard[]) => LiveCard[]) =>
    setCalls((cs) => {
      const c = cs[id];
      return c ? { ...cs, [id]: { ...c, cards: fn(c.cards) } } : cs;
    });

  const [routing, setRouting] = useState<{ agents: any[]; queues: any[] } | null>(null);
  /** Show only calls in this language ('' = all). */
  const [language, setLanguage] = useState('');
  const loadStats = () => void get('/api/v1/console/stats?hours=24').then(setStats, () => {});
  // Queue and agent states come from the routing engine when it is mounted (404 otherwise).
  const loadRouting = () =>
    void Promise.all([get('/api/v1/routing/agents'), get('/api/v1/routing/queues')]).then(
      ([a, q]) => setRouting({ agents: a.agents, queues: q.queues }),
      () => setRouting(null),
    );

  useEffect(() => {
    let ws: WebSocket | null = null;
    let closed = false;
    let retry: number | undefined;
    // A call the page first sees may be in progress: its earlier cards come from the store.
    const storedCards = (id: string) => {
      if (cardsLoaded.current.has(id)) return;
      cardsLoaded.current.add(id);
      void loadCards(id).then(
        (stored) => {
          if (stored.length > 0) updateCards(id, (cards) => addStoredCards(cards, stored));
        },
        () => {},
      );
    };
    const upd = (id: string, fn: (c: LiveCall) => LiveCall) => {
      storedCards(id);
      setCalls((cs) => {
        const c = cs[id] ?? {
          id,
          source: '?',
          startedAt: Date.now(),
          answered: false,
          legs: {},
          lines: [],
          partials: {},
          intent: null,
          emotion: null,
          valence: [],
          sentiment: [],
          route: null,
          endedAt: null,
          endReason: null,
          language: null,
          languageChoice: null,
          cards: [],
        };
        return { ...cs, [id]: fn(c) };
      });
    };
    const connect = () => {
      ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/events`);
      ws.onopen = () => {
        setConnected(true);
        // The snapshot after connecting: events from here on are applied on top of it.
        void get('/api/v1/console/live').then((snap) => {
          setCalls((cs) => {
            const out = { ...cs };
            for (const c of snap.calls) {
              out[c.id] = {
                ...(out[c.id] ?? {
                  lines: [],
                  partials: {},
                  intent: null,
                  emotion: null,
                  valence: [],
                  sentiment: [],
                  route: null,
                  endedAt: null,
                  endReason: null,
                  cards: [],
                }),
                id: c.id,
                source: c.source,
                language: c.language ?? null,
                languageChoice: c.languageChoice ?? null,
                startedAt: c.startedAt,
                answered: true,
                legs: Object.fromEntries(c.legs.map((l: any) => [l.id, l.label])),
                lines: out[c.id]?.lines.length
                  ? out[c.id]!.lines
                  : c.utterances.map((u: any) => ({ key: `u${u.id}`, speaker: u.speaker, text: u.text, final: true })),
              };
            }
            return out;
          });
          for (const c of snap.calls) storedCards(c.id);
        });
      };
      ws.onclose = () => {
        setConnected(false);
        if (!closed) retry = window.setTimeout(connect, 2000);
      };
      ws.onmessage = (m) => {
        const e = JSON.parse(m.data as string);
        switch (e.type) {
          case 'call.started':
            upd(e.callId, (c) => ({
              ...c,
              source: e.source,
              startedAt: e.at,
              languageChoice: e.language ?? 'en',
              language: e.language === 'auto' ? null : (e.language ?? 'en'),
            }));
            loadStats();
            break;
          case 'call.language':
            upd(e.callId, (c) => ({ ...c, language: e.language }));
            break;
          case 'call.answered':
            upd(e.callId, (c) => ({ ...c, answered: true }));
            break;
          case 'call.leg.added':
            upd(e.callId, (c) => ({ ...c, legs: { ...c.legs, [e.legId]: e.label } }));
            break;
          case 'asr.partial':
            upd(e.callId, (c) => ({ ...c, partials: { ...c.partials, [e.legId]: e.text } }));
            break;
          case 'asr.final':
            upd(e.callId, (c) => ({
              ...c,
              partials: { ...c.partials, [e.legId]: '' },
              lines: [...c.lines, { key: `f${e.utteranceId ?? e.at}-${e.legId}`, speaker: e.speaker, text: e.text, final: true }].slice(
                -50,
              ),
            }));
            break;
          case 'call.ended':
            upd(e.callId, (c) => ({ ...c, endedAt: e.at, endReason: e.reason }));
            window.setTimeout(() => setCalls((cs) => Object.fromEntries(Object.entries(cs).filter(([k]) => k !== e.callId))), 30_000);
            loadStats();
            break;
          case 'intent':
            upd(e.callId, (c) => ({ ...c, intent: e.outOfScope || e.intent === null ? t('live:outOfScope') : String(e.intent) }));
            break;
          case 'emotion':
            upd(e.callId, (c) => ({
              ...c,
              emotion: emotionText(e.category, e.trend),
              valence: [...c.valence, Number(e.valence ?? 0)].slice(-30),
            }));
            break;
          case 'analysis':
            if (e.name === 'sentiment' && typeof e.result?.compound === 'number')
              upd(e.callId, (c) => ({ ...c, sentiment: [...c.sentiment, Number(e.result.compound)].slice(-30) }));
            break;
          case 'route.decision':
            upd(e.callId, (c) => ({
              ...c,
              route: t(e.agentId ? 'live:routeToAgent' : e.groupId ? 'live:routeToGroup' : 'live:routeAction', {
                action: t(`live:action.${e.action}`, { defaultValue: String(e.action) }),
                group: e.groupId ?? '',
                agent: e.agentId ?? '',
                summary: e.summary,
              }),
            }));
            loadRouting();
            break;
          case 'route.transfer':
            loadRouting();
            break;
          case 'assist.cards':
            upd(e.callId, (c) => ({ ...c, cards: addPushedCards(c.cards, e.cards) }));
            break;
          case 'assist.feedback':
            upd(e.callId, (c) => ({ ...c, cards: setCardFeedback(c.cards, e.cardId, e.useful ? 'useful' : 'not_useful', e.by) }));
            break;
          case 'alert':
          case 'alert.updated':
            // the alerts summary (alerts.tsx) recounts
            window.dispatchEvent(new Event('evx-alert-event'));
            break;
        }
      };
    };
    connect();
    loadStats();
    loadRouting();
    const routingTimer = window.setInterval(loadRouting, 5000);
    statsTimer.current = window.setInterval(loadStats, 30_000);
    const tick = window.setInterval(() => setNow(Date.now()), 1000);
    return () => {
      closed = true;
      ws?.close();
      window.clearTimeout(retry);
      window.clearInterval(statsTimer.current ?? undefined);
      window.clearInterval(tick);
      window.clearInterval(routingTimer);
    };
  }, []);

  const list = Object.values(calls)
    .filter((c) => language === '' || c.language === language)
    .sort((a, b) => b.startedAt - a.startedAt);
  const active = Object.values(calls).filter((c) => c.endedAt === null);
  return (
    <div class="live" data-testid="live">
      <div class="toolbar">
        <h1>{t('live:title')}</h1>
        <span class={`dot ${connected ? 'on' : 'off'}`} data-testid="live-connection">
          {connected ? t('live:connected') : t('live:reconnecting')}
        </span>
        <span data-testid="active-count">{t('live:activeCount', { count: fmtNumber(active.length) })}</span>
        <select
          aria-label={t('common:speechLanguage.filter')}
          data-testid="live-language"
          value={language}
          onChange={(e) => setLanguage(e.currentTarget.value)}
        >
          {LANGUAGE_FILTERS.map((l) => (
            <option key={l} value={l}>
              {languageFilterText(l)}
            </option>
          ))}
        </select>
      </div>
      <div class="grid2">
        <Card title={t('live:calls')} testId="live-calls">
          {list.length === 0 ? <p class="empty">{t('live:noCalls')}</p> : null}
          {list.map((c) => (
            <article key={c.id} class={`call ${c.endedAt ? 'ended' : 'active'}`} data-testid="live-call" data-call-id={c.id}>
              <header>
                <a href={`#/history/${encodeURIComponent(c.id)}`}>
                  <code>{c.id.slice(0, 8)}</code>
                </a>
                <span>{c.source}</span>
                <span class="tag" data-testid="live-call-language" data-language={c.language ?? ''}>
                  {t('live:languageTag', { language: languageText(c.language, c.languageChoice) })}
                </span>
                <span>
                  {c.endedAt
                    ? t('live:endedAfter', { reason: endReasonText(c.endReason), duration: fmtDuration(c.endedAt - c.startedAt) })
                    : fmtDuration(now - c.startedAt)}
                </span>
                {c.intent ? <span class="tag">{t('live:intentTag', { intent: c.intent })}</span> : null}
                {c.emotion ? <span class="tag">{t('live:emotionTag', { emotion: c.emotion })}</span> : null}
                {c.valence.length > 1 ? <Sparkline values={c.valence} min={-1} max={1} label={t('live:valenceTrend')} /> : null}
                {c.sentiment.length > 1 ? (
                  <span class="spark-sentiment" title={t('insight:sentimentTrend')} data-testid="live-sentiment">
                    <Sparkline values={c.sentiment} min={-1} max={1} label={t('insight:sentimentTrend')} />
                  </span>
                ) : null}
              </header>
              {c.route ? <p class="route">{t('live:routeLine', { route: c.route })}</p> : null}
              <div class="transcript" data-testid="live-transcript">
                {c.lines.map((l) => (
                  <p key={l.key}>
                    <b>{l.speaker}:</b> {l.text}
                  </p>
                ))}
                {Object.entries(c.partials)
                  .filter(([, text]) => text)
                  .map(([leg, text]) => (
                    <p key={`p-${leg}`} class="partial">
                      <b>{c.legs[leg] ?? t('live:caller')}:</b> {text}…
                    </p>
                  ))}
              </div>
              <LiveCards
                callId={c.id}
                cards={c.cards}
                canRate={canRateCards}
                onRated={(cardId, feedback, by) => updateCards(c.id, (cards) => setCardFeedback(cards, cardId, feedback, by))}
              />
            </article>
          ))}
        </Card>
        <Card title={t('live:alerts')} testId="alerts">
          <AlertsSummary />
          <h3>{t('live:queuesAndAgents')}</h3>
          {routing === null ? (
            <p class="muted">{t('live:noRoutingEngine')}</p>
          ) : (
            <div data-testid="routing-state">
              {routing.agents.length === 0 && routing.queues.length === 0 ? (
                <p class="muted">
                  {t('live:noRoutingBefore')}
                  <a href="#/agents">{t('nav:agents')}</a>
                  {t('live:noRoutingAfter')}
                </p>
              ) : null}
              <ul class="alerts">
                {routing.queues.map((q: any) => (
                  <li key={q.groupId}>
                    <b>{q.groupId}</b>:{' '}
                    {q.calls.length
                      ? t('live:queueWaitingLongest', {
                          count: fmtNumber(q.calls.length),
                          longest: fmtDuration(Math.max(...q.calls.map((c: any) => c.waitMs))),
                        })
                      : t('live:queueWaiting', { count: fmtNumber(0) })}
                  </li>
                ))}
              </ul>
              <div class="kv">
                {routing.agents.map((a: any) => (
                  <span key={a.id} class="tag">
                    {a.name}: {a.activity ? agentStateText(a.activity.state, a.activity.reason) : agentStateText(a.state)}
                  </span>
                ))}
              </div>
            </div>
          )}
        </Card>
      </div>
      {stats ? (
        <div class="charts" data-testid="charts">
          <BarChart testId="chart-calls-per-hour" title={t('live:chartCallsPerHour')} data={hours(stats.callsPerHour)} />
          <BarChart
            testId="chart-wait"
            title={t('live:chartTimeToAnswer')}
            data={stats.answerWait.map((w: any) => ({ label: waitBucket(w.bucket), value: w.calls }))}
          />
          <Donut
            testId="chart-emotion"
            title={t('live:chartEmotionMix')}
            data={stats.emotionMix.map((e: any) => ({ label: emotionText(e.label), value: e.utterances }))}
          />
          <Donut
            testId="chart-languages"
            title={t('live:chartLanguages')}
            data={(stats.callsByLanguage ?? []).map((r: any) => ({
              label: r.language === 'undecided' ? t('common:speechLanguage.undecided') : languageText(r.language),
              value: r.calls,
            }))}
          />
          <HBarChart
            testId="chart-intents"
            title={t('live:chartTopIntents')}
            data={stats.topIntents.map((e: any) => ({ label: e.label, value: e.utterances }))}
          />
        </div>
      ) : (
        <Notice>{t('live:loadingCharts')}</Notice>
      )}
    </div>
  );
}

function hours(rows: { hourStartMs: number; calls: number }[]): { label: string; value: number }[] {
  const byHour = new Map(rows.map((r) => [r.hourStartMs, r.calls]));
  const end = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  const out = [];
  const hour = new Intl.DateTimeFormat(currentLanguage(), { hour: 'numeric' });
  for (let at = end - 23 * 3_600_000; at <= end; at += 3_600_000) out.push({ label: hour.format(at), value: byHour.get(at) ?? 0 });
  return out;
}

/** The server's answer-time buckets ('< 1 s', '1-3 s', '> 60 s') in the page's language. */
function waitBucket(bucket: string): string {
  const m = /^([<>])?\s*(\d+)(?:-(\d+))?\s*s$/.exec(bucket);
  if (!m) return bucket;
  const [, sign, a, b] = m;
  if (sign === '<') return t('live:bucketUnder', { s: fmtNumber(Number(a)) });
  if (sign === '>') return t('live:bucketOver', { s: fmtNumber(Number(a)) });
  return t('live:bucketRange', { from: fmtNumber(Number(a)), to: fmtNumber(Number(b)) });
}
