/**
 * A tiny, bounded XML reader for SIPREC metadata (RFC 7865). No DTDs, no external entities, only
 * the five predefined entities and numeric references: it cannot be made to fetch or expand anything.
 */
import { evxError } from '../errors.js';

export interface XmlElement {
  /** Local name (namespace prefix stripped). */
  readonly name: string;
  readonly attributes: ReadonlyMap<string, string>;
  readonly children: XmlElement[];
  text: string;
}

const MAX_DEPTH = 32;
const MAX_ELEMENTS = 4096;

function bad(reason: string): never {
  throw evxError('EVX_ERR_SIPREC_METADATA', `metadata XML: ${reason}`, { details: { reason } });
}

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9A-Fa-f]{1,6}|#[0-9]{1,7}|amp|lt|gt|quot|apos);/g, (_m, e: string) => {
    if (e === 'amp') return '&';
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    const cp = e.startsWith('#x') ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
  });
}

function localName(qname: string): string {
  const c = qname.indexOf(':');
  return c >= 0 ? qname.slice(c + 1) : qname;
}

/** Parse a document and return its root element; throws EVX_ERR_SIPREC_METADATA. */
export function parseXml(text: string): XmlElement {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) bad('DTDs are not accepted');
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let count = 0;
  let i = 0;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const chunk = lt < 0 ? text.slice(i) : text.slice(i, lt);
    if (chunk.trim() !== '') {
      const top = stack[stack.length - 1];
      if (top === undefined) bad('text outside the root element');
      top.text += decodeEntities(chunk);
    }
    if (lt < 0) break;
    if (text.startsWith('<?', lt)) {
      const end = text.indexOf('?>', lt);
      if (end < 0) bad('unterminated processing instruction');
      i = end + 2;
    } else if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt);
      if (end < 0) bad('unterminated comment');
      i = end + 3;
    } else if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt);
      if (end < 0) bad('unterminated CDATA');
      const top = stack[stack.length - 1];
      if (top === undefined) bad('CDATA outside the root element');
      top.text += text.slice(lt + 9, end);
      i = end + 3;
    } else if (text.startsWith('</', lt)) {
      const end = text.indexOf('>', lt);
      if (end < 0) bad('unterminated end tag');
      const name = localName(text.slice(lt + 2, end).trim());
      const top = stack.pop();
      if (top === undefined || top.name !== name) bad('mismatched end tag');
      i = end + 1;
    } else {
      const end = text.indexOf('>', lt);
      if (end < 0) bad('unterminated start tag');
      let inner = text.slice(lt + 1, end);
      const selfClosing = inner.endsWith('/');
      if (selfClosing) inner = inner.slice(0, -1);
      const m = /^([A-Za-z_][\w.\-:]*)([\s\S]*)$/.exec(inner);
      if (m === null) bad('bad start tag');
      const attributes = new Map<string, string>();
      const attrRe = /\s+([A-Za-z_][\w.\-:]*)\s*=\s*("([^"]*)"|'([^']*)')/g;
      let rest = m[2]!;
      let am: RegExpExecArray | null;
      let consumed = 0;
      while ((am = attrRe.exec(rest)) !== null) {
        if (am.index !== consumed) bad('bad attribute syntax');
        attributes.set(localName(am[1]!), decodeEntities(am[3] ?? am[4] ?? ''));
        consumed = attrRe.lastIndex;
      }
      rest = rest.slice(consumed);
      if (rest.trim() !== '') bad('bad attribute syntax');
      const el: XmlElement = { name: localName(m[1]!), attributes, children: [], text: '' };
      if (++count > MAX_ELEMENTS) bad('too many elements');
      const parent = stack[stack.length - 1];
      if (parent !== undefined) parent.children.push(el);
      else if (root === undefined) root = el;
      else bad('more than one root element');
      if (!selfClosing) {
        stack.push(el);
        if (stack.length > MAX_DEPTH) bad('nesting too deep');
      }
      i = end + 1;
    }
  }
  if (stack.length > 0) bad('unclosed element');
  if (root === undefined) bad('no root element');
  return root;
}

export function childrenNamed(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}

export function childText(el: XmlElement, name: string): string | undefined {
  const c = el.children.find((x) => x.name === name);
  return c === undefined ? undefined : c.text.trim();
}
