// Regenerates the generated tables of README.md (error codes, configuration keys) from the code,
// so the reference cannot drift: `make docs`. A test checks every error code is listed.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const load = (p) => import(pathToFileURL(join(root, 'dist', p)).href);
const { ERROR_CODES } = await load('appliance/errors.js');
const { configLeaves, envNameFor } = await load('appliance/config/schema.js');

const errors = [
  '| code | HTTP | exit | retryable | meaning |',
  '|---|---|---|---|---|',
  ...Object.entries(ERROR_CODES).map(
    ([code, s]) => `| \`${code}\` | ${s.httpStatus} | ${s.exitCode} | ${s.retryable ? 'yes' : 'no'} | ${s.description} |`,
  ),
].join('\n');

const config = [
  '| key | environment variable | default | meaning |',
  '|---|---|---|---|',
  ...configLeaves().map(({ path, schema }) => {
    const def = schema.default === undefined ? '' : `\`${JSON.stringify(schema.default)}\``;
    return `| \`${path.join('.')}\` | \`${envNameFor(path)}\` | ${def} | ${schema.description ?? ''} |`;
  }),
].join('\n');

const { COMMANDS } = await load('cli/registry.js');
const commandRows = ['| command | what it does |', '|---|---|'];
for (const [name, get] of Object.entries(COMMANDS)) commandRows.push(`| \`edgevox ${name}\` | ${(await get()).summary} |`);
commandRows.push('| `edgevox help` | list every command; `edgevox <command> --help` for its options |');
const commands = commandRows.join('\n');

const readmePath = join(root, 'README.md');
let readme = readFileSync(readmePath, 'utf8');
const replace = (name, body) => {
  const re = new RegExp(`(<!-- ${name}:start -->)[\\s\\S]*?(<!-- ${name}:end -->)`);
  if (!re.test(readme)) throw new Error(`README.md has no ${name} markers`);
  readme = readme.replace(re, `$1\n${body}\n$2`);
};
replace('errors', errors);
replace('config', config);
replace('commands', commands);
writeFileSync(readmePath, readme);
console.log('README.md tables regenerated');
