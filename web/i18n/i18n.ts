// The pages' message catalogues and locale formatting (i18next): the language comes from the user's
// choice (kept in localStorage) or else the browser's languages; English is the fallback. Every
// string a page shows goes through t('namespace:key'); the catalogues live in
// web/i18n/<language>/<namespace>.json and must hold the same keys in every language.
import i18next from 'i18next';
import catalogues from 'edgevox:catalogues';

export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'zh-CN', name: '简体中文' },
] as const;
export type Language = (typeof LANGUAGES)[number]['code'];

const STORAGE_KEY = 'edgevox.lang';

/** The language to show: the stored choice, else the first browser language we have, else English. */
export function detectLanguage(): Language {
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(STORAGE_KEY);
  } catch {
    // storage blocked (private mode, kiosk policy): fall through to the browser's languages
  }
  if (stored && LANGUAGES.some((l) => l.code === stored)) return stored as Language;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const lower = tag.toLowerCase();
    if (lower.startsWith('zh')) return 'zh-CN';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

/** Loads the catalogues and picks the language; call once before the first render. */
export function initI18n(): Language {
  const lng = detectLanguage();
  void i18next.init({
    lng,
    fallbackLng: 'en',
    resources: catalogues,
    ns: Object.keys(catalogues['en'] ?? {}),
    defaultNS: 'common',
    interpolation: { escapeValue: false }, // Preact escapes text nodes itself
    returnNull: false,
    initAsync: false,
  });
  document.documentElement.lang = lng;
  return lng;
}

export function currentLanguage(): Language {
  return (i18next.language as Language | undefined) ?? 'en';
}

/** Remembers the choice and reloads, so every screen renders in the new language. */
export function setLanguage(lng: Language): void {
  try {
    localStorage.setItem(STORAGE_KEY, lng);
  } catch {
    // not stored: this page still switches
  }
  location.reload();
}

/** The message for `namespace:key`, with {{name}} placeholders filled from vars. */
export function t(key: string, vars?: Record<string, string | number>): string {
  return i18next.t(key, vars ?? {});
}

export function fmtNumber(n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return new Intl.NumberFormat(currentLanguage(), { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(n);
}

/** A ratio 0..1 as a percentage in the page's locale. */
export function fmtPercent(ratio: number | null | undefined, digits = 0): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '—';
  return new Intl.NumberFormat(currentLanguage(), {
    style: 'percent',
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  }).format(ratio);
}

/** Date and time of an epoch-ms instant in the page's locale. */
export function fmtDateTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return new Intl.DateTimeFormat(currentLanguage(), { dateStyle: 'short', timeStyle: 'medium' }).format(new Date(ms));
}

/** A duration in milliseconds, e.g. "1 min 5 s" / "1分5秒" (locale unit names). */
export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const unit = (value: number, u: 'hour' | 'minute' | 'second') =>
    new Intl.NumberFormat(currentLanguage(), { style: 'unit', unit: u, unitDisplay: 'narrow' }).format(value);
  if (h > 0) return `${unit(h, 'hour')} ${unit(m, 'minute')}`;
  if (m > 0) return `${unit(m, 'minute')} ${unit(s, 'second')}`;
  return unit(s, 'second');
}
