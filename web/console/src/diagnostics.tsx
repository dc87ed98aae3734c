/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call -- API JSON is validated and typed by the server; the screens read it loosely. */
// Diagnostics: system inventory, model check, listeners, readiness, recent errors, support bundle.
import { useEffect, useState } from 'preact/hooks';
import { api, download, fmtTime, get, type Session } from './api.js';
import { ActionButton, Card, Notice, errorText } from './ui.js';
import { ModelTable, SelfTestPanel } from './wizard.js';
import { fmtDuration, fmtNumber, t } from '../../i18n/i18n.js';

const GiB = 1024 ** 3;

export function Diagnostics({ session }: { session: Session }) {
  const [diag, setDiag] = useState<any>(null);
  const [system, setSystem] = useState<any>(null);
  const [trunks, setTrunks] = useState<any[] | null>(null);
  const [cluster, setCluster] = useState<any>(null);
  const [error, setError] = useState('');
  const load = () =>
    void Promise.all([
      get('/api/v1/diagnostics'),
      get('/api/v1/system'),
      // the trunks panel is extra: a failure there leaves the rest of the page
      get('/api/v1/sip/trunks').catch(() => null),
      get('/api/v1/cluster').catch(() => null),
    ]).then(
      ([d, s, t, c]) => (setDiag(d), setSystem(s), setTrunks(t ? t.trunks : null), setCluster(c)),
      (e) => setError(errorText(e)),
    );
  useEffect(load, []);
  if (error) return <Notice kind="error">{error}</Notice>;
  if (!diag || !system) return <p>{t('common:loading')}</p>;
  const gib = (bytes: number) => fmtNumber(bytes / GiB, 1);
  const l = diag.listeners;
  return (
    <div data-testid="diagnostics">
      <div class="toolbar">
        <h1>{t('diagnostics:title')}</h1>
        <span class={`dot ${diag.readiness.ready ? 'on' : 'off'}`} data-testid="readiness">
          {diag.readiness.ready ? t('diagnostics:ready') : t('diagnostics:notReady', { phase: diag.readiness.phase })}
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
            {t('diagnostics:supportBundle')}
          </ActionButton>
        ) : null}
        <button class="btn secondary" type="button" onClick={load}>
          {t('common:refresh')}
        </button>
      </div>
      <div class="grid2">
        <Card title={t('diagnostics:system')} testId="inventory">
          <dl>
            <dt>{t('diagnostics:version')}</dt>
            <dd>
              {diag.version} ({diag.commit})
            </dd>
            <dt>{t('diagnostics:cpu')}</dt>
            <dd>{t('diagnostics:cpuValue', { model: system.cpu.model, cores: fmtNumber(system.cpu.cores) })}</dd>
            <dt>{t('diagnostics:memory')}</dt>
            <dd>{t('diagnostics:gibFree', { free: gib(system.memory.availableBytes), total: gib(system.memory.totalBytes) })}</dd>
            <dt>{t('diagnostics:dataDisk')}</dt>
            <dd>
              {system.dataDisk
                ? t('diagnostics:diskFree', {
                    free: gib(system.dataDisk.availableBytes),
                    total: gib(system.dataDisk.sizeBytes),
                    mount: system.dataDisk.mount,
                  })
                : t('diagnostics:unknown')}
            </dd>
            <dt>{t('diagnostics:os')}</dt>
            <dd>
              {system.os.distro} {system.os.release} ({system.os.kernel}, {system.os.arch})
            </dd>
            <dt>{t('diagnostics:node')}</dt>
            <dd>{system.runtime.node}</dd>
            <dt>{t('diagnostics:uptime')}</dt>
            <dd>{fmtDuration(system.uptimeSeconds * 1000)}</dd>
          </dl>
          <h3>{t('diagnostics:readiness')}</h3>
          <ul>
            {diag.readiness.checks.map((c: any) => (
              <li key={c.name} class={c.ok ? 'good' : 'bad'}>
                {c.ok ? t('diagnostics:checkPassed', { name: c.name }) : t('diagnostics:checkFailed', { name: c.name })} {c.reason ?? ''}
              </li>
            ))}
          </ul>
        </Card>
        <Card title={t('diagnostics:listeners')} testId="listeners">
          <table class="table">
            <tbody>
              <tr>
                <td>{t('diagnostics:sip')}</td>
                <td>{l.sip ? `${l.sip.host}:${l.sip.port} (${l.sip.transports.join(', ')})` : t('diagnostics:disabled')}</td>
              </tr>
              <tr>
                <td>{t('diagnostics:rtp')}</td>
                <td>
                  {l.rtp
                    ? t('diagnostics:rtpPorts', { host: l.rtp.host, min: l.rtp.portMin, max: l.rtp.portMax })
                    : t('diagnostics:disabled')}
                </td>
              </tr>
              <tr>
                <td>{t('diagnostics:httpsConsole')}</td>
                <td>{l.https ? `${l.https.host}:${l.https.port}` : t('diagnostics:off')}</td>
              </tr>
              {l.sip ? (
                <tr>
                  <td>{t('diagnostics:sipResources')}</td>
                  <td>
                    {Object.entries(l.sip.resources)
                      .map(([k, v]) => `${k} ${String(v)}`)
                      .join(', ')}
                  </td>
                </tr>
              ) : null}
              <tr>
                <td>{t('diagnostics:calls')}</td>
                <td>
                  {t('diagnostics:callsValue', {
                    active: fmtNumber(diag.calls.active),
                    capacity: fmtNumber(diag.calls.capacity),
                    lag: fmtNumber(diag.calls.maxLagMs),
                  })}
                </td>
              </tr>
            </tbody>
          </table>
        </Card>
      </div>
      <Card title={t('diagnostics:trunks')} testId="trunks">
        <TrunkTable trunks={trunks} />
      </Card>
      <Card title={t('diagnostics:cluster')} testId="cluster">
        <ClusterTable cluster={cluster} />
      </Card>
      <Card title={t('diagnostics:models')} testId="models">
        <ModelTable diag={diag} system={system} />
      </Card>
      <Card title={t('diagnostics:recentErrors')} testId="recent-errors">
        {diag.recentErrors.length === 0 ? <p class="empty">{t('diagnostics:noErrors')}</p> : null}
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
        <Card title={t('diagnostics:selfTest')} testId="diag-selftest">
          <SelfTestPanel />
        </Card>
      ) : null}
    </div>
  );
}

/** The boxes behind the site's Kamailio front (docs/cluster.md), per partition, and whether the front sends them new calls. */
function ClusterTable({ cluster }: { cluster: any }) {
  if (cluster === null || cluster.front === 'unreachable') return <p class="empty">{t('diagnostics:clusterUnavailable')}</p>;
  if (cluster.front === 'none') return <p class="empty">{t('diagnostics:noCluster')}</p>;
  const stateClass = (s: string) => (s === 'up' ? 'good' : s === 'down' ? 'bad' : 'muted');
  return (
    <table class="table">
      <thead>
        <tr>
          <th>{t('diagnostics:partition')}</th>
          <th>{t('diagnostics:box')}</th>
          <th>{t('diagnostics:address')}</th>
          <th>{t('diagnostics:role')}</th>
          <th>{t('diagnostics:state')}</th>
        </tr>
      </thead>
      <tbody>
        {cluster.boxes.map((b: any, i: number) => (
          <tr key={`${b.set}-${b.uri}`} data-testid={`cluster-${b.set}-${b.name}`}>
            <td>{fmtNumber(b.set)}</td>
            <td>{b.name}</td>
            <td>
              <code>{b.uri}</code>
            </td>
            <td>{i > 0 && cluster.boxes[i - 1].set === b.set ? t('diagnostics:standbyBox') : t('diagnostics:homeBox')}</td>
            <td class={stateClass(b.state)}>{t(`diagnostics:boxState.${b.state}`, { defaultValue: b.state })}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Configured SIP trunks: reachability by OPTIONS keep-alive and registration with the provider. */
function TrunkTable({ trunks }: { trunks: any[] | null }) {
  if (trunks === null) return <p class="empty">{t('diagnostics:trunksUnavailable')}</p>;
  if (trunks.length === 0) return <p class="empty">{t('diagnostics:noTrunks')}</p>;
  const trunkState = (s: string) => t(`diagnostics:trunkState.${s}`, { defaultValue: s });
  const stateClass = (s: string) => (s === 'up' || s === 'registered' ? 'good' : s === 'down' || s === 'failed' ? 'bad' : 'muted');
  return (
    <table class="table">
      <thead>
        <tr>
          <th>{t('diagnostics:trunk')}</th>
          <th>{t('diagnostics:address')}</th>
          <th>{t('diagnostics:state')}</th>
          <th>{t('diagnostics:since')}</th>
          <th>{t('diagnostics:roundTrip')}</th>
          <th>{t('diagnostics:registration')}</th>
        </tr>
      </thead>
      <tbody>
        {trunks.map((tr) => (
          <tr key={tr.name} data-testid={`trunk-${tr.name}`}>
            <td>{tr.name}</td>
            <td>
              {tr.host}:{tr.port} ({tr.transport})
            </td>
            <td class={stateClass(tr.state)} title={tr.reason}>
              {tr.keepaliveSec === 0 ? t('diagnostics:notProbed') : `${trunkState(tr.state)} — ${tr.reason}`}
            </td>
            <td>{fmtTime(tr.since)}</td>
            <td>{tr.rttMs === null ? '—' : t('diagnostics:ms', { ms: fmtNumber(tr.rttMs) })}</td>
            <td class={tr.registration ? stateClass(tr.registration.state) : 'muted'}>
              {tr.registration
                ? tr.registration.state === 'registered'
                  ? t('diagnostics:registeredFor', { state: trunkState(tr.registration.state), s: fmtNumber(tr.registration.expiresSec) })
                  : `${trunkState(tr.registration.state)} — ${tr.registration.reason}`
                : t('diagnostics:notRegistering')}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
