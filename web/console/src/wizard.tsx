/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return -- API JSON is validated and typed by the server; the screens read it loosely. */
// The first-boot wizard: setup token → admin account → site → network → SIP trunks → agents →
// upstream → model check → self-test call → finish. Each step saves through the same config API
// as the configuration screen, so the wizard is validated by the same rules: a refused step stays,
// every issue shown beside the field it belongs to (configIssues.ts), in the page's language.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, get, post, type Session } from './api.js';
import { AgentEditor } from './agents.js';
import { BackupRestore } from './backup.js';
import { issuesOf, issueText, issuesUnder, type ConfigIssue } from './configIssues.js';
import { ActionButton, Field, Notice, errorText } from './ui.js';
import { fmtNumber, t } from '../../i18n/i18n.js';

/** Step titles: keys of the wizard catalogue. */
const STEPS = ['token', 'admin', 'site', 'network', 'trunks', 'agents', 'upstream', 'models', 'selftest', 'finish'] as const;

/** The appliance log's line that carries the setup token (as the log writes it, in English). */
const SETUP_LOG_LINE = 'first boot: open the console…';

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

export function Wizard({ session, onSessionChange }: { session: Session; onSessionChange: () => Promise<void> }) {
  const [step, setStep] = useState(session.authenticated ? 2 : 0);
  const [error, setError] = useState('');
  const [issues, setIssues] = useState<ConfigIssue[]>([]);
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
    setIssues([]);
    setStep((s) => s + 1);
  };
  /**
   * Save a step's keys. The appliance checks them with the configuration's own rules; when it
   * refuses, the step stays and each issue goes beside its field (the fields a step has: `keys`);
   * issues about keys the step does not show go to the notice under the step.
   */
  const save = async (changes: Record<string, unknown>, comment: string, keys: readonly string[]) => {
    setError('');
    setIssues([]);
    try {
      await api('PATCH', '/api/v1/config', { changes, comment: `setup wizard: ${comment}` });
      const fresh = await get('/api/v1/config');
      setCfg(fresh.config);
      next();
    } catch (err) {
      const found = issuesOf(err);
      if (found === null) return setError(errorText(err));
      setIssues(found);
      const elsewhere = found.filter((i) => !keys.some((k) => issuesUnder([i], k).length > 0));
      setError(elsewhere.map(issueText).join(' '));
    }
  };

  return (
    <main class="wizard" data-testid="wizard">
      <h1>{t('wizard:title')}</h1>
      <ol class="steps">
        {STEPS.map((s, i) => (
          <li key={s} class={i === step ? 'current' : i < step ? 'done' : ''} aria-current={i === step ? 'step' : undefined}>
            {t(`wizard:step.${s}`)}
          </li>
        ))}
      </ol>
      <section class="card" data-testid={`wizard-step-${step}`}>
        <h2>{t(`wizard:step.${STEPS[step]}`)}</h2>
        {step === 0 ? (
          <>
            <p>
              {t('wizard:token.intro')} <code>{SETUP_LOG_LINE}</code> {t('wizard:token.file')} <code>setup-token</code>.
            </p>
            <Field label={t('wizard:token.label')}>
              <input name="setup-token" value={token} onInput={(e) => setToken(e.currentTarget.value.trim())} autocomplete="off" />
            </Field>
            <ActionButton testId="wizard-next" disabled={token.length < 10} onClick={next}>
              {t('wizard:next')}
            </ActionButton>
          </>
        ) : null}
        {step === 1 ? (
          <>
            <p>{t('wizard:admin.intro')}</p>
            <Field label={t('common:username')}>
              <input
                name="admin-username"
                value={admin.username}
                onInput={(e) => setAdmin({ ...admin, username: e.currentTarget.value })}
              />
            </Field>
            <Field label={t('common:password')}>
              <input
                name="admin-password"
                type="password"
                autocomplete="new-password"
                value={admin.password}
                onInput={(e) => setAdmin({ ...admin, password: e.currentTarget.value })}
              />
            </Field>
            <Field label={t('wizard:admin.confirm')}>
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
                {t('wizard:back')}
              </button>
              <ActionButton
                testId="wizard-next"
                onClick={async () => {
                  setError('');
                  if (admin.password !== admin.confirm) return setError(t('wizard:admin.differ'));
                  try {
                    await post('/api/v1/setup/admin', { setupToken: token, username: admin.username, password: admin.password });
                    await onSessionChange();
                    next();
                  } catch (err) {
                    setError(errorText(err));
                  }
                }}
              >
                {t('wizard:admin.create')}
              </ActionButton>
            </div>
          </>
        ) : null}
        {step === 2 && cfg ? (
          restoring ? (
            <>
              <p>{t('wizard:site.restoreIntro')}</p>
              <BackupRestore
                onRestored={(r) => {
                  if (r.signInAgain) setTimeout(() => void onSessionChange(), 1500);
                }}
              />
              <button class="btn secondary" onClick={() => setRestoring(false)}>
                {t('wizard:site.backToWizard')}
              </button>
            </>
          ) : (
            <SiteStep cfg={cfg} issues={issues} onSave={save} onRestore={() => setRestoring(true)} />
          )
        ) : null}
        {step === 3 && cfg ? <NetworkStep cfg={cfg} issues={issues} onSave={save} /> : null}
        {step === 4 && cfg ? <TrunkStep cfg={cfg} issues={issues} onSave={save} /> : null}
        {step === 5 && cfg ? <AgentStep cfg={cfg} onNext={next} /> : null}
        {step === 6 && cfg ? <UpstreamStep cfg={cfg} issues={issues} onSave={save} /> : null}
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

type StepProps = {
  cfg: any;
  issues: readonly ConfigIssue[];
  onSave: (changes: Record<string, unknown>, comment: string, keys: readonly string[]) => Promise<void>;
};

/**
 * A field of a configuration key: its label, the control, a hint, and the appliance's issues
 * about the key beside it (the control is marked aria-invalid and described by them).
 */
function KeyField(props: {
  name: string;
  label: string;
  hint?: string;
  issues: readonly ConfigIssue[];
  control: (a11y: { id: string; name: string; 'aria-invalid'?: 'true'; 'aria-describedby'?: string; class?: string }) => ComponentChildren;
}) {
  const id = `wizard-${props.name}`;
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const bad = props.issues.length > 0;
  const describedBy = [bad ? errorId : '', props.hint ? hintId : ''].filter(Boolean).join(' ');
  return (
    <div class="field">
      <label class="label" for={id}>
        {props.label}
      </label>
      {props.control({
        id,
        name: props.name,
        ...(bad ? { 'aria-invalid': 'true' as const, class: 'invalid' } : {}),
        ...(describedBy ? { 'aria-describedby': describedBy } : {}),
      })}
      {bad ? (
        <ul class="field-error" id={errorId} data-testid={`field-error-${props.name}`}>
          {props.issues.map((i) => (
            <li key={`${i.key}:${i.code}`}>{issueText(i)}</li>
          ))}
        </ul>
      ) : null}
      {props.hint ? (
        <span class="hint" id={hintId}>
          {props.hint}
        </span>
      ) : null}
    </div>
  );
}

function SiteStep({ cfg, issues, onSave, onRestore }: StepProps & { onRestore: () => void }) {
  const [name, setName] = useState(cfg.site.name);
  const [id, setId] = useState(cfg.site.id === 'unprovisioned' ? '' : cfg.site.id);
  return (
    <>
      <KeyField
        name="site-name"
        label={t('wizard:site.name')}
        hint={t('wizard:site.nameHint')}
        issues={issuesUnder(issues, 'site.name')}
        control={(a) => <input {...a} value={name} onInput={(e) => setName(e.currentTarget.value)} />}
      />
      <KeyField
        name="site-id"
        label={t('wizard:site.id')}
        hint={t('wizard:site.idHint')}
        issues={issuesUnder(issues, 'site.id')}
        control={(a) => <input {...a} value={id} onInput={(e) => setId(e.currentTarget.value)} />}
      />
      <div class="row">
        <ActionButton testId="wizard-next" onClick={() => onSave({ 'site.name': name, 'site.id': id }, 'site identity', ['site'])}>
          {t('wizard:saveContinue')}
        </ActionButton>
        <button class="btn secondary" data-testid="wizard-restore" onClick={onRestore}>
          {t('wizard:site.restore')}
        </button>
      </div>
    </>
  );
}

function NetworkStep({ cfg, issues, onSave }: StepProps) {
  const [rtpHost, setRtpHost] = useState(cfg.sip.rtpHost);
  return (
    <>
      <p>
        {t('wizard:network.sipListens')}{' '}
        <code>
          {cfg.sip.host}:{cfg.sip.port}
        </code>
        {t('wizard:network.afterAddress')} {t('wizard:network.intro')}
      </p>
      <KeyField
        name="rtp-host"
        label={t('wizard:network.rtpHost')}
        issues={issuesUnder(issues, 'sip.rtpHost')}
        control={(a) => (
          <input {...a} value={rtpHost} placeholder={cfg.sip.host} onInput={(e) => setRtpHost(e.currentTarget.value.trim())} />
        )}
      />
      <Field label={t('wizard:network.rtpPorts')}>
        <span>{t('wizard:network.portRange', { min: cfg.sip.rtpPortMin, max: cfg.sip.rtpPortMax })}</span>
      </Field>
      <ActionButton testId="wizard-next" onClick={() => onSave({ 'sip.rtpHost': rtpHost }, 'network', ['sip.rtpHost'])}>
        {t('wizard:saveContinue')}
      </ActionButton>
    </>
  );
}

function TrunkStep({ cfg, issues, onSave }: StepProps) {
  const [allow, setAllow] = useState((cfg.sip.allowList as string[]).join('\n'));
  const [accounts, setAccounts] = useState(
    (cfg.sip.accounts as { username: string; password: string }[]).map((a) => `${a.username}:${a.password}`).join('\n'),
  );
  return (
    <>
      <KeyField
        name="allow-list"
        label={t('wizard:trunks.allowList')}
        hint={t('wizard:trunks.allowListHint')}
        issues={issuesUnder(issues, 'sip.allowList')}
        control={(a) => <textarea {...a} rows={4} value={allow} onInput={(e) => setAllow(e.currentTarget.value)} />}
      />
      <KeyField
        name="sip-accounts"
        label={t('wizard:trunks.accounts')}
        hint={t('wizard:trunks.accountsHint')}
        issues={issuesUnder(issues, 'sip.accounts')}
        control={(a) => <textarea {...a} rows={3} value={accounts} onInput={(e) => setAccounts(e.currentTarget.value)} />}
      />
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
            ['sip.allowList', 'sip.accounts'],
          )
        }
      >
        {t('wizard:saveContinue')}
      </ActionButton>
    </>
  );
}

/** Agents, skill groups and their phones' SIP accounts go straight into the routing configuration. */
function AgentStep({ cfg, onNext }: { cfg: any; onNext: () => void }) {
  return (
    <>
      <p>{t('wizard:agents.intro')}</p>
      <AgentEditor
        sipHost={cfg.sip.rtpHost || cfg.sip.host}
        saveLabel={t('wizard:saveContinue')}
        saveTestId="wizard-next"
        onSaved={onNext}
      />
    </>
  );
}

function UpstreamStep({ cfg, issues, onSave }: StepProps) {
  const [endpoint, setEndpoint] = useState(cfg.upstream.endpoint);
  const [key, setKey] = useState(cfg.upstream.enrollmentKey);
  return (
    <>
      <KeyField
        name="upstream-endpoint"
        label={t('wizard:upstream.endpoint')}
        hint={t('wizard:upstream.endpointHint')}
        issues={issuesUnder(issues, 'upstream.endpoint')}
        control={(a) => (
          <input
            {...a}
            value={endpoint}
            placeholder="https://central.example.com/edgevox"
            onInput={(e) => setEndpoint(e.currentTarget.value.trim())}
          />
        )}
      />
      <KeyField
        name="enrollment-key"
        label={t('wizard:upstream.key')}
        issues={issuesUnder(issues, 'upstream.enrollmentKey')}
        control={(a) => <input {...a} type="password" value={key} onInput={(e) => setKey(e.currentTarget.value.trim())} />}
      />
      <ActionButton
        testId="wizard-next"
        onClick={() => onSave({ 'upstream.endpoint': endpoint, 'upstream.enrollmentKey': key }, 'upstream sync', ['upstream'])}
      >
        {t('wizard:saveContinue')}
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
            <th>{t('wizard:models.model')}</th>
            <th>{t('wizard:models.required')}</th>
            <th>{t('wizard:models.activeVersion')}</th>
            <th>{t('wizard:models.files')}</th>
            <th>{t('wizard:models.status')}</th>
          </tr>
        </thead>
        <tbody>
          {diag.models.map((m: any) => (
            <tr key={m.name}>
              <td>{m.name}</td>
              <td>{m.required ? t('wizard:models.yes') : t('wizard:models.no')}</td>
              <td>
                <code>{m.activeVersion ?? t('common:none')}</code>
              </td>
              <td>
                {m.files.map((f: any) => (
                  <div key={f.path} class="hash">
                    {f.path} <code title={f.sha256}>{f.sha256.slice(0, 12)}…</code>
                  </div>
                ))}
              </td>
              <td class={m.error ? 'bad' : m.activeVersion ? 'good' : 'bad'}>
                {m.error ? m.error.message : m.activeVersion ? t('wizard:models.verified') : t('wizard:models.notInstalled')}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p data-testid="providers">
        {t('wizard:models.providersConfigured')} <code>{diag.inference.configuredProviders.join(', ')}</code>
        {t('wizard:models.providersActive')} <code>{diag.inference.activeProviders.join(', ') || t('wizard:models.noneYet')}</code>
      </p>
      <p data-testid="gpu">
        {t('wizard:models.gpu')}{' '}
        {system.gpus.length === 0
          ? t('wizard:models.noGpu')
          : system.gpus
              .map((g: any) =>
                g.memoryMiB
                  ? t('wizard:models.gpuWithMemory', { vendor: g.vendor, model: g.model, mib: fmtNumber(g.memoryMiB) })
                  : t('wizard:models.gpuName', { vendor: g.vendor, model: g.model }),
              )
              .join('; ')}
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
  if (!data) return <p>{t('wizard:models.checking')}</p>;
  const missing = data.diag.models.filter((m: any) => m.required && !m.activeVersion);
  return (
    <>
      <ModelTable diag={data.diag} system={data.system} />
      {missing.length ? (
        <Notice kind="warn">{t('wizard:models.missing', { names: missing.map((m: any) => m.name).join(', ') })}</Notice>
      ) : (
        <Notice kind="ok">{t('wizard:models.allInstalled')}</Notice>
      )}
      <ActionButton testId="wizard-next" onClick={onNext}>
        {t('wizard:continue')}
      </ActionButton>
    </>
  );
}

export function SelfTestPanel() {
  const [result, setResult] = useState<any>(null);
  const [error, setError] = useState('');
  return (
    <div data-testid="selftest">
      <p>{t('wizard:selftest.intro')}</p>
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
        {t('wizard:selftest.run')}
      </ActionButton>
      {error ? <Notice kind="error">{error}</Notice> : null}
      {result ? (
        <div class={`selftest-result ${result.ok ? 'good' : 'bad'}`} data-testid="selftest-result">
          <p>
            <strong>{result.ok ? t('wizard:selftest.passed') : t('wizard:selftest.failed')}</strong>
            {result.wordErrors >= 0 ? ` — ${t('wizard:selftest.wordErrors', { n: fmtNumber(result.wordErrors) })}` : ''}
            {result.finalLatencyMs !== null ? `, ${t('wizard:selftest.latency', { ms: fmtNumber(result.finalLatencyMs) })}` : ''}
          </p>
          <p>
            {t('wizard:selftest.heard')} <q data-testid="selftest-transcript">{result.transcript || t('wizard:selftest.nothing')}</q>
          </p>
          <p class="muted">
            {t('wizard:selftest.expected')} <q>{result.reference}</q>
          </p>
          <ul>
            {result.steps.map((s: any) => (
              <li key={s.name} class={s.ok ? 'good' : 'bad'}>
                {s.ok ? t('wizard:selftest.stepOk') : t('wizard:selftest.stepFailed')} {s.name}: {s.detail}
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
        {t('wizard:continue')}
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
      <p>{t('wizard:finish.intro')}</p>
      {pending && pending.length ? (
        <Notice kind="warn" testId="restart-required">
          {t('wizard:finish.restart', { keys: pending.join(', ') })}
        </Notice>
      ) : null}
      <ActionButton testId="wizard-finish" onClick={onFinish}>
        {t('wizard:finish.button')}
      </ActionButton>
    </>
  );
}
