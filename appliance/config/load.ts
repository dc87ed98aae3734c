/**
 * Loads the configuration: embedded defaults < config file (YAML or JSON) < EDGEVOX_* environment
 * variables < command-line flags. The result is validated against the one schema; the first problem
 * is reported as a single line naming the key, the problem and where the value came from.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { parse as parseYaml } from 'yaml';
import { evxError } from '../errors.js';
import { ConfigSchema, RETIRED_KEYS, configLeaves, envNameFor, type EdgeVoxConfig } from './schema.js';

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

/** Validate a plain object (e.g. from the API) and fill defaults. */
export function validateConfig(input: unknown, origins: ReadonlyMap<string, string> = new Map()): EdgeVoxConfig {
  const withDefaults = Value.Default(ConfigSchema, withoutRetiredKeys(structuredClone(input ?? {})));
  const errors = [...Value.Errors(ConfigSchema, withDefaults)];
  const first = errors[0];
  if (first === undefined) {
    const config = withDefaults as EdgeVoxConfig;
    checkCrossField(config, origins);
    return config;
  }
  const key = first.path.split('/').filter(Boolean).join('.') || '(root)';
  const unknown = /unexpected property/i.test(first.message);
  const origin = origins.get(key) ?? closestOrigin(key, origins);
  const problem = unknown ? `unknown key '${key}'` : `key '${key}' ${first.message.toLowerCase()}, got ${JSON.stringify(first.value)}`;
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  throw evxError('EVX_ERR_CONFIG_INVALID', `invalid configuration: ${problem}${origin ? ` (from ${origin})` : ''}${more}`, {
    details: { key, problem: unknown ? 'unknown key' : first.message },
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

/** An IANA zone name Intl accepts (acd/businessHours.ts reads the site's clock through it). */
function knownTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Rules the schema cannot say on its own (one key against another); the first broken one is
 * reported like a schema error, naming the key.
 */
function checkCrossField(config: EdgeVoxConfig, origins: ReadonlyMap<string, string>): void {
  const fail = (key: string, problem: string): never => {
    const origin = origins.get(key) ?? closestOrigin(key, origins);
    throw evxError('EVX_ERR_CONFIG_INVALID', `invalid configuration: key '${key}' ${problem}${origin ? ` (from ${origin})` : ''}`, {
      details: { key, problem },
    });
  };
  const wh = config.routing.webhook;
  if (wh.url !== '' && wh.secret.length < 16)
    fail('routing.webhook.secret', 'must be at least 16 characters when routing.webhook.url is set');
  const seen = new Map<string, number>();
  config.sip.trunks.forEach((t, i) => {
    const first = seen.get(t.name.toLowerCase());
    if (first !== undefined)
      fail(`sip.trunks.${i}.name`, `repeats trunk name '${t.name}' of sip.trunks.${first}: trunk names must be unique`);
    seen.set(t.name.toLowerCase(), i);
    if (t.keepaliveSec > 0 && t.keepaliveSec < 5)
      fail(`sip.trunks.${i}.keepaliveSec`, `must be 0 (off) or at least 5, got ${t.keepaliveSec}`);
    if (t.outbound?.enabled === true) checkTrunkOutbound(t, `sip.trunks.${i}`, fail);
  });
  const reg = config.sip.registrar;
  if (reg.minExpiresSec > reg.maxExpiresSec)
    fail('sip.registrar.minExpiresSec', `must not exceed sip.registrar.maxExpiresSec (${reg.maxExpiresSec}), got ${reg.minExpiresSec}`);
  if (60 % config.acd.intervalMinutes !== 0) fail('acd.intervalMinutes', `must divide 60, got ${config.acd.intervalMinutes}`);
  if (config.acd.timeZone !== '' && !knownTimeZone(config.acd.timeZone))
    fail('acd.timeZone', `is not an IANA time zone this system knows, got ${JSON.stringify(config.acd.timeZone)}`);
}

/** A trunk that calls out: reached by address (no DNS lookups), with a caller id, credentials in pairs. */
function checkTrunkOutbound(t: EdgeVoxConfig['sip']['trunks'][number], key: string, fail: (key: string, problem: string) => never): void {
  const out = t.outbound!;
  if (isIP(t.host) !== 4)
    fail(
      `${key}.host`,
      `must be an IPv4 address when ${key}.outbound.enabled is set (calls out use no DNS lookups), got ${JSON.stringify(t.host)}`,
    );
  if (out.callerId === '') fail(`${key}.outbound.callerId`, `is required when ${key}.outbound.enabled is set (the From of calls out)`);
  if ((out.username === '') !== (out.password === ''))
    fail(`${key}.outbound.${out.username === '' ? 'username' : 'password'}`, 'must be set together with the outbound user name / password');
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
