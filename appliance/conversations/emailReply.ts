/**
 * Agents' replies to e-mail cases, sent through the configured SMTP relay (nodemailer, with the TLS
 * settings of the alert e-mail: alerts/push/emailChannel.ts). A reply threads under the customer's
 * last message (In-Reply-To) and the case's References, carries its own Message-ID (remembered as a
 * hash, so the customer's answer to it joins the case), and is stored as the agent's message — only
 * once the relay took it: a refused reply stores nothing and can be sent again.
 *
 * A console user takes a waiting case by replying to it; the conversation's agent is
 * `console:<username>`.
 */
import { randomUUID } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import { evxError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { ConversationService } from './conversationService.js';
import { messageIdHash, nextReferences, type EmailThreads } from './emailThreads.js';
import type { Conversation, ConversationMessage } from './types.js';

export interface EmailRelaySettings {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  readonly requireTls: boolean;
  readonly rejectUnauthorized: boolean;
  readonly user: string;
  readonly password: string;
  /** Sender of replies; empty: the box's address the customer wrote to. */
  readonly from: string;
  readonly timeoutMs: number;
}

export interface EmailRepliesDeps {
  readonly service: ConversationService;
  readonly threads: EmailThreads;
  /** Null: no relay configured, replies are refused. */
  readonly relay: EmailRelaySettings | null;
  readonly logger: Logger;
}

/** The conversation's agent id for a console user. */
export function consoleAgentId(username: string): string {
  return `console:${username}`;
}

export class EmailReplies {
  private readonly transport: Transporter | null;

  constructor(private readonly deps: EmailRepliesDeps) {
    const s = deps.relay;
    this.transport =
      s === null || s.host === ''
        ? null
        : nodemailer.createTransport({
            host: s.host,
            port: s.port,
            secure: s.secure,
            requireTLS: s.requireTls,
            tls: { rejectUnauthorized: s.rejectUnauthorized, minVersion: 'TLSv1.2' },
            ...(s.user !== '' ? { auth: { user: s.user, pass: s.password } } : {}),
            connectionTimeout: s.timeoutMs,
            greetingTimeout: s.timeoutMs,
            socketTimeout: s.timeoutMs,
          });
  }

  /** The e-mail case `id`, or EVX_ERR_EMAIL_CASE_NOT_FOUND. */
  caseOf(id: string): Conversation {
    const c = this.deps.service.find(id);
    if (c === undefined || c.channel !== 'email' || this.deps.threads.replyTarget(id) === undefined)
      throw evxError('EVX_ERR_EMAIL_CASE_NOT_FOUND', 'no such e-mail case', { details: { resource: 'email case' } });
    return c;
  }

  /** Send `text` to the customer of case `id` as `username`, then store it as the agent's message. */
  async reply(id: string, username: string, text: string): Promise<ConversationMessage> {
    const { service, threads } = this.deps;
    const c = this.caseOf(id);
    const target = threads.replyTarget(id)!;
    if (target.to === '') throw evxError('EVX_ERR_EMAIL_NO_ADDRESS', 'the case has no address to reply to');
    if (this.transport === null || this.deps.relay === null)
      throw evxError('EVX_ERR_EMAIL_RELAY_OFF', 'replies need email.relay.host', { details: { key: 'email.relay.host' } });
    if (text.trim() === '') throw evxError('EVX_ERR_CHAT_PROTOCOL', 'a reply needs text');
    if (text.length > service.options.maxMessageChars)
      throw evxError('EVX_ERR_CHAT_PROTOCOL', `a reply holds at most ${service.options.maxMessageChars} characters`);
    const agentId = consoleAgentId(username);
    const held = c.state === 'waiting' ? service.accept(id, agentId) : c;
    if (held.state !== 'assigned' || held.agentId !== agentId)
      throw evxError('EVX_ERR_CHAT_TAKEN', 'another user holds this case', { details: { resource: 'email case' } });
    const from = this.deps.relay.from !== '' ? this.deps.relay.from : target.mailbox;
    const domain = from.slice(from.lastIndexOf('@') + 1) || 'edgevox.invalid';
    const messageId = `${randomUUID()}@${domain}`;
    // No CR/LF from the stored subject may reach the header (nodemailer encodes, this makes sure).
    const base = (c.subject ?? '')
      .replace(/[\r\n\t\0]+/g, ' ')
      .trim()
      .slice(0, 500);
    const subject = base === '' ? 'Re:' : /^re:/i.test(base) ? base : `Re: ${base}`;
    try {
      await this.transport.sendMail({
        from,
        to: target.to,
        subject,
        text,
        messageId: `<${messageId}>`,
        ...(target.inReplyTo !== null ? { inReplyTo: `<${target.inReplyTo}>` } : {}),
        ...(target.references.length > 0 ? { references: target.references.map((r) => `<${r}>`) } : {}),
      });
    } catch (err) {
      const e = err as { responseCode?: unknown; code?: unknown };
      const status = typeof e.responseCode === 'number' ? e.responseCode : null;
      this.deps.logger.warn({ conversationId: id, status, code: typeof e.code === 'string' ? e.code : null }, 'e-mail reply not sent');
      throw evxError('EVX_ERR_EMAIL_SEND', status !== null ? `the relay answered ${status}` : 'the relay could not be reached', {
        cause: err,
      });
    }
    const now = Date.now();
    threads.remember(id, [messageId], now);
    threads.setReplyTarget(id, target.mailbox, { ...target, references: nextReferences(target.references, messageId) }, now);
    const message = service.postAgent(id, agentId, `mid:${messageIdHash(messageId).slice(0, 40)}`, text, {
      channel: 'email',
      messageIdHash: messageIdHash(messageId),
    });
    this.deps.logger.info({ conversationId: id, seq: message.seq }, 'e-mail reply sent');
    return message;
  }

  /** Close case `id` as `username` (a case another user holds stays open); its messages and sealed address then expire with retention. */
  closeCase(id: string, username: string): Conversation {
    this.caseOf(id);
    return this.deps.service.close(id, { side: 'agent', agentId: consoleAgentId(username) });
  }

  close(): void {
    this.transport?.close();
  }
}
