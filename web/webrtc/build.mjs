// Bundles the WebRTC pages' scripts (caller.ts, agent.ts + the shared SDP bridge) with esbuild and
// copies the HTML/CSS into dist/web/webrtc, which the appliance serves at /call, /agent and
// /webrtc/assets/*. Usage: node web/webrtc/build.mjs [outDir]
// Every file is written aside and renamed into place: tests build the pages from several processes at
// once while browsers load them, and a reader must get the old file or the new one, never half of one.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { cataloguesPlugin } from '../i18n/esbuildCatalogues.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(process.argv[2] ?? join(here, '..', '..', 'dist', 'web', 'webrtc'));
mkdirSync(outDir, { recursive: true });
const writeAtomic = (file, contents) => {
  const aside = `${file}.${process.pid}.tmp`;
  writeFileSync(aside, contents);
  renameSync(aside, file);
};
const written = (result) => {
  for (const f of result.outputFiles) writeAtomic(f.path, f.contents);
};
written(
  await build({
    entryPoints: { caller: join(here, 'caller.ts'), agent: join(here, 'agent.ts') },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
    plugins: [cataloguesPlugin],
    write: false,
  }),
);
// The embeddable snippet: one self-contained classic script (sites load it with a plain <script async>).
written(
  await build({
    entryPoints: { embed: join(here, 'embed.ts') },
    outdir: outDir,
    bundle: true,
    format: 'iife',
    target: 'es2020',
    platform: 'browser',
    minify: true,
    logLevel: 'warning',
    write: false,
  }),
);
for (const f of ['call.html', 'agent.html', 'style.css']) writeAtomic(join(outDir, f), readFileSync(join(here, f)));
console.log(`webrtc pages built in ${outDir}`);
