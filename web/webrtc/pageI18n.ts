/**
 * The softphone's and "call us" page's language: the catalogues and language choice of the console
 * (web/i18n), applied to the static HTML (elements marked data-i18n with a namespace:key get their text,
 * data-i18n-placeholder / -aria-label / -title their attributes), and the page's language switch
 * (<select id="lang">; the choice is remembered, as in the console).
 */
import { LANGUAGES, currentLanguage, initI18n, setLanguage, t, type Language } from '../i18n/i18n.js';

const ATTRIBUTES = [
  ['data-i18n-placeholder', 'placeholder'],
  ['data-i18n-aria-label', 'aria-label'],
  ['data-i18n-title', 'title'],
] as const;

/** Picks the language, translates the marked elements and fills the language switch; call first. */
export function startPageI18n(): void {
  initI18n();
  for (const el of document.querySelectorAll<HTMLElement>('[data-i18n]')) el.textContent = t(el.dataset['i18n']!);
  for (const [data, attr] of ATTRIBUTES)
    for (const el of document.querySelectorAll<HTMLElement>(`[${data}]`)) el.setAttribute(attr, t(el.getAttribute(data)!));
  const select = document.getElementById('lang') as HTMLSelectElement | null;
  if (select === null) return;
  select.replaceChildren(
    ...LANGUAGES.map((l) => {
      const o = document.createElement('option');
      o.value = l.code;
      o.lang = l.code;
      o.textContent = l.name;
      return o;
    }),
  );
  select.value = currentLanguage();
  select.onchange = () => setLanguage(select.value as Language);
}

/**
 * A signalling error ("EVX_ERR_CODE: message") as the page shows it: the message without its code,
 * or in another language the catalogue's message for a known code.
 */
export function pageErrorText(raw: string): string {
  const m = /^(EVX_ERR_\w+): ?(.*)$/s.exec(raw);
  if (m === null) return raw;
  const [, code, message = ''] = m;
  if (currentLanguage() !== 'en') {
    const known = t(`errors:${code}`, { message, defaultValue: '' });
    if (known !== '') return known;
  }
  return message;
}
