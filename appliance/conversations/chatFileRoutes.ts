/**
 * Files in chats over HTTP (files are too big for the chat socket's frames): a visitor sends one
 * to their chat, and the visitor or the agent holding (or offered) the chat fetches it. Public to
 * the console guard like the chat socket, because each request proves itself here:
 *
 * - POST /api/v1/chat/conversations/:id/files — `Authorization: Chat <chat token>` (the token the
 *   socket's `started` gave), the file as the body with its Content-Type, the name in `X-File-Name`
 *   (percent-encoded) and the page's `X-Client-Id` (a resend with the same id is the same message).
 *   Refused unless chat.uploads.enabled (415), from an origin the chat does not allow (403), for a
 *   closed chat (409), over chat.uploads.perVisitorPerHour (429; uploads still arriving count, so
 *   parallel requests cannot pass the limit together) or perAddressPerHour (429, over all the chats
 *   of one source address), over maxBytes (413, before the body is read), of a type not accepted or
 *   not starting like it (415). The name is kept cleaned, redacted and ending with the extension of
 *   the checked type.
 * - GET /api/v1/chat/files/:fileId — `Authorization: Chat <token>` of the file's chat, or
 *   `Agent <agent token>` of an agent who holds or is offered it. Anything else: 401 without
 *   credentials, 404 otherwise (a file's existence is not told). Always an attachment, never rendered
 *   by the box's origin (nosniff, a sandboxing CSP).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { evxError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { ChatFileRepo, checkFileType, cleanFileName, withTypeExtension, type ChatFile } from './chatFiles.js';
import { originAllowed } from './chatSocket.js';
import { RateLimiter } from './rateLimit.js';
import { verifyChatToken } from './chatTokens.js';
import type { ConversationService } from './conversationService.js';

export interface ChatUploadOptions {
  readonly enabled: boolean;
  readonly types: readonly string[];
  readonly maxBytes: number;
  readonly perVisitorPerHour: number;
  readonly perAddressPerHour: number;
}

export interface ChatFileRoutesDeps {
  readonly service: ConversationService;
  readonly files: ChatFileRepo;
  readonly secret: Uint8Array;
  readonly verifyAgent: (token: string) => { subject: string } | undefined;
  /** Whether an agent is still on the roster (as for the chat socket): a removed agent's token opens no file. */
  readonly agentActive?: (agentId: string) => boolean;
  readonly allowedOrigins: readonly string[];
  readonly uploads: ChatUploadOptions;
  readonly logger: Logger;
  readonly now?: () => number;
}

const ConversationParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' }) });
const FileParams = Type.Object({ fileId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) });
const ClientId = /^[A-Za-z0-9_.:-]{1,64}$/;
const HOUR_MS = 3_600_000;

/** The file as the pages see it (its name is the message's text). */
export const FileView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  type: Type.String(),
  bytes: Type.Integer(),
});
/** What an upload answers: the seq of the message that shows the file, and the file. */
export interface UploadReply {
  readonly seq: number;
  readonly file: Static<typeof FileView>;
}

export function fileView(f: ChatFile): Static<typeof FileView> {
  return { id: f.id, name: f.name, type: f.type, bytes: f.bytes };
}

/** `Chat <token>` or `Agent <token>` from the Authorization header; null when absent or of another scheme. */
function credentials(request: FastifyRequest): { kind: 'chat' | 'agent'; token: string } | null {
  const m = /^(Chat|Agent)\s+(\S{1,2000})$/i.exec(request.headers.authorization ?? '');
  if (m === null) return null;
  return { kind: m[1]!.toLowerCase() === 'chat' ? 'chat' : 'agent', token: m[2]! };
}

const unauthenticated = () => evxError('EVX_ERR_AUTH_REQUIRED', 'send Authorization: Chat <chat token> or Agent <agent token>');
const notFound = () => evxError('EVX_ERR_CHAT_NOT_FOUND', 'no such file for this chat or agent', { details: { resource: 'file' } });

export async function registerChatFileRoutes(app: FastifyInstance, deps: ChatFileRoutesDeps): Promise<void> {
  const now = deps.now ?? Date.now;
  const o = deps.uploads;
  const perAddress = new RateLimiter(o.perAddressPerHour / 60, { burst: o.perAddressPerHour, now });
  // Uploads past onRequest whose reply is not sent yet, by conversation (their rows do not exist yet).
  const arriving = new Map<string, number>();
  const counted = new WeakMap<FastifyRequest, string>();
  const release = (request: FastifyRequest): void => {
    const id = counted.get(request);
    if (id === undefined) return;
    counted.delete(request);
    const n = (arriving.get(id) ?? 1) - 1;
    if (n > 0) arriving.set(id, n);
    else arriving.delete(id);
  };
  const rateLimited = (what: string) => evxError('EVX_ERR_CHAT_RATE_LIMITED', what, { details: { retryAfterS: 60 } });
  // Its own scope: any body is read as bytes here (the type is checked against the file's first bytes).
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: o.maxBytes }, (_req, body, done) => done(null, body));

    scope.post<{ Params: Static<typeof ConversationParams> }>(
      '/api/v1/chat/conversations/:id/files',
      {
        bodyLimit: o.maxBytes,
        schema: { hide: true, params: ConversationParams },
        config: { public: true },
        // Everything that can refuse without the file is decided before its bytes are read.
        onRequest: async (request) => {
          if (!originAllowed(request, deps.allowedOrigins))
            throw evxError('EVX_ERR_CHAT_ORIGIN', 'this origin may not send files to the chat (chat.allowedOrigins)');
          if (!o.enabled) throw evxError('EVX_ERR_CHAT_UPLOAD_REFUSED', 'file uploads are not enabled on this box');
          const id = request.params.id;
          const who = credentials(request);
          if (who === null || who.kind !== 'chat') throw unauthenticated();
          const c = deps.service.find(id);
          if (c === undefined || c.channel !== 'chat' || !verifyChatToken(deps.secret, id, who.token))
            throw evxError('EVX_ERR_CHAT_NOT_FOUND', 'no such chat, or the token is not its');
          if (c.state === 'closed') throw evxError('EVX_ERR_CHAT_CLOSED', 'the conversation is closed');
          const clientId = request.headers['x-client-id'];
          if (typeof clientId !== 'string' || !ClientId.test(clientId))
            throw evxError('EVX_ERR_BAD_REQUEST', 'X-Client-Id (1-64 letters, digits, _ . : -) is required');
          if (deps.files.countSince(id, now() - HOUR_MS) + (arriving.get(id) ?? 0) >= o.perVisitorPerHour)
            throw rateLimited(`a chat may send ${o.perVisitorPerHour} files an hour`);
          if (!perAddress.take(request.ip)) throw rateLimited(`one address may send ${o.perAddressPerHour} files an hour`);
          arriving.set(id, (arriving.get(id) ?? 0) + 1);
          counted.set(request, id);
        },
        onResponse: async (request) => release(request),
        onRequestAbort: async (request) => release(request),
      },
      async (request, reply): Promise<UploadReply> => {
        const id = request.params.id;
        const clientId = request.headers['x-client-id'] as string;
        const body = request.body;
        if (!Buffer.isBuffer(body) || body.length === 0) throw evxError('EVX_ERR_BAD_REQUEST', 'send the file as the request body');
        const type = checkFileType(request.headers['content-type'], body, o.types);
        const rawName = request.headers['x-file-name'];
        const cleaned = withTypeExtension(cleanFileName(typeof rawName === 'string' ? rawName : undefined), type);
        // The row keeps the redacted name; the message gets the cleaned one and redacts it as it stores
        // any text (so its redaction count is recorded).
        const name = withTypeExtension(deps.service.redactText(id, cleaned), type);
        const file = deps.files.add({ conversationId: id, name, type, data: body, at: now() });
        let message;
        try {
          message = deps.service.postCustomerFile(id, clientId, cleaned, fileView(file));
        } catch (err) {
          deps.files.delete(file.id);
          throw err;
        }
        const kept = (message.meta['file'] as { id?: unknown } | undefined)?.id;
        if (kept !== file.id) deps.files.delete(file.id); // a resend: the first copy stays
        const stored = typeof kept === 'string' ? deps.files.get(kept) : undefined;
        deps.logger.info({ conversationId: id, seq: message.seq, type, bytes: body.length }, 'chat file received');
        void reply.code(kept === file.id ? 201 : 200);
        return { seq: message.seq, file: fileView(stored ?? file) };
      },
    );

    scope.get<{ Params: Static<typeof FileParams> }>(
      '/api/v1/chat/files/:fileId',
      { schema: { hide: true, params: FileParams }, config: { public: true } },
      async (request, reply) => {
        const who = credentials(request);
        if (who === null) throw unauthenticated();
        const file = deps.files.get(request.params.fileId);
        if (file === undefined) throw notFound();
        if (who.kind === 'chat' ? !verifyChatToken(deps.secret, file.conversationId, who.token) : !agentMaySee(deps, who.token, file))
          throw notFound();
        const data = deps.files.data(file.id);
        if (data === undefined) throw notFound();
        return reply
          .header('content-type', file.type)
          .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(file.name)}`)
          .header('x-content-type-options', 'nosniff')
          .header('content-security-policy', "default-src 'none'; sandbox")
          .header('cache-control', 'private, no-store')
          .send(data);
      },
    );
  });
}

/** An agent sees a chat's files while holding the chat, or while it is offered to them. */
function agentMaySee(deps: ChatFileRoutesDeps, token: string, file: ChatFile): boolean {
  const agent = deps.verifyAgent(token);
  if (agent === undefined || deps.agentActive?.(agent.subject) === false) return false;
  const c = deps.service.find(file.conversationId);
  if (c === undefined) return false;
  if (c.state !== 'waiting') return c.agentId === agent.subject;
  return deps.service.offersFor(agent.subject).some((x) => x.id === c.id);
}
