/**
 * The e-mail intake section of the configuration schema (schema.ts holds the whole): the SMTP
 * listener that turns mail for configured addresses into e-mail cases (conversations/emailIntake.ts)
 * and the SMTP relay agents' replies go out through (conversations/emailReply.ts).
 */
import { Type } from '@sinclair/typebox';
import { Port, Section } from './schemaParts.js';

const Address = (description: string) => Type.String({ minLength: 3, maxLength: 320, pattern: '^[^\\s@<>]+@[^\\s@<>]+$', description });

export const EmailSection = Section(
  {
    enabled: Type.Boolean({
      default: false,
      description: 'Accept e-mail for the configured addresses (an SMTP listener) and turn each thread into a case routed like a chat',
    }),
    host: Type.String({ default: '0.0.0.0', maxLength: 253, description: 'Address the SMTP listener binds to' }),
    port: Port(2525, 'SMTP listener port (0 = any free port; put port 25 in front with a firewall redirect)'),
    recipients: Type.Array(
      Type.Object(
        {
          address: Address('An address the box accepts mail for (support@branch.example); any other recipient is refused with 550'),
          group: Type.String({
            default: '',
            maxLength: 100,
            description: 'Skill group its cases go to (empty: routed by the intent of the first message, like a chat)',
          }),
        },
        { additionalProperties: false },
      ),
      { default: [], maxItems: 100, description: 'Addresses the box accepts mail for, each with the skill group its cases go to' },
    ),
    maxMessageBytes: Type.Integer({
      minimum: 1024,
      maximum: 50_000_000,
      default: 1_000_000,
      description: 'Largest message accepted (SIZE); a larger one is refused with 552',
    }),
    maxTextChars: Type.Integer({
      minimum: 100,
      maximum: 100_000,
      default: 20_000,
      description: 'Longest text kept of one message (characters); the rest is cut off',
    }),
    messagesPerMinutePerSource: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 20,
      description: 'Messages one source address may send per minute; more are refused with 421 before DATA',
    }),
    maxClients: Type.Integer({ minimum: 1, maximum: 1000, default: 20, description: 'SMTP connections at once' }),
    starttls: Type.Boolean({
      default: true,
      description:
        "Offer STARTTLS with the box's certificate (the console's, replaceable from the console, or email.tlsCertFile/tlsKeyFile)",
    }),
    tlsCertFile: Type.String({
      default: '',
      maxLength: 1000,
      description: "PEM certificate chain for the listener's STARTTLS (empty = the console's certificate store); re-read when it changes",
    }),
    tlsKeyFile: Type.String({ default: '', maxLength: 1000, description: 'PEM private key for email.tlsCertFile' }),
    requireTls: Type.Boolean({
      default: false,
      description: 'Refuse MAIL FROM with 530 on a connection not upgraded with STARTTLS (needs email.starttls)',
    }),
    redact: Type.Boolean({
      default: true,
      description: 'Redact e-mail text and subjects (as privacy.redaction.categories) before they are stored or shown to the agent',
    }),
    maxCasesPerUser: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 50,
      description: 'Open e-mail cases one console user may hold at once (a case is taken by replying to it)',
    }),
    relay: Section(
      {
        host: Type.String({
          default: '',
          maxLength: 253,
          description: "SMTP relay agents' replies are sent through (empty = replies off)",
        }),
        port: Type.Integer({ minimum: 1, maximum: 65_535, default: 587, description: 'SMTP relay port (587 STARTTLS, 465 implicit TLS)' }),
        secure: Type.Boolean({
          default: false,
          description: 'Implicit TLS from the first byte (port 465); otherwise STARTTLS when offered',
        }),
        requireTls: Type.Boolean({ default: true, description: 'Refuse to send unless the connection is upgraded with STARTTLS' }),
        rejectUnauthorized: Type.Boolean({
          default: true,
          description: "Check the relay's TLS certificate (false only for a relay with a self-signed certificate)",
        }),
        user: Type.String({ default: '', maxLength: 200, description: 'SMTP relay user name (empty = no authentication)' }),
        password: Type.String({ default: '', maxLength: 500, description: 'SMTP relay password (secret)' }),
        from: Type.String({
          default: '',
          maxLength: 320,
          description: 'Sender address of replies (empty: the address the customer wrote to)',
        }),
        timeoutMs: Type.Integer({
          minimum: 1000,
          maximum: 120_000,
          default: 10_000,
          description: 'Connection, greeting and socket timeout',
        }),
      },
      "The SMTP relay agents' replies go out through",
    ),
  },
  'E-mail intake: an SMTP listener for configured addresses (never relays), cases routed like chats, replies through a relay',
);
