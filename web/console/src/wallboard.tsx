/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call -- API JSON is validated and typed by the server; the screen reads it loosely. */
// Wallboard: the ACD's own KPIs (GET /api/v1/acd/kpis, then the `acd.kpis` events on
// /api/v1/events) as big tiles per skill group and overall, coloured against thresholds; the
// longest wait ticks locally between events. Emotion mix and top reasons of the last hour come from
// the call statistics the live page uses; agents and time in state from /api/v1/agents; for
// supervisors, the contact-reasons tile (top and rising reasons, repeat calls: insight.tsx).
import { useEffect, useState } from 'preact/hooks';
import { api, get, type Session } from './api.js';
import { Donut, HBarChart } from './charts.js';
import { ContactReasonsTile } from './insight.js';
import { Notice, errorText } from './ui.js';
import { fmtDuration, fmtNumber, fmtPercent, t } from '../../i18n/i18n.js';
import {
  abandonRate,
  channelTiles,
  levelOf,
  thresholdsFor,
  type ChannelFigures,
  type Level,
  type Threshold,
  type ThresholdsConfig,
  type WallboardMetric,
} from './wallboardModel.js';

/** The figures of one tile set (the `acd.kpis` event's shape; the REST snapshot is mapped to it). */
interface Figures {
  waiting: number;
  longestWaitingS: number | null;
  agents: Record<string, number>;
  answered: number;
  abandoned: number;
  serviceLevel: number | null;
  averageSpeedOfAnswerS: number | null;
  averageHandleTimeS: number | null;
}

interface Board {
  at: number;
  groups: Record<string, Figures>;
  overall: Figures;
}

function fromSnapshot(k: any): Figures {
  const i = k.currentInterval;
  return {
    waiting: k.waiting,
    longestWaitingS: k.longestWaitingS,
    agents: k.agents,
    answered: i.answered,
    abandoned: i.abandoned,
    serviceLevel: i.serviceLevel,
    averageSpeedOfAnswerS: i.averageSpeedOfAnswerS,
    averageHandleTimeS: i.averageHandleTimeS,
  };
}

/** The text channels' section (chat, e-mail): the `channels` of GET /api/v1/acd/kpis, polled. */
function ChannelSection({ channels, th }: { channels: Record<'chat' | 'email', ChannelFigures>; th: Record<WallboardMetric, Threshold> }) {
  const show = (key: string, v: number | null) =>
    v === null ? '—' : key === 'longestWaitingS' || key === 'firstResponseP95S' ? fmtDuration(v * 1000) : fmtNumber(v);
  return (
    <div data-testid="wb-channels">
      <h2>{t('wallboard:channels')}</h2>
      {(['chat', 'email'] as const).map((ch) => (
        <div key={ch} data-testid={`wb-channel-${ch}`}>
          <h3>{t(`wallboard:channel.${ch}`)}</h3>
          <div class="wb-tiles">
            {channelTiles(ch, channels[ch], th).map((tile) => (
              <Tile
                key={tile.key}
                testId={`wb-${ch}-${tile.key}`}
                label={t(`wallboard:channelTile.${tile.key}`)}
                value={show(tile.key, tile.value)}
                level={tile.level}
              />
            ))}
          </div>
        </div>
      ))}
    </div>
  );
}

const AGENT_STATES = ['available', 'ringing', 'on-call', 'wrap-up', 'away'] as const;
const SUPERVISION_MODES = ['listen', 'whisper', 'barge'] as const;
/** Where the supervisor's phone (their agent / extension id with a registered phone) is remembered. */
const PHONE_KEY = 'edgevox.wallboard.phone';

function Tile(props: { label: string; value: string; level: Level; testId: string }) {
  return (
    <div class={`wb-tile wb-${props.level}`} data-testid={props.testId} data-level={props.level}>
      <div class="wb-label">{props.label}</div>
      <div class="wb-value">{props.value}</div>
    </div>
  );
}

function Tiles({ name, f, at, now, th }: { name: string; f: Figures; at: number; now: number; th: Record<WallboardMetric, Threshold> }) {
  // The longest wait grows by the time since the figures were taken, while anyone waits.
  const longest = f.longestWaitingS === null ? null : f.longestWaitingS + Math.max(0, Math.floor((now - at) / 1000));
  const lvl = (m: WallboardMetric, v: number | null) => levelOf(v, th[m]);
  const abandoned = abandonRate(f.answered, f.abandoned);
  const id = (m: string) => `wb-${name}-${m}`;
  return (
    <div class="wb-tiles">
      <Tile testId={id('waiting')} label={t('wallboard:waiting')} value={fmtNumber(f.waiting)} level={lvl('waiting', f.waiting)} />
      <Tile
        testId={id('longest')}
        label={t('wallboard:longestWait')}
        value={longest === null ? '—' : fmtDuration(longest * 1000)}
        level={lvl('longestWaitingS', longest)}
      />
      <Tile
        testId={id('sl')}
        label={t('wallboard:serviceLevel')}
        value={fmtPercent(f.serviceLevel)}
        level={lvl('serviceLevel', f.serviceLevel)}
      />
      <Tile
        testId={id('asa')}
        label={t('wallboard:asa')}
        value={f.averageSpeedOfAnswerS === null ? '—' : fmtDuration(f.averageSpeedOfAnswerS * 1000)}
        level={lvl('averageSpeedOfAnswerS', f.averageSpeedOfAnswerS)}
      />
      <Tile testId={id('abandoned')} label={t('wallboard:abandoned')} value={fmtPercent(abandoned)} level={lvl('abandonRate', abandoned)} />
      <Tile
        testId={id('aht')}
        label={t('wallboard:aht')}
        value={f.averageHandleTimeS === null ? '—' : fmtDuration(f.averageHandleTimeS * 1000)}
        level={lvl('averageHandleTimeS', f.averageHandleTimeS)}
      />
      <div class="wb-tile wb-none wb-agents" data-testid={id('agents')}>
        <div class="wb-label">{t('wallboard:agents')}</div>
        <ul>
          {AGENT_STATES.map((s) => (
            <li key={s}>
              {t(`wallboard:state.${s}`)}: <strong data-testid={id(`agents-${s}`)}>{fmtNumber(f.agents[s] ?? 0)}</strong>
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}

/** The TV's last view: no group has this id (ids start with a letter or digit). */
const AGENTS_VIEW = '*agents';

/** Agents by state per skill group and overall (counts from the KPI figures; no names). */
function AgentsByState({ overall, groups }: { overall: Figures; groups: [string, Figures][] }) {
  const rows: [string, string, Figures][] = [
    ['overall', t('wallboard:overall'), overall],
    ...groups.map(([g, f]): [string, string, Figures] => [g, g, f]),
  ];
  return (
    <table class="wb-agent-table wb-agents-by-state" data-testid="wb-agents-by-state">
      <thead>
        <tr>
          <th>{t('wallboard:groupColumn')}</th>
          {AGENT_STATES.map((s) => (
            <th key={s}>{t(`wallboard:state.${s}`)}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map(([id, label, f]) => (
          <tr key={id} data-testid={`wb-agents-row-${id}`}>
            <td>{label}</td>
            {AGENT_STATES.map((s) => (
              <td key={s} data-testid={`wb-agents-row-${id}-${s}`}>
                {fmtNumber(f.agents[s] ?? 0)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** TV mode's options from the hash (`#/wallboard?tv=1&rotate=15`): full screen, one view at a time. */
export function tvOptions(hash: string): { tv: boolean; rotateS: number } {
  const q = new URLSearchParams(hash.split('?')[1] ?? '');
  const rotate = Number(q.get('rotate') ?? '15');
  return { tv: q.get('tv') === '1', rotateS: Number.isFinite(rotate) && rotate >= 5 ? Math.min(rotate, 600) : 15 };
}

export function Wallboard({ session, tv = false, rotateS = 15 }: { session: Session; tv?: boolean; rotateS?: number }) {
  const [board, setBoard] = useState<Board | null>(null);
  const [view, setView] = useState(0);
  const [error, setError] = useState('');
  const [now, setNow] = useState(Date.now());
  const [agents, setAgents] = useState<any[]>([]);
  const [stats, setStats] = useState<any>(null);
  const [limits, setLimits] = useState<ThresholdsConfig | null>(null);
  const [channels, setChannels] = useState<Record<'chat' | 'email', ChannelFigures> | null>(null);
  const [myPhone, setMyPhone] = useState(() => localStorage.getItem(PHONE_KEY) ?? '');
  const [supervision, setSupervision] = useState<{ ok: boolean; text: string } | null>(null);
  const supervisor = session.role === 'supervisor' || session.role === 'technician';
  // A wall TV's kiosk sign-in reads the figures and their colours only (the box refuses it the rest).
  const kiosk = session.role === 'kiosk';

  const loadAgents = () => {
    if (kiosk) return;
    void get('/api/v1/agents').then(
      (r) => setAgents(r.agents),
      () => setAgents([]),
    );
  };
  useEffect(() => {
    let ws: WebSocket | null = null;
    let closed = false;
    let retry: number | undefined;
    const load = () =>
      void get('/api/v1/acd/kpis').then(
        (s) => {
          setBoard({
            at: s.at,
            overall: fromSnapshot(s.overall),
            groups: Object.fromEntries(Object.entries(s.groups).map(([g, k]) => [g, fromSnapshot(k)])),
          });
          setChannels(s.channels?.channels ?? null);
          setError('');
        },
        (err) => setError(errorText(err)),
      );
    const connect = () => {
      const types = kiosk ? '?types=acd.kpis' : '';
      ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/events${types}`);
      // Events from here on are applied on top of the snapshot taken after connecting.
      ws.onopen = load;
      ws.onclose = () => {
        if (!closed) retry = window.setTimeout(connect, 2000);
      };
      ws.onmessage = (m) => {
        const e = JSON.parse(m.data as string);
        if (e.type === 'acd.kpis') setBoard({ at: e.at, groups: e.groups, overall: e.overall });
        else if (typeof e.type === 'string' && e.type.startsWith('agent.')) loadAgents();
      };
    };
    connect();
    loadAgents();
    if (!kiosk) void get('/api/v1/console/stats?hours=1').then(setStats, () => setStats(null));
    // the configured colours (acd.wallboard); the built-in defaults until they arrive or if refused
    void get('/api/v1/acd/wallboard/thresholds').then(setLimits, () => setLimits(null));
    const tick = window.setInterval(() => setNow(Date.now()), 1000);
    // the text channels have no event of their own: their figures are read from the store every 5 s
    const pollChannels = window.setInterval(
      () =>
        void get('/api/v1/acd/kpis').then(
          (s) => setChannels(s.channels?.channels ?? null),
          () => undefined,
        ),
      5000,
    );
    // TV mode: overall, then each group in turn.
    const rotate = tv ? window.setInterval(() => setView((v) => v + 1), rotateS * 1000) : undefined;
    return () => {
      closed = true;
      window.clearInterval(tick);
      window.clearInterval(pollChannels);
      if (rotate !== undefined) window.clearInterval(rotate);
      if (retry) window.clearTimeout(retry);
      ws?.close();
    };
  }, []);

  // Listen / whisper / barge: the box rings the supervisor's own registered phone into the call.
  const supervise = async (callId: string, mode: (typeof SUPERVISION_MODES)[number]) => {
    try {
      await api('POST', `/api/v1/acd/calls/${encodeURIComponent(callId)}/supervision`, { supervisorId: myPhone, mode });
      setSupervision({ ok: true, text: t('wallboard:supervisionRinging', { phone: myPhone }) });
    } catch (err) {
      setSupervision({ ok: false, text: errorText(err) });
    }
  };

  const setState = async (agentId: string, state: string) => {
    try {
      await api('PUT', `/api/v1/agents/${encodeURIComponent(agentId)}/state`, { state });
      loadAgents();
    } catch (err) {
      setError(errorText(err));
    }
  };

  if (tv) {
    const groups = board ? Object.entries(board.groups).sort(([a], [b]) => a.localeCompare(b)) : [];
    // overall, each skill group, then the agents by state of every group
    const views: [string, Figures | null][] = board ? [['overall', board.overall], ...groups, [AGENTS_VIEW, null]] : [];
    const current = views.length ? views[view % views.length] : undefined;
    return (
      <section class="wallboard wb-tv" data-testid="wallboard-tv">
        {error ? <Notice kind="error">{error}</Notice> : null}
        {current === undefined || board === null ? (
          <p class="muted">{t('wallboard:loading')}</p>
        ) : (
          <>
            <h1 data-testid="wb-tv-view">
              {current[0] === 'overall'
                ? t('wallboard:overall')
                : current[1] === null
                  ? t('wallboard:agentsByState')
                  : t('wallboard:group', { group: current[0] })}
            </h1>
            {current[1] === null ? (
              <AgentsByState overall={board.overall} groups={groups} />
            ) : (
              <Tiles name={current[0]} f={current[1]} at={board.at} now={now} th={thresholdsFor(limits, current[0])} />
            )}
          </>
        )}
      </section>
    );
  }

  return (
    <section class="wallboard" data-testid="wallboard">
      <h1>{t('wallboard:title')}</h1>
      {error ? <Notice kind="error">{error}</Notice> : null}
      {board === null ? (
        <p class="muted">{t('wallboard:loading')}</p>
      ) : (
        <>
          <h2>{t('wallboard:overall')}</h2>
          <Tiles name="overall" f={board.overall} at={board.at} now={now} th={thresholdsFor(limits, 'overall')} />
          {Object.entries(board.groups)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([g, f]) => (
              <div key={g} data-testid={`wb-group-${g}`}>
                <h2>{t('wallboard:group', { group: g })}</h2>
                <Tiles name={g} f={f} at={board.at} now={now} th={thresholdsFor(limits, g)} />
              </div>
            ))}
          {channels ? <ChannelSection channels={channels} th={thresholdsFor(limits, 'overall')} /> : null}
        </>
      )}
      {stats ? (
        <div class="wb-charts">
          <Donut
            testId="wb-emotions"
            title={t('wallboard:emotionMix')}
            data={stats.emotionMix.map((e: any) => ({ label: e.label, value: e.utterances }))}
          />
          <HBarChart
            testId="wb-reasons"
            title={t('wallboard:topReasons')}
            data={stats.topIntents.map((e: any) => ({ label: e.label, value: e.utterances }))}
          />
        </div>
      ) : null}
      {supervisor ? <ContactReasonsTile /> : null}
      <h2>{t('wallboard:agentsTable')}</h2>
      {supervisor ? (
        <div class="wb-supervise">
          <label for="wb-my-phone">{t('wallboard:myPhone')}</label>{' '}
          <input
            id="wb-my-phone"
            name="supervisorId"
            value={myPhone}
            placeholder={t('wallboard:myPhoneHint')}
            onInput={(e) => {
              const v = (e.target as HTMLInputElement).value.trim();
              setMyPhone(v);
              localStorage.setItem(PHONE_KEY, v);
            }}
          />
          {supervision ? (
            <Notice kind={supervision.ok ? 'ok' : 'error'} testId="wb-supervision-status">
              {supervision.text}
            </Notice>
          ) : null}
        </div>
      ) : null}
      <table class="wb-agent-table" data-testid="wb-agent-table">
        <thead>
          <tr>
            <th>{t('wallboard:agent')}</th>
            <th>{t('wallboard:stateColumn')}</th>
            <th>{t('wallboard:timeInState')}</th>
            {supervisor ? <th>{t('wallboard:actions')}</th> : null}
          </tr>
        </thead>
        <tbody>
          {agents.map((a) => (
            <tr key={a.agentId} data-testid={`wb-agent-${a.agentId}`}>
              <td>{a.agentId}</td>
              <td>{t(`wallboard:state.${a.state}`)}</td>
              <td>{fmtDuration(now - a.since)}</td>
              {supervisor ? (
                <td>
                  <button class="btn secondary" type="button" onClick={() => void setState(a.agentId, 'available')}>
                    {t('wallboard:makeAvailable')}
                  </button>{' '}
                  <button class="btn secondary" type="button" onClick={() => void setState(a.agentId, 'away')}>
                    {t('wallboard:makeAway')}
                  </button>
                  {a.state === 'on-call' && typeof a.callId === 'string'
                    ? SUPERVISION_MODES.map((m) => (
                        <button
                          key={m}
                          class="btn secondary wb-supervise-btn"
                          type="button"
                          data-testid={`wb-${m}-${a.agentId}`}
                          disabled={myPhone === ''}
                          title={myPhone === '' ? t('wallboard:myPhoneFirst') : undefined}
                          onClick={() => void supervise(a.callId as string, m)}
                        >
                          {t(`wallboard:supervise.${m}`)}
                        </button>
                      ))
                    : null}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
