/**
 * multipart/mixed bodies (RFC 2046 §5.1) as SIPREC INVITEs carry them: one application/sdp part and
 * one application/rs-metadata+xml part. Strict: the boundary must be declared and closed.
 */
import { evxError } from '../errors.js';

export interface BodyPart {
  readonly contentType: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
}

const MAX_PARTS = 8;

function bad(reason: string): never {
  throw evxError('EVX_ERR_SIPREC_METADATA', `multipart: ${reason}`, { details: { reason } });
}

/** The boundary parameter of a multipart Content-Type, or undefined for other types. */
export function multipartBoundary(contentType: string): string | undefined {
  const [type, ...params] = contentType.split(';');
  if (type === undefined || !type.trim().toLowerCase().startsWith('multipart/')) return undefined;
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    if (p.slice(0, eq).trim().toLowerCase() !== 'boundary') continue;
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1);
    if (v.length === 0 || v.length > 70) bad('bad boundary');
    return v;
  }
  bad('multipart without boundary');
}

/** Split a multipart body into parts; throws EVX_ERR_SIPREC_METADATA. */
export function parseMultipart(body: Buffer, boundary: string): BodyPart[] {
  const text = body.toString('latin1');
  const delim = '--' + boundary;
  let pos = text.indexOf(delim);
  if (pos < 0) bad('boundary not found');
  const parts: BodyPart[] = [];
  for (;;) {
    pos += delim.length;
    if (text.startsWith('--', pos)) break; // close delimiter
    const lineEnd = text.indexOf('\n', pos);
    if (lineEnd < 0) bad('unterminated delimiter line');
    const start = lineEnd + 1;
    const next = text.indexOf('\n' + delim, start);
    if (next < 0) bad('missing close delimiter');
    let end = next;
    if (text[end - 1] === '\r') end--;
    parts.push(parsePart(text.slice(start, end)));
    if (parts.length > MAX_PARTS) bad('too many parts');
    pos = next + 1;
  }
  return parts;
}

function parsePart(text: string): BodyPart {
  const sep = /\r?\n\r?\n/.exec(text);
  const head = sep === null ? text : text.slice(0, sep.index);
  const bodyText = sep === null ? '' : text.slice(sep.index + sep[0].length);
  const headers = new Map<string, string>();
  for (const line of head.split(/\r?\n/)) {
    if (line === '') continue;
    const c = line.indexOf(':');
    if (c <= 0) bad('bad part header');
    headers.set(line.slice(0, c).trim().toLowerCase(), line.slice(c + 1).trim());
  }
  return {
    contentType: (headers.get('content-type') ?? 'text/plain').split(';')[0]!.trim().toLowerCase(),
    headers,
    body: Buffer.from(bodyText, 'latin1'),
  };
}
