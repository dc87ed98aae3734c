/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call -- API JSON is validated and typed by the server; the screens read it loosely. */
// Diagnostics: system inventory, model check, listeners, readiness, recent errors, support bundle.
import { useEffect, useState } from 'preact/hooks';
import { api, download, fmtTime, get, type Session } from './api.js';
import { ActionButton, Card, Notice, errorText } from './ui.js';
import { ModelTable, SelfTestPanel } from './wizard.js';

const GiB = 1024 ** 3;

export function Diagnostics({ session }: { session: Session }) {
  const [diag, setDiag] = useState<any>(null);
  const [system, setSystem] = useState<any>(null);
  const [trunks, setTrunks] = useState<any[] | null>(null);
  const [error, setError] = useState('');
  const load = () =>
    void Promise.all([
      get('/api/v1/diagnostics'),
      get('/api/v1/system'),
      // the trunks panel is extra: a failure there leaves the rest of the page
      get('/api/v1/sip/trunks').catch(() => null),
    ]).then(
      ([d, s, t]) => (setDiag(d), setSystem(s), setTrunks(t ? t.trunks : null)),
      (e) => setError(errorText(e)),
    );
  useEffect(load, []);
  if (error) return <Notice kind="error">{error}</Notice>;
  if (!diag || !system) return <p>Loading…</p>;
  const l = diag.listeners;
  return (
    <div data-testid="diagnostics">
      <div class="toolbar">
        <h1>Diagnostics</h1>
        <span class={`dot ${diag.readiness.ready ? 'on' : 'off'}`} data-testid="readiness">
          {diag.readiness.ready ? 'ready' : `not ready (${diag.readiness.phase})`}
        </span>
        {session.role === 'technician' ? (
          <ActionButton
            testId="support-bundle"
            onClick={async () => {
              try {
                await download(
                  await api<Response>('GET', '/api/v1/diagnostics/support-bundle', undefined, { raw: true }),
                  'edgevox-support.json.gz',
                );
              } catch (err) {
                setError(errorText(err));
              }
            }}
          >
            Download support bundle
          </ActionButton>
        ) : null}
        <button class="btn secondary" onClick={load}>
          Refresh
        </button>
      </div>
      <div class="grid2">
        <Card title="System" testId="inventory">
          <dl>
            <dt>Version</dt>
            <dd>
              {diag.version} ({diag.commit})
            </dd>
            <dt>CPU</dt>
            <dd>
              {system.cpu.model} — {system.cpu.cores} cores
            </dd>
            <dt>Memory</dt>
            <dd>
              {(system.memory.availableBytes / GiB).toFixed(1)} of {(system.memory.totalBytes / GiB).toFixed(1)} GiB free
            </dd>
            <dt>Data disk</dt>
            <dd>
              {system.dataDisk
                ? `${(system.dataDisk.availableBytes / GiB).toFixed(1)} of ${(system.dataDisk.sizeBytes / GiB).toFixed(1)} GiB free (${system.dataDisk.mount})`
                : 'unknown'}
            </dd>
            <dt>OS</dt>
            <dd>
              {system.os.distro} {system.os.release} ({system.os.kernel}, {system.os.arch})
            </dd>
            <dt>Node</dt>
            <dd>{system.runtime.node}</dd>
            <dt>Uptime</dt>
            <dd>{Math.round(system.uptimeSeconds / 60)} min</dd>
          </dl>
          <h3>Readiness</h3>
          <ul>
            {diag.readiness.checks.map((c: any) => (
              <li key={c.name} class={c.ok ? 'good' : 'bad'}>
                {c.ok ? '✓' : '✗'} {c.name} {c.reason ?? ''}
              </li>
            ))}
          </ul>
        </Card>
        <Card title="Listeners" testId="listeners">
          <table class="table">
            <tbody>
              <tr>
                <td>SIP</td>
                <td>{l.sip ? `${l.sip.host}:${l.sip.port} (${l.sip.transports.join(', ')})` : 'disabled'}</td>
              </tr>
              <tr>
                <td>RTP</td>
                <td>{l.rtp ? `${l.rtp.host} ports ${l.rtp.portMin}–${l.rtp.portMax}` : 'disabled'}</td>
              </tr>
              <tr>
                <td>HTTPS console</td>
                <td>{l.https ? `${l.https.host}:${l.https.port}` : 'off'}</td>
              </tr>
              {l.sip ? (
                <tr>
                  <td>SIP resources</td>
                  <td>
                    {Object.entries(l.sip.resources)
                      .map(([k, v]) => `${k} ${String(v)}`)
                      .join(', ')}
                  </td>
                </tr>
              ) : null}
              <tr>
                <td>Calls</td>
                <td>
                  {diag.calls.active} active of {diag.calls.capacity}; worst lag {diag.calls.maxLagMs} ms
                </td>
              </tr>
            </tbody>
          </table>
        </Card>
      </div>
      <Card title="Trunks" testId="trunks">
        <TrunkTable trunks={trunks} />
      </Card>
      <Card title="Models" testId="models">
        <ModelTable diag={diag} system={system} />
      </Card>
      <Card title="Recent errors" testId="recent-errors">
        {diag.recentErrors.length === 0 ? <p class="empty">No errors recorded since the appliance started.</p> : null}
        <table class="table">
          <tbody>
            {diag.recentErrors.map((e: any, i: number) => (
              <tr key={i}>
                <td>{fmtTime(e.at)}</td>
                <td>{e.source}</td>
                <td>
                  <code>{e.code}</code>
                </td>
                <td>{e.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
      {session.role === 'technician' ? (
        <Card title="Self-test call" testId="diag-selftest">
          <SelfTestPanel />
        </Card>
      ) : null}
    </div>
  );
}

/** Configured SIP trunks: reachability by OPTIONS keep-alive and registration with the provider. */
function TrunkTable({ trunks }: { trunks: any[] | null }) {
  if (trunks === null) return <p class="empty">Trunk state is not available.</p>;
  if (trunks.length === 0) return <p class="empty">No SIP trunks configured (sip.trunks).</p>;
  const stateClass = (s: string) => (s === 'up' || s === 'registered' ? 'good' : s === 'down' || s === 'failed' ? 'bad' : 'muted');
  return (
    <table class="table">
      <thead>
        <tr>
          <th>Trunk</th>
          <th>Address</th>
          <th>State</th>
          <th>Since</th>
          <th>Round trip</th>
          <th>Registration</th>
        </tr>
      </thead>
      <tbody>
        {trunks.map((t) => (
          <tr key={t.name} data-testid={`trunk-${t.name}`}>
            <td>{t.name}</td>
            <td>
              {t.host}:{t.port} ({t.transport})
            </td>
            <td class={stateClass(t.state)} title={t.reason}>
              {t.keepaliveSec === 0 ? 'not probed' : `${t.state} — ${t.reason}`}
            </td>
            <td>{fmtTime(t.since)}</td>
            <td>{t.rttMs === null ? '—' : `${t.rttMs} ms`}</td>
            <td class={t.registration ? stateClass(t.registration.state) : 'muted'}>
              {t.registration
                ? `${t.registration.state}${t.registration.state === 'registered' ? ` (${t.registration.expiresSec} s)` : ` — ${t.registration.reason}`}`
                : 'not registering'}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
