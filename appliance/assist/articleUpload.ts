/**
 * Reading a knowledge upload into article drafts: strict UTF-8, a size limit, Markdown (front
 * matter, title from the first heading), plain text (title from a field or the first line) and
 * CSV of question/answer pairs (one article per row). Everything is checked before anything is
 * stored, so a refused upload changes nothing.
 */
import { createHash } from 'node:crypto';
import { evxError } from '../errors.js';
import { parseCsvStrict } from './csv.js';

/** The largest upload accepted (bytes): a CSV of a few thousand answers fits. */
export const MAX_KB_UPLOAD_BYTES = 2 * 1024 * 1024;
/** The longest article body (characters): cards are short; a longer text belongs in several articles. */
export const MAX_ARTICLE_BODY_CHARS = 20_000;
export const MAX_ARTICLE_TITLE_CHARS = 200;
/** Rows of one CSV upload. */
export const MAX_CSV_ARTICLES = 5_000;

export const KNOWLEDGE_LANGUAGES = ['en', 'zh'] as const;
export type KnowledgeLanguage = (typeof KNOWLEDGE_LANGUAGES)[number];
export const UPLOAD_FORMATS = ['markdown', 'text', 'csv'] as const;
export type UploadFormat = (typeof UPLOAD_FORMATS)[number];

/** One article as uploaded, before it is stored and given a version. */
export interface ArticleDraft {
  readonly articleId: string;
  readonly title: string;
  readonly body: string;
  readonly tags: readonly string[];
  /** Intent labels the article answers (e.g. BANKING77 `lost_or_stolen_card`): boosted when the caller's intent is one. */
  readonly intents: readonly string[];
  readonly language: KnowledgeLanguage;
  readonly format: UploadFormat;
}

/** Fields the uploader may give beside the file; they win over the file's own front matter. */
export interface UploadMeta {
  readonly format: UploadFormat;
  readonly articleId?: string | undefined;
  readonly title?: string | undefined;
  readonly tags?: readonly string[] | undefined;
  readonly intents?: readonly string[] | undefined;
  readonly language?: KnowledgeLanguage | undefined;
}

const ARTICLE_ID = /^[\p{L}\p{N}][\p{L}\p{N}_.-]{0,79}$/u;
const LABEL = /^[\p{L}\p{N}][\p{L}\p{N}_?.:\- ]{0,79}$/u;
const HAN = /\p{Script=Han}/gu;

function invalid(message: string, details: Record<string, unknown> = {}): never {
  throw evxError('EVX_ERR_KB_ARTICLE', message, { details });
}

/** The text of an upload: UTF-8 only (a byte-order mark is dropped), no NUL characters. */
export function decodeUpload(bytes: Uint8Array): string {
  if (bytes.byteLength > MAX_KB_UPLOAD_BYTES) {
    throw evxError('EVX_ERR_KB_TOO_LARGE', `the upload is ${bytes.byteLength} bytes; the limit is ${MAX_KB_UPLOAD_BYTES}`, {
      details: { limitBytes: MAX_KB_UPLOAD_BYTES },
    });
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch (cause) {
    throw evxError('EVX_ERR_KB_ENCODING', 'the upload is not valid UTF-8; save the file as UTF-8 and upload it again', { cause });
  }
  if (text.includes('\u0000')) throw evxError('EVX_ERR_KB_ENCODING', 'the upload contains NUL characters: it is not a text file');
  return text;
}

/** A list field: separated by `;`, `|` or `,`, trimmed, empty items dropped. */
export function splitList(value: string): string[] {
  return value
    .split(/[;|,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The language of a text when none is given: Chinese when Han characters make up a fifth of its letters. */
export function guessLanguage(text: string): KnowledgeLanguage {
  const han = text.match(HAN)?.length ?? 0;
  const letters = text.match(/\p{L}/gu)?.length ?? 0;
  return letters > 0 && han / letters >= 0.2 ? 'zh' : 'en';
}

/** An article id from a title: lower case, runs of other characters as `-`. */
export function slugOf(title: string): string {
  return title
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80)
    .replace(/-+$/, '');
}

function languageOf(value: string | undefined, fallbackText: string): KnowledgeLanguage {
  if (value === undefined || value.trim() === '') return guessLanguage(fallbackText);
  const v = value.trim().toLowerCase();
  if (v === 'en' || v === 'zh') return v;
  if (v === 'zh-cn' || v === 'zh-hans') return 'zh';
  return invalid(`language must be en or zh, not "${value.slice(0, 20)}"`, { field: 'language' });
}

/** Checks and completes one draft (id from the title when missing). */
function draft(fields: {
  articleId?: string | undefined;
  title: string;
  body: string;
  tags: readonly string[];
  intents: readonly string[];
  language: KnowledgeLanguage;
  format: UploadFormat;
  where: string;
}): ArticleDraft {
  const title = fields.title.replace(/\s+/g, ' ').trim();
  const body = fields.body.replace(/\r\n?/g, '\n').trim();
  if (title === '') invalid(`${fields.where}: the article has no title (give one, or start the text with a heading)`, { field: 'title' });
  if (title.length > MAX_ARTICLE_TITLE_CHARS)
    invalid(`${fields.where}: the title is longer than ${MAX_ARTICLE_TITLE_CHARS} characters`, { field: 'title' });
  if (body === '') invalid(`${fields.where}: the article has no text`, { field: 'body' });
  if (body.length > MAX_ARTICLE_BODY_CHARS)
    invalid(`${fields.where}: the text is longer than ${MAX_ARTICLE_BODY_CHARS} characters`, { field: 'body' });
  const articleId = fields.articleId?.trim() || slugOf(title);
  if (!ARTICLE_ID.test(articleId))
    invalid(`${fields.where}: the article id must be letters, digits, '-', '_' or '.', at most 80`, { field: 'id' });
  for (const [name, list] of [
    ['tags', fields.tags],
    ['intents', fields.intents],
  ] as const) {
    if (list.length > 20) invalid(`${fields.where}: at most 20 ${name}`, { field: name });
    for (const item of list)
      if (!LABEL.test(item)) invalid(`${fields.where}: ${name} must be short labels (letters, digits, _ ? . : -)`, { field: name });
  }
  return {
    articleId,
    title,
    body,
    tags: [...new Set(fields.tags)],
    intents: [...new Set(fields.intents)],
    language: fields.language,
    format: fields.format,
  };
}

/** Front matter: `---` lines of `key: value` at the very top. */
function frontMatter(text: string): { fields: Map<string, string>; rest: string } {
  const fields = new Map<string, string>();
  const m = /^---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/.exec(text);
  if (m === null) return { fields, rest: text };
  for (const line of m[1]!.split(/\r?\n/)) {
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    const kv = /^([A-Za-z_]+)\s*:\s*(.*)$/.exec(line);
    if (kv === null) invalid('the front matter has a line that is not "key: value"', { field: 'front-matter' });
    fields.set(kv[1]!.toLowerCase(), kv[2]!.trim());
  }
  return { fields, rest: text.slice(m[0].length) };
}

function fromDocument(text: string, meta: UploadMeta): ArticleDraft {
  const { fields, rest } = frontMatter(text);
  let title = meta.title ?? fields.get('title');
  let body = rest;
  if (title === undefined || title.trim() === '') {
    const lines = rest.replace(/\r\n?/g, '\n').split('\n');
    const at = lines.findIndex((l) => l.trim() !== '');
    const first = at >= 0 ? lines[at]!.trim() : '';
    const heading = /^#{1,6}\s+(.*?)\s*#*$/.exec(first);
    // Markdown: the first heading; plain text: the first line (a Markdown file without a heading too)
    title = heading !== null ? heading[1]! : first;
    body = lines.slice(at + 1).join('\n');
  }
  const list = (given: readonly string[] | undefined, key: string): readonly string[] => given ?? splitList(fields.get(key) ?? '');
  return draft({
    articleId: meta.articleId ?? fields.get('id'),
    title,
    body,
    tags: list(meta.tags, 'tags'),
    intents: list(meta.intents, 'intents'),
    language: meta.language ?? languageOf(fields.get('language'), `${title} ${body}`),
    format: meta.format,
    where: 'the article',
  });
}

const CSV_COLUMNS = ['question', 'answer', 'id', 'title', 'tags', 'intents', 'language'] as const;

function fromCsv(text: string, meta: UploadMeta): ArticleDraft[] {
  const [header, ...rows] = parseCsvStrict(text);
  if (header === undefined) throw evxError('EVX_ERR_KB_CSV', 'the CSV file is empty', { details: { line: 1 } });
  const names = header.map((h) => h.trim().toLowerCase());
  const unknown = names.filter((n) => !(CSV_COLUMNS as readonly string[]).includes(n));
  if (unknown.length > 0 || !names.includes('question') || !names.includes('answer') || new Set(names).size !== names.length) {
    throw evxError(
      'EVX_ERR_KB_CSV',
      `the header must name the columns question and answer, and may add ${CSV_COLUMNS.slice(2).join(', ')}, each once`,
      {
        details: { line: 1 },
      },
    );
  }
  if (rows.length === 0) throw evxError('EVX_ERR_KB_CSV', 'the CSV file has a header but no rows', { details: { line: 2 } });
  if (rows.length > MAX_CSV_ARTICLES)
    throw evxError('EVX_ERR_KB_CSV', `at most ${MAX_CSV_ARTICLES} rows per upload`, { details: { line: MAX_CSV_ARTICLES + 2 } });
  const col = (row: readonly string[], name: string): string | undefined => {
    const i = names.indexOf(name);
    return i < 0 ? undefined : row[i];
  };
  const seen = new Set<string>();
  return rows.map((row, n) => {
    const question = col(row, 'question') ?? '';
    const answer = col(row, 'answer') ?? '';
    const where = `row ${n + 1}`;
    const given = (name: string, fallback: readonly string[] | undefined): readonly string[] => {
      const v = col(row, name);
      return v !== undefined && v.trim() !== '' ? splitList(v) : (fallback ?? []);
    };
    const d = draft({
      articleId: col(row, 'id'),
      title: col(row, 'title')?.trim() || question,
      // the question is part of the text: callers phrase their problem like it
      body: question.trim() === '' || col(row, 'title')?.trim() ? `${question}\n\n${answer}`.trim() : answer,
      tags: given('tags', meta.tags),
      intents: given('intents', meta.intents),
      language: col(row, 'language')?.trim()
        ? languageOf(col(row, 'language'), '')
        : (meta.language ?? guessLanguage(`${question} ${answer}`)),
      format: 'csv',
      where,
    });
    if (answer.trim() === '') invalid(`${where}: the answer is empty`, { field: 'answer', row: n + 1 });
    if (seen.has(d.articleId)) invalid(`${where}: the article id "${d.articleId}" appears twice in the file`, { field: 'id', row: n + 1 });
    seen.add(d.articleId);
    return d;
  });
}

/** The articles of one upload (one for Markdown and plain text, one per row for CSV). */
export function parseUpload(bytes: Uint8Array, meta: UploadMeta): ArticleDraft[] {
  const text = decodeUpload(bytes);
  if (meta.format === 'csv') return fromCsv(text, meta);
  return [fromDocument(text, meta)];
}

/** A digest of what an article says, to tell a real change from a repeated upload. */
export function contentSha256(d: Omit<ArticleDraft, 'articleId' | 'format'>): string {
  return createHash('sha256')
    .update(JSON.stringify([d.title, d.body, [...d.tags].sort(), [...d.intents].sort(), d.language]))
    .digest('hex');
}
