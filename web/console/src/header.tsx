// The console's header: brand and site, the screens' navigation, who is signed in, Sign out and the
// language switch. On a narrow screen the navigation folds behind a Menu button (a real button with
// aria-expanded, so it works from the keyboard and screen readers); everything else wraps onto a
// second line and stays on screen down to 360 px.
import { useState } from 'preact/hooks';
import { post, type Session } from './api.js';
import { ActionButton, LanguageSwitch } from './ui.js';
import { t } from '../../i18n/i18n.js';

export function Header(props: {
  nav: readonly { hash: string; label: string }[];
  hash: string;
  session: Session;
  onSignedOut: () => Promise<void>;
}) {
  const { session, hash } = props;
  // The menu is open on the screen it was opened on: choosing a screen closes it in the same render
  // that draws the new screen (an effect after the paint would leave it open for a frame).
  const [openOn, setOpenOn] = useState<string | null>(null);
  const menuOpen = openOn === hash;
  return (
    <header class={menuOpen ? 'menu-open' : undefined}>
      <strong class="brand">EdgeVox</strong>
      <span class="site" data-testid="site-name">
        {session.site.name}
      </span>
      <button
        type="button"
        class="menu-toggle"
        data-testid="menu-toggle"
        aria-expanded={menuOpen ? 'true' : 'false'}
        aria-controls="console-nav"
        onClick={() => setOpenOn(menuOpen ? null : hash)}
      >
        {t('common:menu')}
      </button>
      <nav id="console-nav" aria-label={t('common:screens')}>
        {props.nav.map((n) => (
          <a
            key={n.hash}
            href={n.hash}
            class={hash.startsWith(n.hash) ? 'active' : ''}
            aria-current={hash.startsWith(n.hash) ? 'page' : undefined}
            onClick={() => setOpenOn(null)}
          >
            {t(n.label)}
          </a>
        ))}
      </nav>
      <span class="who" data-testid="who">
        {session.username} · {t(`roles:${session.role}`)}
      </span>
      <ActionButton
        kind="secondary"
        testId="logout"
        onClick={async () => {
          await post('/api/v1/auth/logout');
          await props.onSignedOut();
        }}
      >
        {t('common:signOut')}
      </ActionButton>
      <LanguageSwitch />
    </header>
  );
}
