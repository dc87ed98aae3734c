// Entry: session check, hash routing, the shell (navigation) and the login screen.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { get, post, setUnauthorizedHandler, type Session } from './api.js';
import { Field, Notice, errorText } from './ui.js';
import { Header } from './header.js';
import { initI18n, t } from '../../i18n/i18n.js';
import { Wizard } from './wizard.js';
import { Live } from './live.js';
import { AlertsScreen } from './alerts.js';
import { History, CallDetail } from './history.js';
import { ConfigScreen } from './config.js';
import { SettingsScreen } from './settings/settings.js';
import { Diagnostics } from './diagnostics.js';
import { AgentsScreen } from './agents.js';
import { CallbacksScreen } from './callbacks.js';
import { EmailCasesScreen } from './emailCases.js';
import { KnowledgeScreen } from './knowledge.js';
import { Wallboard, tvOptions } from './wallboard.js';
import { Report } from './report.js';
import { QaScreen } from './qa.js';
import { ForecastScreen } from './forecast.js';

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/live');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/live');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function Login({ onDone, site }: { onDone: () => void; site: Session['site'] | null }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const submit = async () => {
    setError('');
    try {
      await post('/api/v1/auth/login', { username, password });
      setPassword('');
      onDone();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <main class="narrow" data-testid="login">
      <h1>{t('common:signIn')}</h1>
      {site ? (
        <p class="muted">
          {site.name} ({site.id})
        </p>
      ) : null}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Field label={t('common:username')}>
          <input name="username" autocomplete="username" value={username} onInput={(e) => setUsername(e.currentTarget.value)} required />
        </Field>
        <Field label={t('common:password')}>
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            required
          />
        </Field>
        {error ? (
          <Notice kind="error" testId="login-error">
            {error}
          </Notice>
        ) : null}
        <button class="btn primary" type="submit" data-testid="login-submit">
          {t('common:signIn')}
        </button>
      </form>
    </main>
  );
}

/** The header's screens: the hash each opens and its label's key in the nav catalogue. */
const NAV: { hash: string; label: string }[] = [
  { hash: '#/live', label: 'nav:live' },
  { hash: '#/alerts', label: 'nav:alerts' },
  { hash: '#/wallboard', label: 'nav:wallboard' },
  { hash: '#/reports', label: 'nav:reports' },
  { hash: '#/forecast', label: 'nav:forecast' },
  { hash: '#/qa', label: 'nav:qa' },
  { hash: '#/history', label: 'nav:history' },
  { hash: '#/agents', label: 'nav:agents' },
  { hash: '#/callbacks', label: 'nav:callbacks' },
  { hash: '#/email', label: 'nav:email' },
  { hash: '#/knowledge', label: 'nav:knowledge' },
  { hash: '#/settings', label: 'nav:settings' },
  { hash: '#/config', label: 'nav:config' },
  { hash: '#/diagnostics', label: 'nav:diagnostics' },
];

function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [loadError, setLoadError] = useState('');
  const hash = useHash();
  const refresh = async () => {
    try {
      setSession(await get<Session>('/api/v1/auth/session'));
      setLoadError('');
    } catch (err) {
      setLoadError(errorText(err));
    }
  };
  useEffect(() => {
    setUnauthorizedHandler(() => void refresh());
    void refresh();
  }, []);
  if (loadError) return <Notice kind="error">{t('common:cannotReach', { error: loadError })}</Notice>;
  if (session === null) return <p class="boot">{t('common:loading')}</p>;
  if (session.setupRequired || (session.authenticated && !session.setupComplete && session.role === 'technician')) {
    return <Wizard session={session} onSessionChange={refresh} />;
  }
  if (!session.authenticated) return <Login onDone={() => void refresh()} site={session.site} />;
  // A kiosk sign-in (a wall TV) only ever gets the wallboard's TV mode, rotating its views.
  if (session.role === 'kiosk') return <Wallboard session={session} tv rotateS={tvOptions(hash).rotateS} />;
  const [, route, arg, sub] = hash.split('/');
  // The wallboard's TV mode: full screen, no header (#/wallboard?tv=1&rotate=15).
  if (route?.startsWith('wallboard?')) {
    const tv = tvOptions(hash);
    if (tv.tv) return <Wallboard session={session} tv rotateS={tv.rotateS} />;
  }
  let screen;
  if (route === 'history' && arg) screen = <CallDetail id={decodeURIComponent(arg)} />;
  else if (route === 'history') screen = <History />;
  else if (route === 'config') screen = <ConfigScreen session={session} />;
  else if (route === 'settings') screen = <SettingsScreen session={session} page={arg} />;
  else if (route === 'diagnostics') screen = <Diagnostics session={session} />;
  else if (route === 'agents') screen = <AgentsScreen session={session} />;
  else if (route === 'callbacks') screen = <CallbacksScreen session={session} />;
  else if (route === 'email') screen = <EmailCasesScreen session={session} />;
  else if (route === 'knowledge') screen = <KnowledgeScreen session={session} />;
  else if (route === 'wallboard' || route?.startsWith('wallboard?')) screen = <Wallboard session={session} />;
  else if (route === 'reports') screen = <Report />;
  else if (route === 'forecast') screen = <ForecastScreen />;
  else if (route === 'qa') screen = <QaScreen session={session} arg={arg} sub={sub} />;
  else if (route === 'alerts') screen = <AlertsScreen session={session} />;
  else screen = <Live session={session} />;
  return (
    <div class="shell">
      <Header nav={NAV} hash={hash} session={session} onSignedOut={refresh} />
      <main>{screen}</main>
    </div>
  );
}

initI18n();
render(<App />, document.getElementById('app')!);
