/**
 * Voice prompts API: what each prompt of a language is now (built default or the site's own
 * recording), its audio, and for technicians uploading a recording (a WAV body, validated before
 * anything is written; a refused one leaves the old file) or going back to the default.
 * Changes are recorded by the audit trail like every write (never the body).
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { evxError } from '../../errors.js';
import { MAX_PROMPT_UPLOAD_BYTES, type PromptStore } from '../../prompts/promptStore.js';

/** Content types a WAV upload may be sent with. */
export const WAV_CONTENT_TYPES = ['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/vnd.wave'] as const;

const PromptView = Type.Object(
  {
    lang: Type.String(),
    name: Type.String({ description: 'File id: greeting, hold-music, position-3, ...' }),
    prompt: Type.String({ description: 'The prompt the file belongs to (position for position-3)' }),
    n: Type.Union([Type.Integer(), Type.Null()], { description: 'The number a templated prompt says' }),
    kind: Type.Union([Type.Literal('speech'), Type.Literal('music')]),
    text: Type.Union([Type.String(), Type.Null()], { description: "The default's wording (null for music)" }),
    source: Type.Union([Type.Literal('default'), Type.Literal('site')]),
    sampleRateHz: Type.Integer(),
    durationMs: Type.Integer(),
    sha256: Type.String(),
    updatedAt: Type.Union([Type.Integer(), Type.Null()], { description: 'When the site recording was stored (unix ms)' }),
  },
  { additionalProperties: false },
);
const ListQuery = Type.Object({ lang: Type.String({ default: 'en', maxLength: 12 }) }, { additionalProperties: false });
const ListReply = Type.Object(
  { lang: Type.String(), languages: Type.Array(Type.String()), prompts: Type.Array(PromptView) },
  { additionalProperties: false },
);
const Params = Type.Object(
  { lang: Type.String({ minLength: 2, maxLength: 12 }), name: Type.String({ minLength: 1, maxLength: 80 }) },
  { additionalProperties: false },
);
type Params = Static<typeof Params>;

export interface PromptRoutesDeps {
  readonly prompts: PromptStore;
}

export async function registerPromptRoutes(app: FastifyInstance, deps: PromptRoutesDeps): Promise<void> {
  // Its own scope: the WAV body parser applies to these routes only.
  await app.register(async (scope) => {
    scope.addContentTypeParser([...WAV_CONTENT_TYPES], { parseAs: 'buffer', bodyLimit: MAX_PROMPT_UPLOAD_BYTES }, (_req, body, done) =>
      done(null, body),
    );

    scope.get<{ Querystring: Static<typeof ListQuery> }>(
      '/api/v1/prompts',
      {
        schema: {
          summary: "Every voice prompt file of a language: built default or the site's recording, duration, sha256",
          tags: ['prompts'],
          querystring: ListQuery,
          response: { 200: ListReply },
        },
        config: { minRole: 'viewer' },
      },
      async (request): Promise<Static<typeof ListReply>> => {
        const { lang } = request.query;
        const [languages, prompts] = await Promise.all([deps.prompts.languages(), deps.prompts.list(lang)]);
        return { lang, languages, prompts };
      },
    );

    scope.get<{ Params: Params }>(
      '/api/v1/prompts/:lang/:name.wav',
      {
        schema: { summary: 'The WAV file a prompt plays now (audio/wav)', tags: ['prompts'], params: Params },
        config: { minRole: 'viewer' },
      },
      async (request, reply) => {
        const { bytes, info } = await deps.prompts.file(request.params.lang, request.params.name);
        return reply
          .header('content-type', 'audio/wav')
          .header('content-disposition', `inline; filename="${info.lang}-${info.name}.wav"`)
          .header('etag', `"${info.sha256}"`)
          .header('x-prompt-source', info.source)
          .header('cache-control', 'no-cache')
          .send(bytes);
      },
    );

    scope.put<{ Params: Params; Body: unknown }>(
      '/api/v1/prompts/:lang/:name',
      {
        bodyLimit: MAX_PROMPT_UPLOAD_BYTES,
        schema: {
          summary:
            "Replace a prompt with the site's recording: body audio/wav, 16-bit PCM, mono or stereo, 8-48 kHz, 0.3-300 s, not silent; a refused file leaves the old one",
          tags: ['prompts'],
          params: Params,
          response: { 200: PromptView },
        },
        config: { minRole: 'technician' },
      },
      async (request) => {
        const body = request.body;
        if (!Buffer.isBuffer(body)) {
          throw evxError('EVX_ERR_AUDIO_FORMAT', `send the recording as the request body with Content-Type: ${WAV_CONTENT_TYPES[0]}`, {
            details: { reason: 'content-type' },
          });
        }
        return deps.prompts.replace(request.params.lang, request.params.name, body);
      },
    );

    scope.delete<{ Params: Params }>(
      '/api/v1/prompts/:lang/:name',
      {
        schema: {
          summary: "Remove the site's recording of a prompt: the built default plays again",
          tags: ['prompts'],
          params: Params,
          response: { 200: PromptView },
        },
        config: { minRole: 'technician' },
      },
      async (request) => deps.prompts.reset(request.params.lang, request.params.name),
    );
  });
}
