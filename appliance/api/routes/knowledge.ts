/**
 * Knowledge base API (agent assist): upload an article (Markdown, plain text) or a CSV of
 * question/answer pairs, list, read with its versions, delete, and search for knowledge cards.
 * Supervisors (and technicians) change the knowledge; every signed-in console role from viewer up
 * reads and searches it. An upload is read as raw bytes (strict UTF-8, 2 MiB): a refused one gets
 * a registry error and the old index keeps serving. The audit trail records each change (never the body).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { evxError } from '../../errors.js';
import { KNOWLEDGE_LANGUAGES, MAX_KB_UPLOAD_BYTES, UPLOAD_FORMATS, splitList, type UploadFormat } from '../../assist/articleUpload.js';
import type { KnowledgeBase } from '../../assist/knowledgeBase.js';

/** Content types an upload may be sent with, and the format each means when `format` is not given. */
export const KNOWLEDGE_CONTENT_TYPES: Readonly<Record<string, UploadFormat>> = {
  'text/markdown': 'markdown',
  'text/x-markdown': 'markdown',
  'text/plain': 'text',
  'text/csv': 'csv',
};

const Language = Type.Union(KNOWLEDGE_LANGUAGES.map((l) => Type.Literal(l)));
const Format = Type.Union(UPLOAD_FORMATS.map((f) => Type.Literal(f)));
const ArticleSummary = Type.Object(
  {
    articleId: Type.String(),
    version: Type.Integer(),
    title: Type.String(),
    tags: Type.Array(Type.String()),
    intents: Type.Array(Type.String()),
    language: Language,
    format: Format,
    updatedAt: Type.Integer({ description: 'When the current version was stored (unix ms)' }),
    author: Type.String(),
  },
  { additionalProperties: false },
);
const ArticleVersion = Type.Object(
  {
    version: Type.Integer(),
    title: Type.String(),
    body: Type.String(),
    tags: Type.Array(Type.String()),
    intents: Type.Array(Type.String()),
    language: Language,
    format: Format,
    author: Type.String(),
    createdAt: Type.Integer(),
  },
  { additionalProperties: false },
);
const ArticleReply = Type.Object(
  { articleId: Type.String(), current: ArticleVersion, versions: Type.Array(ArticleVersion, { description: 'Newest first' }) },
  { additionalProperties: false },
);
const Params = Type.Object({ articleId: Type.String({ minLength: 1, maxLength: 80 }) }, { additionalProperties: false });
type Params = Static<typeof Params>;
const ListQuery = Type.Object({ language: Type.Optional(Language) }, { additionalProperties: false });
const UploadQuery = Type.Object(
  {
    format: Type.Optional(Format),
    id: Type.Optional(
      Type.String({ maxLength: 80, description: 'Article id (Markdown/plain text); default: from front matter or a slug of the title' }),
    ),
    title: Type.Optional(
      Type.String({ maxLength: 200, description: 'Title; default: front matter, the first heading, or the first line' }),
    ),
    tags: Type.Optional(Type.String({ maxLength: 1000, description: 'Comma-separated' })),
    intents: Type.Optional(Type.String({ maxLength: 2000, description: 'Comma-separated intent labels, e.g. lost_or_stolen_card' })),
    language: Type.Optional(Language),
  },
  { additionalProperties: false },
);
type UploadQuery = Static<typeof UploadQuery>;
const UploadReply = Type.Object(
  {
    articles: Type.Array(
      Type.Object({ articleId: Type.String(), version: Type.Integer(), changed: Type.Boolean() }, { additionalProperties: false }),
    ),
    indexed: Type.Integer({ description: 'Live articles in the index after the upload' }),
  },
  { additionalProperties: false },
);
const SearchQuery = Type.Object(
  {
    text: Type.String({ minLength: 1, maxLength: 2000 }),
    language: Type.Optional(Language),
    intent: Type.Optional(Type.String({ maxLength: 80 })),
    limit: Type.Integer({ minimum: 1, maximum: 20, default: 5 }),
  },
  { additionalProperties: false },
);
type SearchQuery = Static<typeof SearchQuery>;
const Card = Type.Object(
  {
    articleId: Type.String(),
    version: Type.Integer(),
    title: Type.String(),
    snippet: Type.String(),
    score: Type.Number(),
    intents: Type.Array(Type.String(), { description: 'The intents the article is labelled with' }),
  },
  { additionalProperties: false },
);
const SearchReply = Type.Object({ cards: Type.Array(Card) }, { additionalProperties: false });

const userOf = (request: FastifyRequest): string => request.principal?.username ?? 'unknown';

/** Reads a request body as bytes, refusing it (EVX_ERR_KB_TOO_LARGE) as soon as it passes the limit. */
function readBody(request: FastifyRequest, payload: NodeJS.ReadableStream, done: (err: Error | null, body?: Buffer) => void): void {
  const declared = Number(request.headers['content-length']);
  const tooLarge = (): Error =>
    evxError('EVX_ERR_KB_TOO_LARGE', `the upload is larger than ${MAX_KB_UPLOAD_BYTES} bytes`, {
      details: { limitBytes: MAX_KB_UPLOAD_BYTES },
    });
  if (Number.isFinite(declared) && declared > MAX_KB_UPLOAD_BYTES) {
    payload.resume(); // drain what the client sends; the answer goes out at once
    return done(tooLarge());
  }
  const chunks: Buffer[] = [];
  let bytes = 0;
  let finished = false;
  const finish = (err: Error | null, body?: Buffer): void => {
    if (finished) return;
    finished = true;
    done(err, body);
  };
  payload.on('data', (chunk: Buffer) => {
    if (finished) return;
    bytes += chunk.length;
    if (bytes > MAX_KB_UPLOAD_BYTES) {
      chunks.length = 0;
      return finish(tooLarge());
    }
    chunks.push(chunk);
  });
  payload.on('end', () => finish(null, Buffer.concat(chunks)));
  payload.on('error', (err: Error) => finish(err));
}

export async function registerKnowledgeRoutes(app: FastifyInstance, deps: { knowledge: KnowledgeBase }): Promise<void> {
  const kb = deps.knowledge;
  // Its own scope: these raw-text parsers (strict UTF-8 is checked on the bytes) apply to these routes only.
  await app.register(async (scope) => {
    scope.removeContentTypeParser('text/plain');
    scope.addContentTypeParser(Object.keys(KNOWLEDGE_CONTENT_TYPES), readBody);

    scope.get<{ Querystring: Static<typeof ListQuery> }>(
      '/api/v1/knowledge/articles',
      {
        schema: {
          summary: 'Live knowledge articles (current versions, without their text), optionally of one language',
          tags: ['knowledge'],
          querystring: ListQuery,
          response: { 200: Type.Object({ articles: Type.Array(ArticleSummary) }, { additionalProperties: false }) },
        },
        config: { minRole: 'viewer' },
      },
      async (request) => ({ articles: kb.list(request.query.language) }),
    );

    scope.get<{ Params: Params }>(
      '/api/v1/knowledge/articles/:articleId',
      {
        schema: {
          summary: 'A live knowledge article: its current version with text, and every stored version',
          tags: ['knowledge'],
          params: Params,
          response: { 200: ArticleReply },
        },
        config: { minRole: 'viewer' },
      },
      async (request) => {
        const current = kb.article(request.params.articleId);
        if (current === null) throw evxError('EVX_ERR_NOT_FOUND', 'no live knowledge article has this id');
        const view = ({ articleId: _id, ...v }: typeof current) => ({ ...v, tags: [...v.tags], intents: [...v.intents] });
        return { articleId: current.articleId, current: view(current), versions: kb.versions(current.articleId).map(view) };
      },
    );

    scope.post<{ Querystring: UploadQuery; Body: unknown }>(
      '/api/v1/knowledge/articles',
      {
        bodyLimit: MAX_KB_UPLOAD_BYTES,
        schema: {
          summary:
            'Upload knowledge: a Markdown or plain-text article (text/markdown, text/plain) or a CSV of question/answer pairs (text/csv; columns question, answer and optionally id, title, tags, intents, language). UTF-8, at most 2 MiB. An article id that exists gets a new version; a refused upload changes nothing.',
          tags: ['knowledge'],
          querystring: UploadQuery,
          response: { 200: UploadReply },
        },
        config: { minRole: 'supervisor' },
      },
      async (request) => {
        const body = request.body;
        const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (!Buffer.isBuffer(body)) {
          throw evxError(
            'EVX_ERR_BAD_REQUEST',
            `send the file as the request body with Content-Type ${Object.keys(KNOWLEDGE_CONTENT_TYPES).join(', ')}`,
            {
              details: { reason: 'content-type' },
            },
          );
        }
        const q = request.query;
        const format = q.format ?? KNOWLEDGE_CONTENT_TYPES[contentType] ?? 'text';
        const result = await kb.upload(
          body,
          {
            format,
            articleId: q.id,
            title: q.title,
            tags: q.tags === undefined ? undefined : splitList(q.tags),
            intents: q.intents === undefined ? undefined : splitList(q.intents),
            language: q.language,
          },
          userOf(request),
        );
        return { articles: [...result.articles], indexed: result.indexed };
      },
    );

    scope.delete<{ Params: Params }>(
      '/api/v1/knowledge/articles/:articleId',
      {
        schema: {
          summary: 'Delete a knowledge article: it leaves the index at once; its versions stay stored',
          tags: ['knowledge'],
          params: Params,
          response: { 200: Type.Object({ articleId: Type.String(), deleted: Type.Boolean() }, { additionalProperties: false }) },
        },
        config: { minRole: 'supervisor' },
      },
      async (request) => {
        const deleted = await kb.remove(request.params.articleId, userOf(request));
        if (!deleted) throw evxError('EVX_ERR_NOT_FOUND', 'no live knowledge article has this id');
        return { articleId: request.params.articleId, deleted };
      },
    );

    scope.get<{ Querystring: SearchQuery }>(
      '/api/v1/knowledge/search',
      {
        schema: {
          summary:
            "Knowledge cards for what a caller said: ranked by BM25 over title, text and tags in the caller's language; articles labelled with the caller's intent (when given) are boosted",
          tags: ['knowledge'],
          querystring: SearchQuery,
          response: { 200: SearchReply },
        },
        config: { minRole: 'viewer' },
      },
      async (request) => {
        const q = request.query;
        return { cards: kb.search(q.text, { language: q.language ?? 'en', intent: q.intent ?? null, limit: q.limit }) };
      },
    );
  });
}
