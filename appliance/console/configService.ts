/**
 * Configuration through the console: every key of the schema readable and changeable, validated
 * with `validateConfig`, each accepted change stored as a version (diff, rollback), audited, and
 * either applied live or reported as needing a restart. At the next start, `overlayConsoleConfig`
 * makes the latest console-saved version the running configuration (the data dir stays as booted).
 */
import { evxError } from '../errors.js';
import { checkConfig, configInvalid, validateConfig, withDefaults } from '../config/load.js';
import { consolePathIssue, pathValues } from '../config/paths.js';
import type { ConfigIssue } from '../config/validate.js';
import { ConfigSchema, RETIRED_KEYS, configLeaves, type EdgeVoxConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/database.js';

/** Keys that take effect without a restart (prefix match on the dotted path). */
export const LIVE_KEYS: readonly string[] = [
  'site.',
  'log.level',
  'agents.',
  'upstream.',
  'console.sessionTtlMs',
  'console.lockout',
  'console.loginRatePerMin',
  'console.loginBackoffAfter',
];
/**
 * Keys that hold secrets: masked in diffs, the support bundle and for roles below technician.
 * sip.trunks is masked field by field instead (its registration credentials only: maskTrunks).
 */
export const SECRET_KEYS: readonly string[] = [
  'sip.accounts',
  'upstream.enrollmentKey',
  'routing.webhook.secret',
  'routing.alerts.webhook.secret',
  'routing.alerts.email.password',
  'email.relay.password',
  'chat.identitySecret',
  'cluster.peerToken',
];
/** Versions written by the console carry this author prefix; boot snapshots do not. */
const BOOT_AUTHOR = 'system';
const MASK = '••••••';

export interface ConfigChange {
  key: string;
  from: unknown;
  to: unknown;
  live: boolean;
}

export function isLiveKey(key: string): boolean {
  return LIVE_KEYS.some((k) => (k.endsWith('.') ? key.startsWith(k) : key === k || key.startsWith(k)));
}

function isSecretKey(key: string): boolean {
  return SECRET_KEYS.some((k) => key === k || key.startsWith(k + '.'));
}

function getPath(obj: unknown, path: readonly string[]): unknown {
  let node = obj;
  for (const p of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[p];
  }
  return node;
}

/** Leaf-level differences between two configurations (arrays compare as a whole). */
export function diffConfigs(from: unknown, to: unknown): ConfigChange[] {
  const out: ConfigChange[] = [];
  for (const leaf of configLeaves()) {
    const a = getPath(from, leaf.path);
    const b = getPath(to, leaf.path);
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      const key = leaf.path.join('.');
      out.push({ key, from: a, to: b, live: isLiveKey(key) });
    }
  }
  return out;
}

/** Trunks are not secret as a whole (hosts, transports): only their registration credentials are. */
const TRUNKS_KEY = 'sip.trunks';

export function maskChange(c: ConfigChange): ConfigChange {
  if (c.key === TRUNKS_KEY) return { ...c, from: maskTrunks(c.from), to: maskTrunks(c.to) };
  return isSecretKey(c.key) ? { ...c, from: c.from === undefined ? undefined : MASK, to: c.to === undefined ? undefined : MASK } : c;
}

/**
 * sip.trunks with the user names and passwords of registration and calls out masked (the user
 * name is often the trunk's number). Whatever is not a trunk list passes through.
 */
function maskTrunks(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((t: unknown) => {
    if (t === null || typeof t !== 'object') return t;
    const trunk = { ...(t as Record<string, unknown>) };
    for (const part of ['register', 'outbound']) {
      const creds = trunk[part];
      if (creds !== null && typeof creds === 'object')
        trunk[part] = { ...(creds as Record<string, unknown>), username: MASK, password: MASK };
    }
    return trunk;
  });
}

/** A copy with secrets replaced (support bundle, read-only roles). */
export function redactConfig(config: EdgeVoxConfig): Record<string, unknown> {
  const copy = structuredClone(config) as unknown as Record<string, Record<string, unknown>>;
  if (copy['sip']) copy['sip']['accounts'] = (config.sip.accounts ?? []).map((a) => ({ username: a.username, password: MASK }));
  if (copy['sip']) copy['sip']['trunks'] = maskTrunks(config.sip.trunks ?? []);
  // Every other secret key is one string: masked when set (an empty one says "not configured").
  for (const key of SECRET_KEYS) {
    if (key === 'sip.accounts') continue;
    const path = key.split('.');
    const parent = getPath(copy, path.slice(0, -1));
    const leaf = path[path.length - 1]!;
    if (parent !== null && typeof parent === 'object' && leaf in parent) {
      const holder = parent as Record<string, unknown>;
      if (holder[leaf] !== '') holder[leaf] = MASK;
    }
  }
  return copy;
}

/** What stands in for a file path shown to a role below technician (as in GET /api/v1/system). */
const PATH_MASK = '(omitted)';

function setAt(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  path.forEach((key, i) => {
    if (i === path.length - 1) node[key] = value;
    else {
      if (node[key] === null || typeof node[key] !== 'object') node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
  });
}

/** A copy with every set path (config/paths.ts) replaced: where things lie on the box is the technicians' business. */
export function hidePaths<T>(config: T): T {
  const copy = structuredClone(config);
  for (const p of pathValues(copy)) if (p.value !== '') setAt(copy as Record<string, unknown>, p.key.split('.'), PATH_MASK);
  return copy;
}

/** A change with the paths in its values replaced (hidePaths), for a role below technician. */
export function hideChangePaths(c: ConfigChange): ConfigChange {
  const path = c.key.split('.');
  const hide = (v: unknown) => {
    if (v === undefined) return v;
    const holder: Record<string, unknown> = {};
    setAt(holder, path, v);
    return getPath(hidePaths(holder), path);
  };
  return { ...c, from: hide(c.from), to: hide(c.to) };
}

/** Set dotted keys on a copy; unknown keys are rejected by the validation that follows. */
export function applyChanges(base: EdgeVoxConfig, changes: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const next = structuredClone(base) as unknown as Record<string, unknown>;
  for (const [dotted, value] of Object.entries(changes)) {
    const path = dotted.split('.');
    let node = next;
    path.forEach((key, i) => {
      if (i === path.length - 1) node[key] = value;
      else {
        if (node[key] === null || typeof node[key] !== 'object' || Array.isArray(node[key])) node[key] = {};
        node = node[key] as Record<string, unknown>;
      }
    });
  }
  return next;
}

/** A change to a key that is gone: refused, naming where its job went. */
function retiredKeyIssues(changes: Readonly<Record<string, unknown>>): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const key of Object.keys(changes)) {
    const retired = RETIRED_KEYS.find((r) => key === r.path.join('.') || key.startsWith(`${r.path.join('.')}.`));
    if (retired !== undefined)
      out.push({
        key,
        code: 'unknown-key',
        message: `${key} is gone: it lives in ${retired.movedTo}`,
        params: { key, movedTo: retired.movedTo },
      });
  }
  return out;
}

/** At start: the latest console-saved version, keeping the booted data dir. */
export function overlayConsoleConfig(booted: EdgeVoxConfig, store: Store, logger?: Logger): EdgeVoxConfig {
  const latest = store.configVersions.latest();
  if (latest === undefined || latest.author === BOOT_AUTHOR) return booted;
  try {
    return validateConfig({ ...latest.config, dataDir: booted.dataDir });
  } catch (err) {
    logger?.error(
      { version: latest.version, reason: (err as Error).message },
      'stored console configuration is invalid; starting with the booted configuration',
    );
    return booted;
  }
}

export interface ConfigServiceDeps {
  store: Store;
  /** The running configuration object; live keys are updated in place. */
  running: EdgeVoxConfig;
  logger: Logger;
  /** Called after a change with the new config, to apply live keys elsewhere (auth settings, ...). */
  onLiveChange?: (next: EdgeVoxConfig) => void;
}

export class ConfigService {
  /** The configuration as booted: what "needs a restart" compares against. */
  private readonly booted: EdgeVoxConfig;

  constructor(private readonly deps: ConfigServiceDeps) {
    this.booted = structuredClone(deps.running);
    const latest = deps.store.configVersions.latest();
    if (latest === undefined || diffConfigs(latest.config, deps.running).length > 0) {
      deps.store.configVersions.add(deps.running, BOOT_AUTHOR, 'configuration at boot');
    }
  }

  /** The current (latest stored) configuration. */
  current(): { version: number; config: EdgeVoxConfig } {
    const latest = this.deps.store.configVersions.latest();
    if (latest === undefined) return { version: 0, config: this.deps.running };
    try {
      return { version: latest.version, config: validateConfig(latest.config) };
    } catch {
      // stored before a rule that now refuses it (e.g. an address no IP): shown as stored, defaults
      // filled, so the console can still open and fix it; saving reports the issue at its key
      return { version: latest.version, config: withDefaults(latest.config) };
    }
  }

  /** Keys whose stored value differs from what the process runs with (need a restart). */
  pendingRestart(): string[] {
    return diffConfigs(this.booted, this.current().config)
      .filter((c) => !c.live)
      .map((c) => c.key);
  }

  /** Validate, store as a new version, audit, apply live keys. Returns the changes. */
  save(
    input: unknown,
    actor: string,
    comment: string,
    action = 'config.change',
  ): { version: number; changes: ConfigChange[]; restartRequired: string[] } {
    const issues = this.check(input);
    if (issues.length > 0) throw configInvalid(issues);
    const next = validateConfig(input);
    const prev = this.current();
    const changes = diffConfigs(prev.config, next);
    if (changes.length === 0) return { version: prev.version, changes, restartRequired: this.pendingRestart() };
    const version = this.deps.store.configVersions.add(next, `console:${actor}`, comment.slice(0, 500));
    this.deps.store.audit.record(actor, action, `config:v${version}`, {
      fromVersion: prev.version,
      keys: changes.map((c) => c.key),
      comment: comment.slice(0, 200),
    });
    this.applyLive(next);
    return { version, changes, restartRequired: this.pendingRestart() };
  }

  /**
   * Every problem of a whole configuration as the console would save it (the schema, addresses,
   * ports, cross-references, the paths it sets (config/paths.ts), and the data dir, which only the
   * file or --data-dir may change); [] when it would be accepted. Nothing is stored.
   */
  check(input: unknown): ConfigIssue[] {
    const issues = checkConfig(input);
    // A path set here (neither one the current configuration holds nor the shipped default) is
    // absolute and has no . or .. segment.
    const current = pathValues(this.current().config);
    const shipped = pathValues(withDefaults({}));
    for (const p of pathValues(withDefaults(input))) {
      if (p.pattern === 'dataDir' || issues.some((i) => i.key === p.key)) continue;
      if ([...current, ...shipped].some((c) => c.pattern === p.pattern && c.value === p.value)) continue;
      const found = consolePathIssue(p);
      if (found !== null) issues.push(found);
    }
    const given = input !== null && typeof input === 'object' ? (input as Record<string, unknown>)['dataDir'] : undefined;
    const dataDir: unknown = given ?? (ConfigSchema.properties.dataDir.default as string);
    if (dataDir !== this.booted.dataDir && !issues.some((i) => i.key === 'dataDir'))
      issues.push({
        key: 'dataDir',
        code: 'rule',
        message: 'the data directory cannot be changed from the console (set it in the config file or with --data-dir)',
      });
    return issues;
  }

  /** The problems of setting these dotted keys on the current configuration ([] = a patch would be accepted). */
  checkChanges(changes: Readonly<Record<string, unknown>>): ConfigIssue[] {
    const retired = retiredKeyIssues(changes);
    return retired.length > 0 ? retired : this.check(applyChanges(this.current().config, changes));
  }

  /** Set dotted keys on the current configuration. */
  patch(changes: Readonly<Record<string, unknown>>, actor: string, comment: string) {
    // a key that is gone is dropped when an old configuration loads, but never accepted as a change
    const retired = retiredKeyIssues(changes);
    if (retired.length > 0) throw configInvalid(retired);
    return this.save(applyChanges(this.current().config, changes), actor, comment);
  }

  rollback(version: number, actor: string) {
    const target = this.deps.store.configVersions.get(version);
    if (target === undefined)
      throw evxError('EVX_ERR_NOT_FOUND', `no configuration version ${version}`, { details: { resource: 'config version' } });
    return this.save({ ...target.config, dataDir: this.booted.dataDir }, actor, `rollback to version ${version}`, 'config.rollback');
  }

  private applyLive(next: EdgeVoxConfig): void {
    const running = this.deps.running;
    running.site = { ...next.site };
    running.agents = structuredClone(next.agents);
    running.upstream = { ...next.upstream };
    running.log = { ...running.log, level: next.log.level };
    running.console = {
      ...running.console,
      sessionTtlMs: next.console.sessionTtlMs,
      lockoutThreshold: next.console.lockoutThreshold,
      lockoutMs: next.console.lockoutMs,
      loginRatePerMin: next.console.loginRatePerMin,
    };
    this.deps.logger.level = next.log.level;
    this.deps.onLiveChange?.(next);
  }
}
