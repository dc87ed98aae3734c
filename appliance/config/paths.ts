/**
 * Configuration keys that name files or directories on the box, and the rules their values follow.
 *
 * From any source (file, environment, flags, console): no NUL or other control character, which no
 * real path holds and which would cut or disguise the path the process opens.
 *
 * Set through the console or the API (a value neither the current configuration nor the shipped
 * defaults hold): absolute, with no `.` or `..` segment, so a path says plainly where it points and
 * cannot climb out of a directory it appears to be under. The one key read relative to the data
 * directory (webrtc.callerTokenSecretFile, a file the box creates and chmods) must instead be
 * relative, so it stays inside it. Values written by
 * whoever installed the box (the config file, flags) are not held to this, nor are the defaults
 * (modelsDir's is relative).
 */
/** A path key's issue (a ConfigIssue of code 'path'; declared here so validate.ts can import this module). */
export interface PathIssue {
  key: string;
  code: 'path';
  message: string;
  params: Record<string, string | number>;
}

/** The path keys; `*` stands for each entry of a list. */
export const PATH_KEYS: readonly string[] = [
  'dataDir',
  'modelsDir',
  'sip.tlsCertFile',
  'sip.tlsKeyFile',
  'sip.trunks.*.tlsCaFile',
  'email.tlsCertFile',
  'email.tlsKeyFile',
  'sync.caFile',
  'webrtc.callerTokenSecretFile',
];

/** Path keys read relative to the data directory when not absolute. */
const UNDER_DATA_DIR = new Set(['webrtc.callerTokenSecretFile']);

// eslint-disable-next-line no-control-regex -- control characters are what this looks for
const CONTROL = /[\u0000-\u001f\u007f]/;

/** One path value in a configuration: its dotted key, the key's pattern in PATH_KEYS, and the value. */
export interface PathValue {
  readonly key: string;
  readonly pattern: string;
  readonly value: string;
}

/** Every path value a configuration holds (strings only: a wrong type is the schema's issue). */
export function pathValues(config: unknown): PathValue[] {
  const out: PathValue[] = [];
  const walk = (node: unknown, rest: readonly string[], done: readonly string[], pattern: string) => {
    if (rest.length === 0) {
      if (typeof node === 'string') out.push({ key: done.join('.'), pattern, value: node });
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const [head, ...tail] = rest as [string, ...string[]];
    if (head === '*') {
      if (Array.isArray(node)) node.forEach((item, i) => walk(item, tail, [...done, String(i)], pattern));
      return;
    }
    walk((node as Record<string, unknown>)[head], tail, [...done, head], pattern);
  };
  for (const pattern of PATH_KEYS) walk(config, pattern.split('.'), [], pattern);
  return out;
}

/** Why a path value is refused from any source (a control character), or null. */
export function pathCharacterIssue(p: PathValue): PathIssue | null {
  if (!CONTROL.test(p.value)) return null;
  return {
    key: p.key,
    code: 'path',
    message: `${p.key} holds a NUL or other control character, which no file path may hold`,
    params: { reason: 'control' },
  };
}

/**
 * Why a path value set through the console or the API is refused, or null. An empty value keeps
 * its key's meaning ("not configured" / the box's own certificate).
 */
export function consolePathIssue(p: PathValue): PathIssue | null {
  const own = pathCharacterIssue(p);
  if (own !== null || p.value === '') return own;
  const segments = p.value.split('/');
  if (segments.some((s) => s === '..' || s === '.'))
    return {
      key: p.key,
      code: 'path',
      message: `${p.key} must not contain . or .. segments: give the path it means`,
      params: { reason: 'dot-segment', value: p.value },
    };
  if (UNDER_DATA_DIR.has(p.pattern)) {
    if (!p.value.startsWith('/')) return null;
    return {
      key: p.key,
      code: 'path',
      message: `${p.key} is a file inside the data directory: give it relative to it, e.g. secrets/webrtc-token`,
      params: { reason: 'absolute', value: p.value },
    };
  }
  if (!p.value.startsWith('/'))
    return {
      key: p.key,
      code: 'path',
      message: `${p.key} must be an absolute path (starting with /)`,
      params: { reason: 'relative', value: p.value },
    };
  return null;
}
