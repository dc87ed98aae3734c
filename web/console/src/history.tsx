/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call -- API JSON is validated and typed by the server; the screens read it loosely. */
// Call history with search (call id or words said) and the call detail page.
import { useEffect, useState } from 'preact/hooks';
import { fmtDuration, fmtTime, get } from './api.js';
import { Card, Notice, errorText } from './ui.js';

export function History() {
  const [q, setQ] = useState('');
  const [calls, setCalls] = useState<any[] | null>(null);
  const [error, setError] = useState('');
  const search = (query: string) =>
    void get(`/api/v1/console/calls?limit=100&q=${encodeURIComponent(query)}`).then(
      (r) => setCalls(r.calls),
      (e) => setError(errorText(e)),
    );
  useEffect(() => search(''), []);
  return (
    <div data-testid="history">
      <h1>Call history</h1>
      <form class="row" onSubmit={(e) => (e.preventDefault(), search(q))}>
        <input name="q" type="search" placeholder="Search call id or words said" value={q} onInput={(e) => setQ(e.currentTarget.value)} />
        <button class="btn primary" type="submit" data-testid="history-search">
          Search
        </button>
      </form>
      {error ? <Notice kind="error">{error}</Notice> : null}
      {calls === null ? <p>Loading…</p> : calls.length === 0 ? <p class="empty">No calls found.</p> : null}
      {calls && calls.length > 0 ? (
        <table class="table" data-testid="history-table">
          <thead>
            <tr>
              <th>Started</th>
              <th>Call</th>
              <th>Source</th>
              <th>Duration</th>
              <th>End</th>
              <th>Utterances</th>
              <th>Match</th>
            </tr>
          </thead>
          <tbody>
            {calls.map((c) => (
              <tr key={c.id} data-testid="history-row">
                <td>{fmtTime(c.startedAt)}</td>
                <td>
                  <a href={`#/history/${encodeURIComponent(c.id)}`}>
                    <code>{c.id.slice(0, 8)}</code>
                  </a>
                </td>
                <td>{c.source}</td>
                <td>{c.endedAt ? fmtDuration(c.endedAt - c.startedAt) : 'active'}</td>
                <td>{c.endReason ?? '—'}</td>
                <td>{c.utterances}</td>
                <td class="muted">{c.match ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

export function CallDetail({ id }: { id: string }) {
  const [call, setCall] = useState<any>(null);
  const [error, setError] = useState('');
  useEffect(() => void get(`/api/v1/calls/${encodeURIComponent(id)}`).then(setCall, (e) => setError(errorText(e))), [id]);
  if (error) return <Notice kind="error">{error}</Notice>;
  if (!call) return <p>Loading…</p>;
  return (
    <div data-testid="call-detail">
      <p>
        <a href="#/history">← Call history</a>
      </p>
      <h1>
        Call <code>{call.id}</code>
      </h1>
      <div class="grid2">
        <Card title="Call">
          <dl>
            <dt>Source</dt>
            <dd>{call.source}</dd>
            <dt>State</dt>
            <dd>{call.state}</dd>
            <dt>Started</dt>
            <dd>{fmtTime(call.startedAt)}</dd>
            <dt>Answered after</dt>
            <dd>{call.answeredAt ? fmtDuration(call.answeredAt - call.startedAt) : '—'}</dd>
            <dt>Duration</dt>
            <dd>{call.endedAt ? fmtDuration(call.endedAt - call.startedAt) : 'active'}</dd>
            <dt>End reason</dt>
            <dd>{call.endReason ?? '—'}</dd>
          </dl>
        </Card>
        <Card title="Legs and quality">
          {call.legs.map((l: any) => (
            <div key={l.id}>
              <b>{l.label}</b> {l.codec ?? ''}
              <div class="kv">
                {Object.entries(l.quality ?? {}).map(([k, v]) => (
                  <span key={k}>
                    {k}: {typeof v === 'number' ? Math.round(v * 100) / 100 : String(v)}
                  </span>
                ))}
              </div>
            </div>
          ))}
        </Card>
      </div>
      <Card title="Transcript" testId="call-transcript">
        {call.utterances.length === 0 ? <p class="empty">No transcript for this call.</p> : null}
        {call.utterances.map((u: any) => (
          <p key={u.id}>
            <span class="muted">{fmtDuration(u.startMs)}</span> <b>{u.speaker}:</b> {u.text}
            {u.analysis?.intent ? <span class="tag">intent: {u.analysis.intent.intent}</span> : null}
            {u.analysis?.emotion ? <span class="tag">emotion: {u.analysis.emotion.category}</span> : null}
          </p>
        ))}
      </Card>
    </div>
  );
}
