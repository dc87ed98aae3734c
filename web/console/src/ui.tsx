// Small shared widgets: form fields, notices, buttons with busy state.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { currentLanguage, LANGUAGES, setLanguage, t, type Language } from '../../i18n/i18n.js';

export function Notice({
  kind = 'info',
  children,
  testId,
}: {
  kind?: 'info' | 'error' | 'ok' | 'warn';
  children: ComponentChildren;
  testId?: string;
}) {
  return (
    <div class={`notice ${kind}`} role={kind === 'error' ? 'alert' : 'status'} data-testid={testId}>
      {children}
    </div>
  );
}

/**
 * An error as the page shows it: the server's message as sent (it is English and names the detail),
 * or, in another language, the catalogue's message for a known error code (errors:<code>, with the
 * server's text as {{message}} where the detail matters).
 */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    if (currentLanguage() !== 'en') {
      const known = t(`errors:${err.code}`, { message: err.message, defaultValue: '' });
      if (known !== '') return known;
    }
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

export function Field(props: { label: string; hint?: string; children: ComponentChildren }) {
  return (
    <label class="field">
      <span class="label">{props.label}</span>
      {props.children}
      {props.hint ? <span class="hint">{props.hint}</span> : null}
    </label>
  );
}

/** A button that disables itself while its async action runs and reports failures. */
export function ActionButton(props: {
  onClick: () => Promise<void> | void;
  children: ComponentChildren;
  kind?: 'primary' | 'secondary' | 'danger';
  testId?: string;
  disabled?: boolean;
  type?: 'button' | 'submit';
}) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type={props.type ?? 'button'}
      class={`btn ${props.kind ?? 'primary'}`}
      data-testid={props.testId}
      disabled={busy || props.disabled}
      onClick={(e) => {
        e.preventDefault();
        setBusy(true);
        void Promise.resolve()
          .then(() => props.onClick())
          .finally(() => setBusy(false));
      }}
    >
      {busy ? t('common:busy') : props.children}
    </button>
  );
}

export function Card(props: { title: string; children: ComponentChildren; testId?: string }) {
  return (
    <section class="card" data-testid={props.testId}>
      <h2>{props.title}</h2>
      {props.children}
    </section>
  );
}

/** The language chooser: the browser's language is the default, the choice is remembered. */
export function LanguageSwitch() {
  return (
    <label class="lang-switch">
      <span class="label">{t('common:language')}</span>
      <select data-testid="language" value={currentLanguage()} onChange={(e) => setLanguage(e.currentTarget.value as Language)}>
        {LANGUAGES.map((l) => (
          <option key={l.code} value={l.code} lang={l.code}>
            {l.name}
          </option>
        ))}
      </select>
    </label>
  );
}
