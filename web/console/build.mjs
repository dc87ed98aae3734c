// Builds the console front end (Preact + esbuild, offline from node_modules) into dist/console.
// Usage: node web/console/build.mjs [outDir]
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cataloguesPlugin } from '../i18n/esbuildCatalogues.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, '..', '..', 'dist', 'console'));
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const started = Date.now();
await build({
  entryPoints: [join(here, 'src', 'main.tsx')],
  bundle: true,
  minify: true,
  // No source maps: the server never serves *.map (console/mount.ts), so a map and its
  // sourceMappingURL comment would only ship the whole front-end source inside dist/ for nothing.
  sourcemap: false,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outfile: join(out, 'app.js'),
  logLevel: 'warning',
  plugins: [cataloguesPlugin],
});
copyFileSync(join(here, 'index.html'), join(out, 'index.html'));
copyFileSync(join(here, 'styles.css'), join(out, 'styles.css'));
console.log(`console built into ${out} in ${Date.now() - started} ms`);
