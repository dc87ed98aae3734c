// Settings for people: the configuration grouped into pages (site, network, SIP trunks, agents &
// skills, routing, prompts, privacy, upstream, models, accounts) of labelled fields with help; the
// raw view of every key (#/config) stays one link away for experts.
import { useEffect, useState } from 'preact/hooks';
import { get, type Session } from '../api.js';
import { Notice, errorText } from '../ui.js';
import { t } from '../../../i18n/i18n.js';
import { AgentTable } from './agentTable.js';
import { Accounts } from './accounts.js';
import { ConfigForm } from './configForm.js';
import { PAGES, fieldsOf, type FieldSpec, type SettingsPageId } from './model.js';

interface Loaded {
  fields: FieldSpec[];
  config: { sip?: { rtpHost?: string; host?: string } };
  version: number;
  restartRequired: string[];
}

export function SettingsScreen(props: { session: Session; page: string | undefined }) {
  const page: SettingsPageId = PAGES.some((p) => p.id === props.page) ? (props.page as SettingsPageId) : 'site';
  const canEdit = props.session.role === 'technician';
  const [data, setData] = useState<Loaded | null>(null);
  const [error, setError] = useState('');
  const load = async () => {
    const [s, c] = await Promise.all([
      get<{ fields: FieldSpec[] }>('/api/v1/config/schema'),
      get<{ config: Loaded['config']; version: number; restartRequired: string[] }>('/api/v1/config'),
    ]);
    setData({ fields: s.fields, config: c.config, version: c.version, restartRequired: c.restartRequired });
  };
  useEffect(() => void load().catch((e) => setError(errorText(e))), []);

  return (
    <div class="settings" data-testid="settings">
      <h1>{t('settings:title')}</h1>
      <nav class="settings-nav" aria-label={t('settings:pagesLabel')}>
        <ul>
          {PAGES.map((p) => (
            <li key={p.id}>
              <a href={`#/settings/${p.id}`} aria-current={p.id === page ? 'page' : undefined} data-testid={`settings-nav-${p.id}`}>
                {t(`settings:page.${p.id}`)}
              </a>
            </li>
          ))}
          <li>
            <a href="#/config" data-testid="settings-raw">
              {t('settings:rawView')}
            </a>
          </li>
        </ul>
      </nav>
      <section class="settings-page" data-testid={`settings-page-${page}`}>
        <h2>{t(`settings:page.${page}`)}</h2>
        <p class="muted">{t(`settings:intro.${page}`)}</p>
        {error ? <Notice kind="error">{error}</Notice> : null}
        {data === null ? (
          error ? null : (
            <p>{t('common:loading')}</p>
          )
        ) : (
          <>
            <p class="muted">
              {t('settings:version', { version: data.version })} {canEdit ? t('settings:canEdit') : t('settings:readOnly')}
            </p>
            {data.restartRequired.length ? (
              <Notice kind="warn" testId="restart-required">
                {t('settings:pendingRestart', { keys: data.restartRequired.join(', ') })}
              </Notice>
            ) : null}
            {page === 'agents' ? (
              <AgentTable sipHost={data.config.sip?.rtpHost || data.config.sip?.host || '127.0.0.1'} canEdit={canEdit} />
            ) : null}
            {page === 'accounts' && canEdit ? <Accounts self={props.session.username ?? ''} /> : null}
            {page === 'agents' || page === 'accounts' ? <h2>{t('settings:moreSettings')}</h2> : null}
            <ConfigForm
              key={page}
              testId="settings-form"
              fields={fieldsOf(page, data.fields)}
              config={data.config}
              canEdit={canEdit}
              onSaved={load}
            />
          </>
        )}
      </section>
    </div>
  );
}
