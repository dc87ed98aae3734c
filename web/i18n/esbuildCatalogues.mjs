// An esbuild plugin that turns every web/i18n/<language>/<namespace>.json into the virtual module
// `edgevox:catalogues` ({ [language]: { [namespace]: messages } }), so a new namespace is a new file,
// never an edit to a shared index.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CATALOGUE_DIR = dirname(fileURLToPath(import.meta.url));

/** { language: { namespace: messages } } read from the catalogue directory. */
export function readCatalogues(dir = CATALOGUE_DIR) {
  const out = {};
  for (const lang of readdirSync(dir)) {
    if (!statSync(join(dir, lang)).isDirectory()) continue;
    out[lang] = {};
    for (const f of readdirSync(join(dir, lang))) {
      if (!f.endsWith('.json')) continue;
      out[lang][f.slice(0, -5)] = JSON.parse(readFileSync(join(dir, lang, f), 'utf8'));
    }
  }
  return out;
}

export const cataloguesPlugin = {
  name: 'edgevox-catalogues',
  setup(build) {
    build.onResolve({ filter: /^edgevox:catalogues$/ }, () => ({ path: 'catalogues', namespace: 'edgevox-catalogues' }));
    build.onLoad({ filter: /.*/, namespace: 'edgevox-catalogues' }, () => {
      const langs = readdirSync(CATALOGUE_DIR).filter((l) => statSync(join(CATALOGUE_DIR, l)).isDirectory());
      const watchFiles = langs.flatMap((l) => readdirSync(join(CATALOGUE_DIR, l)).map((f) => join(CATALOGUE_DIR, l, f)));
      return { contents: JSON.stringify(readCatalogues()), loader: 'json', watchFiles };
    });
  },
};
