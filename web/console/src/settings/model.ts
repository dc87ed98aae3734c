// The settings pages as pure functions: which configuration keys each page shows, how a key's
// schema becomes an input kind, how an input's value becomes the value saved, and where the
// server's validation issues belong. No DOM here, so unit tests run the code the browser does.

/** A configuration key as GET /api/v1/config/schema describes it. */
export interface FieldSpec {
  key: string;
  type: string;
  enum?: unknown[];
  items?: SchemaNode;
  minimum?: number;
  maximum?: number;
  description: string;
  live: boolean;
  secret: boolean;
  editable: boolean;
}

/** The JSON schema of a list's items (TypeBox output, read loosely). */
export interface SchemaNode {
  type?: string;
  anyOf?: { const?: unknown }[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  required?: string[];
  minimum?: number;
  maximum?: number;
  description?: string;
  default?: unknown;
}

/** One validation issue from the server (error details.issues). */
export interface Issue {
  key: string;
  code: string;
  message: string;
  params?: Record<string, string | number>;
}

export type SettingsPageId =
  'site' | 'network' | 'trunks' | 'agents' | 'routing' | 'prompts' | 'privacy' | 'upstream' | 'models' | 'accounts';

/**
 * The pages and the keys each shows: an entry ending in '.' takes every key under it. Keys no page
 * lists stay in the raw view. `agents` and `accounts` add their own editors above these keys.
 */
export const PAGES: { id: SettingsPageId; keys: string[]; exclude?: string[] }[] = [
  { id: 'site', keys: ['site.', 'acd.timeZone', 'log.level', 'calls.maxConcurrent'] },
  {
    id: 'network',
    keys: [
      'http.host',
      'http.port',
      'sip.host',
      'sip.port',
      'sip.transports',
      'sip.tlsPort',
      'sip.rtpHost',
      'sip.rtpPortMin',
      'sip.rtpPortMax',
      'sip.allowList',
      'webrtc.listenIp',
      'webrtc.announcedAddress',
      'webrtc.rtcPortMin',
      'webrtc.rtcPortMax',
      'console.httpsHost',
      'console.httpsPort',
    ],
  },
  {
    id: 'trunks',
    keys: ['sip.trunks', 'asr.language', 'sip.dids', 'sip.accounts', 'sip.realm', 'sip.srtp', 'sip.transferTargets', 'sip.registrar.'],
  },
  { id: 'agents', keys: ['agents.', 'sip.agentAorPattern'] },
  { id: 'routing', keys: ['routing.', 'acd.'], exclude: ['acd.timeZone', 'acd.promptLanguage', 'acd.callbackOfferS', 'acd.callbacks.'] },
  { id: 'prompts', keys: ['acd.promptLanguage', 'acd.callbackOfferS', 'acd.callbacks.'] },
  { id: 'privacy', keys: ['privacy.', 'log.includePii'] },
  { id: 'upstream', keys: ['upstream.', 'sync.'] },
  { id: 'models', keys: ['asr.', 'inference.', 'qa.'], exclude: ['asr.language'] },
  {
    id: 'accounts',
    keys: ['console.sessionTtlMs', 'console.lockoutThreshold', 'console.lockoutMs', 'console.loginRatePerMin', 'console.loginBackoffAfter'],
  },
];

const matches = (key: string, entry: string) => (entry.endsWith('.') ? key.startsWith(entry) : key === entry);

/** The schema fields a page shows, in the page's order (keys under one entry in schema order). */
export function fieldsOf(page: SettingsPageId, fields: readonly FieldSpec[]): FieldSpec[] {
  const p = PAGES.find((x) => x.id === page);
  if (p === undefined) return [];
  const rank = (key: string) => p.keys.findIndex((e) => matches(key, e));
  return fields
    .filter((f) => rank(f.key) >= 0 && !(p.exclude ?? []).some((e) => matches(f.key, e)))
    .map((f, i) => ({ f, i }))
    .sort((a, b) => rank(a.f.key) - rank(b.f.key) || a.i - b.i)
    .map(({ f }) => f);
}

export type InputKind = 'toggle' | 'select' | 'number' | 'text' | 'secret' | 'lines' | 'choices' | 'rows';

/** The input a key gets: toggles, selects for enums, numbers, one-per-line lists, checkboxes for lists of choices, row editors for lists of objects. */
export function kindOf(spec: { type?: string; enum?: unknown[]; anyOf?: unknown[]; items?: SchemaNode; secret?: boolean }): InputKind {
  if (spec.type === 'boolean') return 'toggle';
  if (spec.type === 'enum' || (spec.type === undefined && Array.isArray(spec.anyOf))) return 'select';
  if (spec.type === 'integer' || spec.type === 'number') return 'number';
  if (spec.type === 'array') {
    if (spec.items?.type === 'object') return 'rows';
    if (Array.isArray(spec.items?.anyOf)) return 'choices';
    return 'lines';
  }
  return spec.secret ? 'secret' : 'text';
}

/** The choices of an enum key or of a list of enum values. */
export function choicesOf(spec: { enum?: unknown[]; anyOf?: { const?: unknown }[]; items?: SchemaNode }): string[] {
  const raw = spec.enum ?? spec.anyOf?.map((x) => x.const) ?? spec.items?.anyOf?.map((x) => x.const) ?? [];
  return raw.map(String);
}

/** `a.b.c` of an object, or undefined. */
export function getPath(obj: unknown, key: string): unknown {
  return key
    .split('.')
    .reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
}

/** A stored scalar as an input's text (objects as JSON). */
export function textOf(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** The value an input shows for a stored value: lines are text, numbers are text, the rest as is. */
export function toInput(kind: InputKind, v: unknown): unknown {
  if (kind === 'lines') return Array.isArray(v) ? v.map(String).join('\n') : '';
  if (kind === 'number' || kind === 'text' || kind === 'secret' || kind === 'select') return textOf(v);
  return v;
}

/** A number input's text as a number; text that is no number is kept, for the server to explain. */
export function numberOf(text: string): number | string {
  const s = text.trim();
  return s !== '' && Number.isFinite(Number(s)) ? Number(s) : text;
}

/** The value saved for an input's value. */
export function fromInput(kind: InputKind, v: unknown): unknown {
  if (kind === 'lines')
    return textOf(v)
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
  if (kind === 'number') return numberOf(textOf(v));
  return v;
}

/** `sip.trunks[0].host` → `sip.trunks.0.host`: issue keys in one spelling. */
export function normalKey(key: string): string {
  return key.replace(/\[(\d+)\]/g, '.$1').replace(/^\./, '');
}

/** The issues about `key` itself or anything inside it (a list's items, an object's fields). */
export function issuesAt(issues: readonly Issue[], key: string): Issue[] {
  return issues.filter((i) => {
    const k = normalKey(i.key);
    return k === key || k.startsWith(key + '.');
  });
}

/** The issues in an API error's details: `details.issues`, else the one `details.key` with the error's message. */
export function issuesOf(details: Record<string, unknown> | undefined, message: string): Issue[] {
  const list = details?.['issues'];
  if (Array.isArray(list))
    return list
      .filter((i): i is Issue => typeof i === 'object' && i !== null && typeof (i as Issue).key === 'string')
      .map((i) => ({ ...i, key: normalKey(i.key), code: String(i.code ?? ''), message: String(i.message ?? '') }));
  const key = details?.['key'];
  return typeof key === 'string' ? [{ key: normalKey(key), code: 'invalid', message }] : [];
}

/** A DOM id for a key's error text (aria-describedby). */
export function errorId(key: string): string {
  return `settings-error-${key.replace(/[^A-Za-z0-9_-]/g, '-')}`;
}

/** `sip.rtpPortMin` → `Rtp port min`: a label for a key the catalogue does not name. */
export function humanLabel(key: string): string {
  const last = key.split('.').pop() ?? key;
  const words = last.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
