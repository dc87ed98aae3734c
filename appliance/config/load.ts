/**
 * Loads the configuration: embedded defaults < config file (YAML or JSON) < EDGEVOX_* environment
 * variables < command-line flags. The result is validated against the one schema and the rules of
 * validate.ts; the problems are reported as a single line naming the first keys, the problems and
 * where the values came from, all of them in the error's details.issues.
 */
import { readFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { parse as parseYaml } from 'yaml';
import { evxError, type EdgeVoxError } from '../errors.js';
import { ConfigSchema, RETIRED_KEYS, configLeaves, envNameFor, type EdgeVoxConfig } from './schema.js';
import { configIssues, type ConfigIssue } from './validate.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface LoadConfigOptions {
  /** Path of a YAML/JSON file, or undefined for embedded defaults only. */
  readonly file?: string | undefined;
  /** Environment to read EDGEVOX_* variables from (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Values from command-line flags, as dotted paths (e.g. {'http.port': '9090'}). */
  readonly flags?: Readonly<Record<string, string | undefined>>;
}

/** Load, merge and validate. Throws EVX_ERR_CONFIG_FILE / EVX_ERR_CONFIG_INVALID (exit code 2). */
export function loadConfig(options: LoadConfigOptions = {}): EdgeVoxConfig {
  const origins = new Map<string, string>();
  let merged: JsonObject = {};
  if (options.file !== undefined) {
    const fromFile = readConfigFile(options.file);
    markOrigins(fromFile, [], `file ${options.file}`, origins);
    merged = deepMerge(merged, fromFile);
  }
  const leaves = configLeaves();
  const env = options.env ?? process.env;
  for (const leaf of leaves) {
    const name = envNameFor(leaf.path);
    const raw = env[name];
    if (raw === undefined) continue;
    setPath(merged, leaf.path, coerce(raw, leaf.schema));
    origins.set(leaf.path.join('.'), `environment ${name}`);
  }
  for (const [dotted, raw] of Object.entries(options.flags ?? {})) {
    if (raw === undefined) continue;
    const leaf = leaves.find((l) => l.path.join('.') === dotted);
    if (leaf === undefined) throw evxError('EVX_ERR_CONFIG_INVALID', `unknown configuration key '${dotted}'`, { details: { key: dotted } });
    setPath(merged, leaf.path, coerce(raw, leaf.schema));
    origins.set(
      dotted,
      `flag --${dotted
        .replace(/\./g, '-')
        .replace(/([a-z])([A-Z])/g, '$1-$2')
        .toLowerCase()}`,
    );
  }
  return validateConfig(merged, origins);
}

/**
 * Validate a plain object (e.g. from the API) and fill defaults. Every problem is gathered
 * (validate.ts); the error's message names the first few, `details.issues` holds them all.
 */
export function validateConfig(input: unknown, origins: ReadonlyMap<string, string> = new Map()): EdgeVoxConfig {
  const filled = withDefaults(input);
  const issues = configIssues(filled);
  if (issues.length === 0) return filled;
  throw configInvalid(issues, origins);
}

/** Every problem of `input` (defaults filled, retired keys dropped); [] when it is valid. */
export function checkConfig(input: unknown): ConfigIssue[] {
  return configIssues(withDefaults(input));
}

/** A copy of `input` with the defaults filled and retired keys dropped, NOT checked. */
export function withDefaults(input: unknown): EdgeVoxConfig {
  return Value.Default(ConfigSchema, withoutRetiredKeys(structuredClone(input ?? {}))) as EdgeVoxConfig;
}

/** How many issues the one-line message names before "and N more". */
const ISSUES_IN_MESSAGE = 3;

/** One EVX_ERR_CONFIG_INVALID for a list of issues: a one-line message naming the first few, all of them in details.issues. */
export function configInvalid(issues: readonly ConfigIssue[], origins: ReadonlyMap<string, string> = new Map()): EdgeVoxError {
  const said = issues.slice(0, ISSUES_IN_MESSAGE).map((i) => {
    const origin = origins.get(i.key) ?? closestOrigin(i.key, origins);
    const what =
      i.code === 'unknown-key'
        ? `unknown key '${i.key}'`
        : /^(must|is required) /.test(i.message)
          ? `key '${i.key}' ${i.message}`
          : `key '${i.key}': ${i.message}`;
    return `${what}${origin ? ` (from ${origin})` : ''}`;
  });
  const more = issues.length > ISSUES_IN_MESSAGE ? ` (and ${issues.length - ISSUES_IN_MESSAGE} more)` : '';
  const first = issues[0]!;
  return evxError('EVX_ERR_CONFIG_INVALID', `invalid configuration: ${said.join('; ')}${more}`, {
    details: { key: first.key, problem: first.code === 'unknown-key' ? 'unknown key' : first.message, issues },
  });
}

/** The input without the keys that are gone (RETIRED_KEYS): an older file or stored version still loads. */
function withoutRetiredKeys(input: unknown): unknown {
  for (const { path } of RETIRED_KEYS) {
    let node: unknown = input;
    for (const key of path.slice(0, -1))
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    if (node !== null && typeof node === 'object' && !Array.isArray(node)) delete (node as Record<string, unknown>)[path[path.length - 1]!];
  }
  return input;
}

function readConfigFile(file: string): JsonObject {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw evxError('EVX_ERR_CONFIG_FILE', `cannot read configuration file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, {
      cause: err,
    });
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    const first = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw evxError('EVX_ERR_CONFIG_FILE', `cannot parse configuration file ${file}: ${first}`, { cause: err });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw evxError('EVX_ERR_CONFIG_FILE', `configuration file ${file} must contain a mapping of keys to values`);
  }
  return parsed as JsonObject;
}

function coerce(raw: string, schema: TSchema): Json {
  const type = schema.type as string | undefined;
  const trimmed = raw.trim();
  if (type === 'integer' && /^-?\d+$/.test(trimmed)) return Number(trimmed);
  if (type === 'number' && trimmed !== '' && Number.isFinite(Number(trimmed))) return Number(trimmed);
  if (type === 'boolean' && /^(true|false|1|0|yes|no)$/i.test(trimmed)) return /^(true|1|yes)$/i.test(trimmed);
  if (type === 'array') return trimmed === '' ? [] : trimmed.split(',').map((s) => s.trim());
  return raw;
}

function setPath(target: JsonObject, path: readonly string[], value: Json): void {
  let node = target;
  path.forEach((key, i) => {
    if (i === path.length - 1) {
      node[key] = value;
      return;
    }
    const next = node[key];
    if (next === undefined || next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as JsonObject;
  });
}

function deepMerge(base: JsonObject, over: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    const bothObjects =
      prev !== null &&
      typeof prev === 'object' &&
      !Array.isArray(prev) &&
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value);
    out[key] = bothObjects ? deepMerge(prev, value) : value;
  }
  return out;
}

function markOrigins(obj: JsonObject, prefix: string[], origin: string, origins: Map<string, string>): void {
  for (const [key, value] of Object.entries(obj)) {
    const path = [...prefix, key];
    origins.set(path.join('.'), origin);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) markOrigins(value, path, origin, origins);
  }
}

function closestOrigin(key: string, origins: ReadonlyMap<string, string>): string | undefined {
  const parts = key.split('.');
  while (parts.length > 0) {
    parts.pop();
    const origin = origins.get(parts.join('.'));
    if (origin !== undefined) return origin;
  }
  return undefined;
}
