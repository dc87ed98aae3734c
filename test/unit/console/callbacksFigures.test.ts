/**
 * The callbacks page's figures (web/console/src/callbacks.tsx): every count that
 * GET /api/v1/acd/callbacks/kpis returns is shown, offers' outcomes next to offered and accepted,
 * each with a label in every language of web/i18n.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';

// The page's imports that need the browser bundle (the catalogues are an esbuild virtual module).
vi.mock('../../../web/i18n/i18n.js', () => ({ fmtNumber: String, t: String }));
vi.mock('../../../web/console/src/api.js', () => ({}));
vi.mock('../../../web/console/src/ui.js', () => ({}));

// Imported by a computed path: the project's TypeScript build has no JSX (the console has its own).
const PAGE = '../../../web/console/src/callbacks.js';
const { CALLBACK_FIGURES } = (await import(PAGE)) as { CALLBACK_FIGURES: readonly string[] };

const DIR = path.resolve('web/i18n');
const LANGUAGES = readdirSync(DIR).filter((l) => statSync(path.join(DIR, l)).isDirectory());

/** The counts of the kpis reply (appliance/api/routes/callbacks.ts CallbackKpis, bar from and to). */
const REPLY_COUNTS = ['offered', 'accepted', 'hungUp', 'noAnswer', 'completed', 'failed', 'cancelled', 'pending'];

describe('callbacks page figures', () => {
  it('shows every count of the kpis reply, hung up and no answer right after offered and accepted', () => {
    expect([...CALLBACK_FIGURES].sort()).toEqual([...REPLY_COUNTS].sort());
    expect(CALLBACK_FIGURES.slice(0, 4)).toEqual(['offered', 'accepted', 'hungUp', 'noAnswer']);
  });

  it.each(LANGUAGES)('labels every figure in %s', (lang) => {
    const figure = (JSON.parse(readFileSync(path.join(DIR, lang, 'callbacks.json'), 'utf8')) as { figure: Record<string, unknown> }).figure;
    for (const f of CALLBACK_FIGURES) expect(typeof figure[f] === 'string' && figure[f] !== '', `${lang} callbacks:figure.${f}`).toBe(true);
  });
});
