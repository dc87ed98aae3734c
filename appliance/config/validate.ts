/**
 * Every problem of a configuration at once, each naming its dotted key, with a code a console can
 * translate (and its parameters) and a plain-language English sentence: schema problems (type,
 * range, pattern, unknown key), addresses (IPv4/IPv6 through node:net), networks (CIDR prefix
 * lengths), ports and port ranges (order, the SIP port outside the UDP media ranges,
 * the same TCP port twice), file paths (no control characters: paths.ts) and cross-references (the callback trunk exists and calls out). validateConfig (load.ts) throws these as one
 * EVX_ERR_CONFIG_INVALID with `details.issues`; the console's dry run returns them.
 */
import { isIP, isIPv4 } from 'node:net';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import { pathCharacterIssue, pathValues } from './paths.js';
import { ConfigSchema } from './schema.js';

export type ConfigIssueCode =
  | 'unknown-key'
  | 'type'
  | 'required'
  | 'enum'
  | 'pattern'
  | 'length'
  | 'items'
  | 'unique'
  | 'range'
  | 'ip'
  | 'cidr'
  | 'host'
  | 'port'
  | 'port-range'
  | 'port-overlap'
  | 'ref'
  | 'rule'
  | 'path';

/** One problem, in the shape the console shows next to the field (key: dotted path, list entries by index). */
export interface ConfigIssue {
  key: string;
  code: ConfigIssueCode;
  /** A plain English sentence; consoles translate by code with `params` and fall back to it. */
  message: string;
  params?: Record<string, string | number>;
}

/** Plain descriptions of the schema's patterns (by the pattern itself, so a list entry's pattern is found too). */
const PATTERN_TEXT: Readonly<Record<string, string>> = {
  '^[a-z0-9][a-z0-9-]{0,62}$': 'use lower-case letters, digits and dashes (up to 63), starting with a letter or digit, e.g. leeds-01',
  '^[A-Za-z0-9._-]+$': 'use letters, digits, dots, dashes and underscores only',
  '^(\\+?[0-9]{3,20})?$': 'give a number of 3 to 20 digits, optionally starting with +, e.g. +4930999000 (or leave it empty)',
  '^\\+?[0-9X]{1,20}$': 'give a number prefix of digits (X for any one digit), optionally starting with +, e.g. +4930',
  '^(https://\\S+)?$': 'give an https:// address, e.g. https://central.example.com/edgevox (or leave it empty)',
  '^(https?://[^\\s/?#@]+([/?][^\\s#]*)?)?$': 'give an http:// or https:// address without user:password@ (or leave it empty)',
  '^[a-z]{2,3}(-[a-z0-9]{2,8})?$': 'give a language code such as en, de or zh-cn',
  '^[a-z][a-z0-9-]{0,31}$': 'use lower-case letters, digits and dashes (up to 32), starting with a letter',
};

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

function show(value: unknown): string {
  if (typeof value === 'string') return value;
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Why `value` is not an IP address (IPv4 or IPv6), or null when it is one. */
export function ipProblem(value: string): ConfigIssue | null {
  if (isIP(value) !== 0) return null;
  const quad = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(value);
  if (quad !== null && quad.slice(1).some((n) => Number(n) > 255))
    return issue('', 'ip', `${value} is not an IP address: each of the four numbers must be 0–255`, { value, reason: 'octet' });
  if (quad !== null)
    return issue('', 'ip', `${value} is not an IP address: write the four numbers without leading zeros`, { value, reason: 'zeros' });
  return issue('', 'ip', `${value} is not an IP address (an IPv4 address is like 192.0.2.10, an IPv6 one like 2001:db8::10)`, {
    value,
    reason: 'format',
  });
}

/** Why `value` is neither an IP address nor a network in CIDR notation, or null when it is one. */
export function networkProblem(value: string): ConfigIssue | null {
  const slash = value.indexOf('/');
  if (slash < 0) {
    const ip = ipProblem(value);
    if (ip === null) return null;
    if (ip.params?.['reason'] !== 'format') return ip;
    return issue('', 'ip', `${value} is not an IP address or network (e.g. 192.0.2.10 or 192.0.2.0/24)`, { value, reason: 'network' });
  }
  const addr = value.slice(0, slash);
  const bits = value.slice(slash + 1);
  const addrProblem = ipProblem(addr);
  if (addrProblem !== null)
    return issue('', 'cidr', `${value}: ${addrProblem.message}`, {
      value,
      address: addr,
      reason: `address-${String(addrProblem.params?.['reason'])}`,
    });
  const max = isIPv4(addr) ? 32 : 128;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max)
    return issue('', 'cidr', `${value}: an ${max === 32 ? 'IPv4' : 'IPv6'} prefix length is 0 to ${max}`, {
      value,
      max,
      reason: max === 32 ? 'prefix-v4' : 'prefix-v6',
    });
  return null;
}

/** Why `value` is not an IP address or a host name, or null when it is one; digits and dots must be an address. */
export function hostProblem(value: string): ConfigIssue | null {
  if (isIP(value) !== 0) return null;
  if (/^[0-9.]+$/.test(value)) return ipProblem(value);
  if (!HOSTNAME.test(value.replace(/\.$/, '')))
    return issue('', 'host', `${value} is not an IP address or host name (letters, digits, dashes and dots, e.g. sbc.example.net)`, {
      value,
    });
  return null;
}

function issue(key: string, code: ConfigIssueCode, message: string, params?: Record<string, string | number>): ConfigIssue {
  return params === undefined ? { key, code, message } : { key, code, message, params };
}

function keyOf(e: ValueError): string {
  return e.path.split('/').filter(Boolean).join('.') || '(root)';
}

/** A TypeBox error said plainly. */
function schemaIssue(e: ValueError): ConfigIssue {
  const key = keyOf(e);
  const s = e.schema as {
    minimum?: number;
    maximum?: number;
    minLength?: number;
    maxLength?: number;
    minItems?: number;
    maxItems?: number;
    pattern?: string;
    anyOf?: { const?: unknown }[];
  };
  const got = show(e.value);
  switch (e.type) {
    case ValueErrorType.ObjectAdditionalProperties:
      return issue(key, 'unknown-key', `${key} is not a setting this version knows (check the spelling)`, { key });
    case ValueErrorType.ObjectRequiredProperty:
      return issue(key, 'required', `${key} is required`, { key });
    case ValueErrorType.Integer:
      return issue(key, 'type', `${got} is not a whole number`, { value: got, expected: 'integer' });
    case ValueErrorType.Number:
      return issue(key, 'type', `${got} is not a number`, { value: got, expected: 'number' });
    case ValueErrorType.String:
      return issue(key, 'type', `${got} is not text`, { value: got, expected: 'string' });
    case ValueErrorType.Boolean:
      return issue(key, 'type', `${got} is not yes or no (true or false)`, { value: got, expected: 'boolean' });
    case ValueErrorType.Array:
      return issue(key, 'type', `${got} is not a list`, { value: got, expected: 'array' });
    case ValueErrorType.Object:
      return issue(key, 'type', `${got} is not a group of settings`, { value: got, expected: 'object' });
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.NumberMaximum: {
      const min = s.minimum ?? Number.NEGATIVE_INFINITY;
      const max = s.maximum ?? Number.POSITIVE_INFINITY;
      if (s.maximum === undefined)
        return issue(key, 'range', `${got} is too small: the least is ${min}`, { value: got, min, reason: 'min' });
      if (s.minimum === undefined)
        return issue(key, 'range', `${got} is too large: the most is ${max}`, { value: got, max, reason: 'max' });
      return issue(key, 'range', `${got} is out of range: it must be ${min} to ${max}`, { value: got, min, max, reason: 'between' });
    }
    case ValueErrorType.StringMinLength:
      return s.minLength === 1
        ? issue(key, 'length', `${key} must not be empty`, { min: 1 })
        : issue(key, 'length', `this is too short: at least ${s.minLength} characters`, { min: s.minLength ?? 0 });
    case ValueErrorType.StringMaxLength:
      return issue(key, 'length', `this is too long: at most ${s.maxLength} characters`, { max: s.maxLength ?? 0 });
    case ValueErrorType.StringPattern: {
      const how = PATTERN_TEXT[s.pattern ?? ''] ?? 'it does not have the expected form';
      return issue(key, 'pattern', `${got} is not accepted here: ${how}`, { value: got, pattern: s.pattern ?? '' });
    }
    case ValueErrorType.ArrayMinItems:
      return issue(key, 'items', `the list needs at least ${s.minItems} entries`, { min: s.minItems ?? 0 });
    case ValueErrorType.ArrayMaxItems:
      return issue(key, 'items', `the list may hold at most ${s.maxItems} entries`, { max: s.maxItems ?? 0 });
    case ValueErrorType.ArrayUniqueItems:
      return issue(key, 'unique', 'the list names an entry twice', {});
    case ValueErrorType.Union:
    case ValueErrorType.Literal: {
      const options = (s.anyOf ?? [])
        .map((o) => o.const)
        .filter((c): c is string | number => typeof c === 'string' || typeof c === 'number');
      return options.length > 0
        ? issue(key, 'enum', `${got} is not one of: ${options.join(', ')}`, { value: got, options: options.join(', ') })
        : issue(key, 'type', `${got} is not accepted here`, { value: got });
    }
    default:
      return issue(key, 'type', `${got}: ${e.message.toLowerCase()}`, { value: got });
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function at(obj: unknown, dotted: string): unknown {
  let node = obj;
  for (const p of dotted.split('.')) node = isRecord(node) || Array.isArray(node) ? (node as Record<string, unknown>)[p] : undefined;
  return node;
}

function knownTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The checks beyond the schema. They read the (defaulted) input defensively: a key the schema already
 * refused is skipped, so each problem is reported once.
 */
function semanticIssues(c: unknown, refused: ReadonlySet<string>): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const ok = (key: string) => ![...refused].some((r) => r === key || key.startsWith(`${r}.`) || r.startsWith(`${key}.`));
  const str = (key: string): string | undefined => {
    const v = at(c, key);
    return typeof v === 'string' && ok(key) ? v : undefined;
  };
  const int = (key: string): number | undefined => {
    const v = at(c, key);
    return typeof v === 'number' && Number.isInteger(v) && ok(key) ? v : undefined;
  };
  const list = (key: string): unknown[] => {
    const v = at(c, key);
    return Array.isArray(v) ? v : [];
  };
  const add = (key: string, found: ConfigIssue | null) => {
    if (found !== null) out.push({ ...found, key });
  };
  const rule = (key: string, code: ConfigIssueCode, message: string, params?: Record<string, string | number>) =>
    out.push(issue(key, code, message, params));

  // file paths (the stricter rules for values set through the console: ConfigService.check)
  for (const p of pathValues(c)) if (ok(p.key)) add(p.key, pathCharacterIssue(p));

  // addresses
  for (const key of ['sip.host', 'webrtc.listenIp']) {
    const v = str(key);
    if (v !== undefined && v !== '') add(key, ipProblem(v));
  }
  for (const key of ['sip.rtpHost']) {
    const v = str(key);
    if (v !== undefined && v !== '') add(key, ipProblem(v));
  }
  for (const key of ['http.host', 'console.httpsHost', 'webrtc.announcedAddress']) {
    const v = str(key);
    if (v !== undefined && v !== '') add(key, hostProblem(v));
  }
  for (const name of ['sip.allowList', 'http.trustedProxies'])
    list(name).forEach((v, i) => {
      const key = `${name}.${i}`;
      if (typeof v === 'string' && v !== '' && ok(key)) add(key, networkProblem(v));
    });
  list('sip.transferTargets').forEach((v, i) => {
    const key = `sip.transferTargets.${i}`;
    if (typeof v !== 'string' || v === '' || !ok(key)) return;
    add(key, v.includes('/') || /^[0-9.]+$/.test(v) || v.includes(':') ? networkProblem(v) : hostProblem(v));
  });

  // ports
  const range = (minKey: string, maxKey: string, what: string) => {
    const lo = int(minKey);
    const hi = int(maxKey);
    if (lo === undefined || hi === undefined) return undefined;
    if (lo >= hi) {
      rule(minKey, 'port-range', `the ${what} port range ${lo}–${hi} is empty: the first port must be below the last (${hi})`, {
        min: lo,
        max: hi,
        what,
      });
      return undefined;
    }
    return { lo, hi };
  };
  const rtp = range('sip.rtpPortMin', 'sip.rtpPortMax', 'RTP');
  const rtc = range('webrtc.rtcPortMin', 'webrtc.rtcPortMax', 'WebRTC');
  // RTP and WebRTC ranges may overlap: the RTP allocator skips ports held by others (rtp/ports.ts), and test boxes draw random RTP ranges
  const transports = list('sip.transports').filter((t): t is string => typeof t === 'string');
  const sipUdp: [string, number | undefined][] = [['sip.port', transports.includes('udp') ? int('sip.port') : undefined]];
  for (const [key, port] of sipUdp) {
    if (port === undefined || port === 0) continue;
    for (const [r, name, first] of [
      [rtp, 'RTP', 'sip.rtpPortMin'],
      [rtc, 'WebRTC', 'webrtc.rtcPortMin'],
    ] as const)
      if (r !== undefined && port >= r.lo && port <= r.hi)
        rule(
          key,
          'port-overlap',
          `port ${port} lies inside the ${name} port range ${r.lo}–${r.hi}: SIP and media must use different UDP ports`,
          {
            port,
            first: r.lo,
            last: r.hi,
            other: first,
            what: name,
            reason: 'port',
          },
        );
  }
  // TCP listeners: the same port twice cannot both listen on one address
  const tcp: [string, number | undefined][] = [
    ['http.port', int('http.port')],
    ['console.httpsPort', int('console.httpsPort')],
    ['sip.port', transports.includes('tcp') ? int('sip.port') : undefined],
    ['sip.tlsPort', transports.includes('tls') ? int('sip.tlsPort') : undefined],
  ];
  const seen = new Map<number, string>();
  for (const [key, port] of tcp) {
    if (port === undefined || port <= 0) continue;
    const other = seen.get(port);
    if (other !== undefined)
      rule(key, 'port', `port ${port} is already ${other}'s: two services cannot listen on one TCP port`, { port, other });
    else seen.set(port, key);
  }

  // trunks: unique names, keep-alive, transports SIP listens on, calls out by address
  const names = new Map<string, number>();
  list('sip.trunks').forEach((t, i) => {
    if (!isRecord(t)) return;
    const k = `sip.trunks.${i}`;
    const name = str(`${k}.name`);
    if (name !== undefined) {
      const first = names.get(name.toLowerCase());
      if (first !== undefined)
        rule(`${k}.name`, 'rule', `repeats trunk name '${name}' of sip.trunks.${first}: trunk names must be unique`, {
          name,
          other: first,
        });
      else names.set(name.toLowerCase(), i);
    }
    const host = str(`${k}.host`);
    if (host !== undefined && host !== '') add(`${k}.host`, hostProblem(host));
    const keepalive = int(`${k}.keepaliveSec`);
    if (keepalive !== undefined && keepalive > 0 && keepalive < 5)
      rule(`${k}.keepaliveSec`, 'range', `must be 0 (off) or at least 5, got ${keepalive}`, { value: keepalive, min: 5 });
    const out = t['outbound'];
    if (isRecord(out) && out['enabled'] === true) {
      if (host !== undefined && isIP(host) !== 4 && hostProblem(host) === null)
        rule(
          `${k}.host`,
          'rule',
          `must be an IPv4 address when ${k}.outbound.enabled is set (calls out use no DNS lookups), got ${JSON.stringify(host)}`,
          {
            value: host,
          },
        );
      if (out['callerId'] === '')
        rule(`${k}.outbound.callerId`, 'required', `is required when ${k}.outbound.enabled is set (the From of calls out)`);
      if ((out['username'] === '') !== (out['password'] === ''))
        rule(
          `${k}.outbound.${out['username'] === '' ? 'username' : 'password'}`,
          'rule',
          'must be set together with the outbound user name / password',
        );
    }
  });
  // the callback trunk is a trunk that calls out
  const cbTrunk = str('acd.callbacks.trunk');
  if (cbTrunk !== undefined && cbTrunk !== '') {
    const trunk = list('sip.trunks').find((t) => isRecord(t) && t['name'] === cbTrunk);
    if (!isRecord(trunk))
      rule('acd.callbacks.trunk', 'ref', `there is no trunk named '${cbTrunk}' in sip.trunks`, {
        value: cbTrunk,
        other: 'sip.trunks',
        reason: 'missing',
      });
    else if (!isRecord(trunk['outbound']) || trunk['outbound']['enabled'] !== true)
      rule('acd.callbacks.trunk', 'ref', `trunk '${cbTrunk}' does not call out: set its outbound.enabled`, {
        value: cbTrunk,
        other: 'sip.trunks',
        reason: 'no-outbound',
      });
  }

  // dialled numbers: each once (its language would otherwise depend on the order)
  const numbers = new Map<string, number>();
  list('sip.dids').forEach((d, i) => {
    if (!isRecord(d)) return;
    const number = str(`sip.dids.${i}.number`);
    if (number === undefined) return;
    const first = numbers.get(number);
    if (first !== undefined)
      rule(`sip.dids.${i}.number`, 'rule', `repeats number '${number}' of sip.dids.${first}: numbers must be unique`, {
        value: number,
        other: first,
      });
    else numbers.set(number, i);
  });

  // one key against another
  const whUrl = str('routing.webhook.url');
  const whSecret = str('routing.webhook.secret');
  if (whUrl !== undefined && whUrl !== '' && whSecret !== undefined && whSecret.length < 16)
    rule('routing.webhook.secret', 'rule', 'must be at least 16 characters when routing.webhook.url is set', { min: 16 });
  const minExp = int('sip.registrar.minExpiresSec');
  const maxExp = int('sip.registrar.maxExpiresSec');
  if (minExp !== undefined && maxExp !== undefined && minExp > maxExp)
    rule('sip.registrar.minExpiresSec', 'range', `must not exceed sip.registrar.maxExpiresSec (${maxExp}), got ${minExp}`, {
      value: minExp,
      max: maxExp,
    });
  if (at(c, 'email.requireTls') === true && at(c, 'email.starttls') === false && ok('email.requireTls') && ok('email.starttls'))
    rule(
      'email.requireTls',
      'rule',
      'must not be true while email.starttls is false: no client could upgrade its connection, so all mail would be refused (set email.starttls to true, or email.requireTls to false)',
      { other: 'email.starttls' },
    );
  const interval = int('acd.intervalMinutes');
  if (interval !== undefined && interval > 0 && 60 % interval !== 0)
    rule('acd.intervalMinutes', 'rule', `must divide 60, got ${interval}`, { value: interval });
  const zone = str('acd.timeZone');
  if (zone !== undefined && zone !== '' && !knownTimeZone(zone))
    rule('acd.timeZone', 'rule', `is not an IANA time zone this system knows, got ${JSON.stringify(zone)}`, { value: zone });
  return out;
}

/** Keep the first schema error per key (a union reports each of its branches). */
function schemaIssues(input: unknown): ConfigIssue[] {
  const byKey = new Map<string, ConfigIssue>();
  for (const e of Value.Errors(ConfigSchema, input)) {
    const found = schemaIssue(e);
    if (!byKey.has(found.key)) byKey.set(found.key, found);
  }
  return [...byKey.values()];
}

/**
 * All problems of a defaulted configuration object (the input with Value.Default applied), schema
 * ones first. An empty list means the object is a valid EdgeVoxConfig.
 */
export function configIssues(withDefaults: unknown): ConfigIssue[] {
  const schema = schemaIssues(withDefaults);
  const refused = new Set(schema.map((i) => i.key));
  return [...schema, ...semanticIssues(withDefaults, refused)];
}
