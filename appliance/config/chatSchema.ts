/**
 * The web chat section of the configuration schema (schema.ts holds the whole): who may open the
 * chat socket (conversations/chatSocket.ts), its limits, redaction, identity tokens, and the files
 * visitors may send (conversations/chatFiles.ts).
 */
import { Type } from '@sinclair/typebox';
import { Section } from './schemaParts.js';

export const ChatSection = Section(
  {
    enabled: Type.Boolean({
      default: true,
      description: 'Offer web chat on the "call us" page and take chats in the softphone page (needs webrtc)',
    }),
    allowedOrigins: Type.Array(Type.String({ minLength: 1, maxLength: 300, pattern: '^https?://[^/\\s]+$' }), {
      default: [],
      maxItems: 100,
      description: "Origins (scheme://host[:port]) of sites whose pages may open the chat socket; empty = the box's own origin only",
    }),
    maxChatsPerAgent: Type.Integer({
      minimum: 1,
      maximum: 20,
      default: 3,
      description: 'Chats an agent may hold at once (besides one call)',
    }),
    maxMessageChars: Type.Integer({ minimum: 1, maximum: 20_000, default: 2000, description: 'Longest chat message (characters)' }),
    maxFrameBytes: Type.Integer({
      minimum: 256,
      maximum: 65_536,
      default: 16_384,
      description: 'Largest chat socket frame; a larger one closes the socket',
    }),
    visitorMessagesPerMinute: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 30,
      description: 'Messages (and typing signals / 10) one visitor may send per minute',
    }),
    ipMessagesPerMinute: Type.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 240,
      description: 'Messages from one source address per minute, all its visitors together',
    }),
    ipSessionsPerMinute: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 20,
      description: 'New chats from one source address per minute',
    }),
    maxMessagesBeforeDefault: Type.Integer({
      minimum: 1,
      maximum: 20,
      default: 3,
      description: 'Visitor messages without a usable intent before the chat goes to the default skill group',
    }),
    redact: Type.Boolean({
      default: true,
      description:
        'Redact chat messages (card numbers, phone numbers, ... as privacy.redaction.categories) before they are stored or shown to the agent',
    }),
    identitySecret: Type.String({
      maxLength: 200,
      default: '',
      description:
        "Secret (32+ characters) the site signs visitors' identity tokens with (HMAC-SHA256, customers/identityToken.ts): a signed customer id / phone / e-mail links the chat to the customer's timeline; empty = no token accepted, typed identifiers never link",
    }),
    uploads: Section(
      {
        enabled: Type.Boolean({
          default: false,
          description:
            "Let visitors send files in a chat (the types below, up to maxBytes); off: an upload is refused. A file's content is not redacted (a photo of a card stays as it is): it is kept on the box, shown only to the agent holding the chat and deleted by privacy.retention.chatFilesHours",
        }),
        types: Type.Array(
          Type.Union([
            Type.Literal('image/png'),
            Type.Literal('image/jpeg'),
            Type.Literal('image/gif'),
            Type.Literal('image/webp'),
            Type.Literal('application/pdf'),
          ]),
          {
            default: ['image/png', 'image/jpeg', 'application/pdf'],
            maxItems: 5,
            uniqueItems: true,
            description: 'File types a visitor may send; a file must also start like its type (its first bytes are checked)',
          },
        ),
        maxBytes: Type.Integer({ minimum: 1024, maximum: 25_000_000, default: 5_000_000, description: 'Largest file (bytes)' }),
        perVisitorPerHour: Type.Integer({ minimum: 1, maximum: 1000, default: 10, description: 'Files one chat may send per hour' }),
        perAddressPerHour: Type.Integer({
          minimum: 1,
          maximum: 10_000,
          default: 30,
          description:
            'Files one source address may send per hour over all its chats (a visitor may start many chats; uploads in progress count)',
        }),
      },
      'Files visitors send in a chat: off unless enabled',
    ),
  },
  'Web chat: origins, limits, redaction, files',
);
