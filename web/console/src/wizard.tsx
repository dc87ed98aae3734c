/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return -- API JSON is validated and typed by the server; the screens read it loosely. */
// The first-boot wizard: setup token → admin account → site → network → SIP trunks → agents →
// upstream → model check → self-test call → finish. Each step saves through the same config API
// as the configuration screen, so the wizard is validated by the same rules.
import { useEffect, useState } from 'preact/hooks';
import { api, get, post, type Session } from './api.js';
import { AgentEditor } from './agents.js';
import { BackupRestore } from './backup.js';
import { ActionButton, Field, Notice, errorText } from './ui.js';

const STEPS = ['Setup token', 'Admin account', 'Site', 'Network', 'SIP trunks', 'Agents', 'Upstream', 'Models', 'Self-test call', 'Finish'];

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

export function Wizard({ session, onSessionChange }: { session: Session; onSessionChange: () => Promise<void> }) {
  const [step, setStep] = useState(session.authenticated ? 2 : 0);
  const [error, setError] = useState('');
  const [token, setToken] = useState('');
  const [admin, setAdmin] = useState({ username: 'admin', password: '', confirm: '' });
  const [cfg, setCfg] = useState<any>(null);
  const [restoring, setRestoring] = useState(false);

  useEffect(() => {
    if (step >= 2 && cfg === null)
      void get('/api/v1/config').then(
        (r) => setCfg(r.config),
        (e) => setError(errorText(e)),
      );
  }, [step]);

  const next = () => {
    setError('');
    setStep((s) => s + 1);
  };
  const save = async (changes: Record<string, unknown>, comment: string) => {
    setError('');
    try {
      const r = await api('PATCH', '/api/v1/config', { changes, comment: `setup wizard: ${comment}` });
      const fresh = await get('/api/v1/config');
      setCfg(fresh.config);
      void r;
      next();
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <main class="wizard" data-testid="wizard">
      <h1>Set up this EdgeVox appliance</h1>
      <ol class="steps">
        {STEPS.map((s, i) => (
          <li key={s} class={i === step ? 'current' : i < step ? 'done' : ''}>
            {s}
          </li>
        ))}
      </ol>
      <section class="card" data-testid={`wizard-step-${step}`}>
        <h2>{STEPS[step]}</h2>
        {step === 0 ? (
          <>
            <p>
              This appliance has no accounts yet and no default password. Enter the one-time setup token: it is printed in the appliance log
              at start (<code>first boot: open the console…</code>) and written to <code>setup-token</code> in the data directory.
            </p>
            <Field label="Setup token">
              <input name="setup-token" value={token} onInput={(e) => setToken(e.currentTarget.value.trim())} autocomplete="off" />
            </Field>
            <ActionButton testId="wizard-next" disabled={token.length < 10} onClick={next}>
              Next
            </ActionButton>
          </>
        ) : null}
        {step === 1 ? (
          <>
            <p>Create the first technician account. Passwords need at least 10 characters and must not contain the username.</p>
            <Field label="Username">
              <input
                name="admin-username"
                value={admin.username}
                onInput={(e) => setAdmin({ ...admin, username: e.currentTarget.value })}
              />
            </Field>
            <Field label="Password">
              <input
                name="admin-password"
                type="password"
                autocomplete="new-password"
                value={admin.password}
                onInput={(e) => setAdmin({ ...admin, password: e.currentTarget.value })}
              />
            </Field>
            <Field label="Password again">
              <input
                name="admin-confirm"
                type="password"
                autocomplete="new-password"
                value={admin.confirm}
                onInput={(e) => setAdmin({ ...admin, confirm: e.currentTarget.value })}
              />
            </Field>
            <div class="row">
              <button class="btn secondary" onClick={() => setStep(0)}>
                Back
              </button>
              <ActionButton
                testId="wizard-next"
                onClick={async () => {
                  setError('');
                  if (admin.password !== admin.confirm) return setError('the two passwords differ');
                  try {
                    await post('/api/v1/setup/admin', { setupToken: token, username: admin.username, password: admin.password });
                    await onSessionChange();
                    next();
                  } catch (err) {
                    setError(errorText(err));
                  }
                }}
              >
                Create account
              </ActionButton>
            </div>
          </>
        ) : null}
        {step === 2 && cfg ? (
          restoring ? (
            <>
              <p>Restore the configuration, accounts and certificate of another appliance (for example the box this one replaces).</p>
              <BackupRestore
                onRestored={(r) => {
                  if (r.signInAgain) setTimeout(() => void onSessionChange(), 1500);
                }}
              />
              <button class="btn secondary" onClick={() => setRestoring(false)}>
                Back to the wizard
              </button>
            </>
          ) : (
            <SiteStep cfg={cfg} onSave={save} onRestore={() => setRestoring(true)} />
          )
        ) : null}
        {step === 3 && cfg ? <NetworkStep cfg={cfg} onSave={save} /> : null}
        {step === 4 && cfg ? <TrunkStep cfg={cfg} onSave={save} /> : null}
        {step === 5 && cfg ? <AgentStep cfg={cfg} onNext={next} /> : null}
        {step === 6 && cfg ? <UpstreamStep cfg={cfg} onSave={save} /> : null}
        {step === 7 ? <ModelStep onNext={next} /> : null}
        {step === 8 ? <SelfTestStep onNext={next} /> : null}
        {step === 9 ? (
          <FinishStep
            onFinish={async () => {
              await post('/api/v1/setup/complete');
              location.hash = '#/live';
              await onSessionChange();
            }}
          />
        ) : null}
        {error ? (
          <Notice kind="error" testId="wizard-error">
            {error}
          </Notice>
        ) : null}
      </section>
    </main>
  );
}

type StepProps = { cfg: any; onSave: (changes: Record<string, unknown>, comment: string) => Promise<void> };

function SiteStep({ cfg, onSave, onRestore }: StepProps & { onRestore: () => void }) {
  const [name, setName] = useState(cfg.site.name);
  const [id, setId] = useState(cfg.site.id === 'unprovisioned' ? '' : cfg.site.id);
  return (
    <>
      <Field label="Branch name" hint="Shown in the console header and in reports">
        <input name="site-name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </Field>
      <Field label="Site id" hint="Lower-case letters, digits and dashes, e.g. leeds-01; used in upstream aggregates">
        <input name="site-id" value={id} onInput={(e) => setId(e.currentTarget.value)} />
      </Field>
      <div class="row">
        <ActionButton testId="wizard-next" onClick={() => onSave({ 'site.name': name, 'site.id': id }, 'site identity')}>
          Save and continue
        </ActionButton>
        <button class="btn secondary" data-testid="wizard-restore" onClick={onRestore}>
          Restore a backup instead
        </button>
      </div>
    </>
  );
}

function NetworkStep({ cfg, onSave }: StepProps) {
  const [rtpHost, setRtpHost] = useState(cfg.sip.rtpHost);
  return (
    <>
      <p>
        SIP listens on{' '}
        <code>
          {cfg.sip.host}:{cfg.sip.port}
        </code>
        . The announced media address is the IP address this appliance puts in its SDP answers: the address the PBX or carrier can reach for
        RTP.
      </p>
      <Field label="Announced media address (empty = the SIP address)">
        <input name="rtp-host" value={rtpHost} placeholder={cfg.sip.host} onInput={(e) => setRtpHost(e.currentTarget.value.trim())} />
      </Field>
      <Field label="RTP port range">
        <span>
          {cfg.sip.rtpPortMin}–{cfg.sip.rtpPortMax}
        </span>
      </Field>
      <ActionButton testId="wizard-next" onClick={() => onSave({ 'sip.rtpHost': rtpHost }, 'network')}>
        Save and continue
      </ActionButton>
    </>
  );
}

function TrunkStep({ cfg, onSave }: StepProps) {
  const [allow, setAllow] = useState((cfg.sip.allowList as string[]).join('\n'));
  const [accounts, setAccounts] = useState(
    (cfg.sip.accounts as { username: string; password: string }[]).map((a) => `${a.username}:${a.password}`).join('\n'),
  );
  return (
    <>
      <Field
        label="Allowed SIP sources"
        hint="One IP address or CIDR per line (the PBX, the carrier's SBC). Empty = any source. Include 127.0.0.1 for the self-test call."
      >
        <textarea name="allow-list" rows={4} value={allow} onInput={(e) => setAllow(e.currentTarget.value)} />
      </Field>
      <Field label="Trunk digest accounts" hint="One username:password per line. Empty = no SIP authentication.">
        <textarea name="sip-accounts" rows={3} value={accounts} onInput={(e) => setAccounts(e.currentTarget.value)} />
      </Field>
      <ActionButton
        testId="wizard-next"
        onClick={() =>
          onSave(
            {
              'sip.allowList': lines(allow),
              'sip.accounts': lines(accounts).map((l) => ({
                username: l.slice(0, l.indexOf(':') < 0 ? l.length : l.indexOf(':')),
                password: l.indexOf(':') < 0 ? '' : l.slice(l.indexOf(':') + 1),
              })),
            },
            'SIP trunks',
          )
        }
      >
        Save and continue
      </ActionButton>
    </>
  );
}

/** Agents, skill groups and their phones' SIP accounts go straight into the routing configuration. */
function AgentStep({ cfg, onNext }: { cfg: any; onNext: () => void }) {
  return (
    <>
      <p>
        Skill groups and the agents who serve them. An agent with a SIP username and password registers their phone with this box; the
        password is stored encrypted and never shown again.
      </p>
      <AgentEditor sipHost={cfg.sip.rtpHost || cfg.sip.host} saveLabel="Save and continue" saveTestId="wizard-next" onSaved={onNext} />
    </>
  );
}

function UpstreamStep({ cfg, onSave }: StepProps) {
  const [endpoint, setEndpoint] = useState(cfg.upstream.endpoint);
  const [key, setKey] = useState(cfg.upstream.enrollmentKey);
  return (
    <>
      <Field label="Sync endpoint" hint="https URL of the central service; leave empty to run stand-alone">
        <input
          name="upstream-endpoint"
          value={endpoint}
          placeholder="https://central.example.com/edgevox"
          onInput={(e) => setEndpoint(e.currentTarget.value.trim())}
        />
      </Field>
      <Field label="Enrollment key">
        <input name="enrollment-key" type="password" value={key} onInput={(e) => setKey(e.currentTarget.value.trim())} />
      </Field>
      <ActionButton
        testId="wizard-next"
        onClick={() => onSave({ 'upstream.endpoint': endpoint, 'upstream.enrollmentKey': key }, 'upstream sync')}
      >
        Save and continue
      </ActionButton>
    </>
  );
}

export function ModelTable({ diag, system }: { diag: any; system: any }) {
  return (
    <div data-testid="model-check">
      <table class="table">
        <thead>
          <tr>
            <th>Model</th>
            <th>Required</th>
            <th>Active version</th>
            <th>Files (sha256)</th>
            <th>Status</th>
          </tr>
        </thead>
        <tbody>
          {diag.models.map((m: any) => (
            <tr key={m.name}>
              <td>{m.name}</td>
              <td>{m.required ? 'yes' : 'no'}</td>
              <td>
                <code>{m.activeVersion ?? '—'}</code>
              </td>
              <td>
                {m.files.map((f: any) => (
                  <div key={f.path} class="hash">
                    {f.path} <code title={f.sha256}>{f.sha256.slice(0, 12)}…</code>
                  </div>
                ))}
              </td>
              <td class={m.error ? 'bad' : m.activeVersion ? 'good' : 'bad'}>
                {m.error ? m.error.message : m.activeVersion ? 'verified' : 'not installed'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p data-testid="providers">
        Execution providers: configured <code>{diag.inference.configuredProviders.join(', ')}</code>, active{' '}
        <code>{diag.inference.activeProviders.join(', ') || 'none yet'}</code>
      </p>
      <p data-testid="gpu">
        GPU:{' '}
        {system.gpus.length === 0
          ? 'none found (inference runs on the CPU)'
          : system.gpus.map((g: any) => `${g.vendor} ${g.model}${g.memoryMiB ? ` (${g.memoryMiB} MiB)` : ''}`).join('; ')}
      </p>
    </div>
  );
}

function ModelStep({ onNext }: { onNext: () => void }) {
  const [data, setData] = useState<{ diag: any; system: any } | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    void Promise.all([get('/api/v1/diagnostics'), get('/api/v1/system')]).then(
      ([diag, system]) => setData({ diag, system }),
      (e) => setError(errorText(e)),
    );
  }, []);
  if (error) return <Notice kind="error">{error}</Notice>;
  if (!data) return <p>Checking models…</p>;
  const missing = data.diag.models.filter((m: any) => m.required && !m.activeVersion);
  return (
    <>
      <ModelTable diag={data.diag} system={data.system} />
      {missing.length ? (
        <Notice kind="warn">{`Required models missing: ${missing.map((m: any) => m.name).join(', ')}. Install them (make models-install) before taking calls.`}</Notice>
      ) : (
        <Notice kind="ok">All required models are installed and verified.</Notice>
      )}
      <ActionButton testId="wizard-next" onClick={onNext}>
        Continue
      </ActionButton>
    </>
  );
}

export function SelfTestPanel() {
  const [result, setResult] = useState<any>(null);
  const [error, setError] = useState('');
  return (
    <div data-testid="selftest">
      <p>
        The appliance places a SIP call to itself over loopback, streams a recorded sentence with a known transcript, hangs up, and shows
        what the speech pipeline transcribed.
      </p>
      <ActionButton
        testId="selftest-run"
        onClick={async () => {
          setError('');
          setResult(null);
          try {
            setResult(await post('/api/v1/selftest'));
          } catch (err) {
            setError(errorText(err));
          }
        }}
      >
        Place test call
      </ActionButton>
      {error ? <Notice kind="error">{error}</Notice> : null}
      {result ? (
        <div class={`selftest-result ${result.ok ? 'good' : 'bad'}`} data-testid="selftest-result">
          <p>
            <strong>{result.ok ? 'Passed' : 'Failed'}</strong> — {result.wordErrors >= 0 ? `${result.wordErrors} word errors` : ''}{' '}
            {result.finalLatencyMs !== null ? `, transcript stored ${result.finalLatencyMs} ms after the speech ended` : ''}
          </p>
          <p>
            Heard: <q data-testid="selftest-transcript">{result.transcript || '(nothing)'}</q>
          </p>
          <p class="muted">
            Expected: <q>{result.reference}</q>
          </p>
          <ul>
            {result.steps.map((s: any) => (
              <li key={s.name} class={s.ok ? 'good' : 'bad'}>
                {s.ok ? '✓' : '✗'} {s.name}: {s.detail}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </div>
  );
}

function SelfTestStep({ onNext }: { onNext: () => void }) {
  return (
    <>
      <SelfTestPanel />
      <ActionButton testId="wizard-next" kind="secondary" onClick={onNext}>
        Continue
      </ActionButton>
    </>
  );
}

function FinishStep({ onFinish }: { onFinish: () => Promise<void> }) {
  const [pending, setPending] = useState<string[] | null>(null);
  useEffect(() => {
    void get('/api/v1/config').then((r) => setPending(r.restartRequired));
  }, []);
  return (
    <>
      <p>The appliance is set up. Supervisors can now watch calls live; technicians can change any setting later under Configuration.</p>
      {pending && pending.length ? (
        <Notice
          kind="warn"
          testId="restart-required"
        >{`Restart the appliance (systemctl restart edgevox) to apply: ${pending.join(', ')}`}</Notice>
      ) : null}
      <ActionButton testId="wizard-finish" onClick={onFinish}>
        Finish
      </ActionButton>
    </>
  );
}
