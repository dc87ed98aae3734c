/**
 * E-mail intake: an SMTP listener (smtp-server) that accepts mail for the configured addresses only
 * (any other RCPT TO: 550, so it never relays), refuses before DATA where it can (a declared SIZE
 * over the limit: 552; a source address over its rate: 421), and turns each message into a message
 * of an e-mail conversation. A thread stays one case: a mail whose In-Reply-To or References names a
 * Message-ID of an open case joins it (only the ids' hashes are stored, emailThreads.ts). The
 * sender's address becomes a salted hash like the chat's e-mail identifier; the text part (HTML
 * turned into text when there is no plain one) is redacted by the conversation service before it is
 * stored; a case goes to its address's skill group, or is routed by intent like a chat.
 *
 * STARTTLS is offered with the box's own certificate (`tls`: app/tlsCertificate.ts), swapped for new
 * connections when it changes; without one STARTTLS is neither advertised nor accepted (never the
 * library's sample certificate). `requireTls` refuses MAIL FROM with 530 before the upgrade.
 *
 * Logs say which case; never an address, who wrote or what.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { SlidingWindowLimiter } from '../auth/rateLimit.js';
import type { Logger } from '../log/logger.js';
import type { ConversationRepo } from './conversationRepo.js';
import type { ConversationRouting, ConversationService } from './conversationService.js';
import { messageIdHash, nextReferences, type EmailThreads } from './emailThreads.js';
import { parseMail } from './mailParse.js';
import type { Conversation, ConversationMessage } from './types.js';

export interface EmailRecipient {
  readonly address: string;
  /** Skill group its cases go to; empty: routed by intent. */
  readonly group: string;
}

export interface EmailIntakeOptions {
  readonly host: string;
  readonly port: number;
  readonly recipients: readonly EmailRecipient[];
  readonly maxMessageBytes: number;
  readonly maxTextChars: number;
  readonly messagesPerMinutePerSource: number;
  readonly maxClients: number;
  /** Refuse MAIL FROM with 530 on a connection not upgraded with STARTTLS (needs `tls`). */
  readonly requireTls?: boolean;
}

/** Where STARTTLS's certificate comes from (app/tlsCertificate.ts: its files or the console's store). */
export interface EmailIntakeTls {
  /** The certificate chain and key now (PEM). */
  current(): { readonly cert: string; readonly key: string };
  /** Read the source again now; true when it changed (the watch's `changed` has then run). */
  check(): boolean;
  /** Call `changed` after each change (the source checks every few seconds); returns the stop function. */
  watch(changed: () => void): () => void;
}

export interface EmailIntakeDeps {
  readonly service: ConversationService;
  readonly repo: ConversationRepo;
  readonly threads: EmailThreads;
  readonly routing: ConversationRouting | null;
  readonly logger: Logger;
  readonly options: EmailIntakeOptions;
  /** The certificate STARTTLS serves; absent: STARTTLS is neither advertised nor accepted. */
  readonly tls?: EmailIntakeTls;
  readonly now?: () => number;
}

/** What a received message became. */
export interface ReceivedMail {
  readonly conversation: Conversation;
  readonly message: ConversationMessage;
  /** True when it started a new case (false: it joined an open one). */
  readonly created: boolean;
}

/** An SMTP answer: smtp-server sends `responseCode` and the message. */
function smtpError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

const CJK = /[\u3400-\u9fff]/;
const MAX_SOURCES = 10_000;

export class EmailIntake {
  private readonly recipients: Map<string, EmailRecipient>;
  private readonly limiter: SlidingWindowLimiter;
  private server: SMTPServer | null = null;
  private stopTlsWatch: (() => void) | null = null;

  private constructor(private readonly deps: EmailIntakeDeps) {
    if (deps.options.requireTls === true && deps.tls === undefined)
      throw new Error('email intake: requireTls needs a STARTTLS certificate');
    this.recipients = new Map(deps.options.recipients.map((r) => [r.address.trim().toLowerCase(), r]));
    this.limiter = new SlidingWindowLimiter(deps.options.messagesPerMinutePerSource, 60_000, MAX_SOURCES, deps.now);
  }

  /** Start listening (options.port 0: any free port). */
  static async start(deps: EmailIntakeDeps): Promise<EmailIntake> {
    const intake = new EmailIntake(deps);
    await intake.listen();
    return intake;
  }

  /** An intake that does not listen (receive() only): for tools and tests of the case logic. */
  static detached(deps: EmailIntakeDeps): EmailIntake {
    return new EmailIntake(deps);
  }

  get port(): number {
    return (this.server?.server.address() as AddressInfo | null)?.port ?? 0;
  }

  /**
   * Read the certificate's source now and serve a changed one to new connections (what happens
   * every few seconds anyway); true when it changed. Open sessions keep theirs.
   */
  checkCertificate(): boolean {
    return this.deps.tls?.check() ?? false;
  }

  private async listen(): Promise<void> {
    const o = this.deps.options;
    const tls = this.deps.tls;
    const server = new SMTPServer({
      name: 'edgevox',
      banner: 'EdgeVox mail intake',
      logger: false,
      // Nobody signs in: the listener takes mail for its own addresses and relays nothing.
      authOptional: true,
      // No certificate of the box's: no STARTTLS at all (smtp-server would upgrade with its sample one).
      disabledCommands: tls === undefined ? ['AUTH', 'STARTTLS'] : ['AUTH'],
      hideSTARTTLS: tls === undefined,
      ...(tls === undefined ? {} : { ...tls.current(), minVersion: 'TLSv1.2' as const }),
      size: o.maxMessageBytes,
      maxClients: o.maxClients,
      onMailFrom: (_address, session, callback) => this.onMailFrom(session, callback),
      onRcptTo: (address, session, callback) => this.onRcptTo(address, session, callback),
      onData: (stream, session, callback) => this.onData(stream, session, callback),
    });
    server.on('error', (err) => this.deps.logger.warn({ reason: err.message }, 'e-mail listener error'));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(o.port, o.host, () => {
        server.server.off('error', reject);
        resolve();
      });
    });
    if (tls !== undefined) this.stopTlsWatch = tls.watch(() => server.updateSecureContext({ ...tls.current() }));
    this.deps.logger.info(
      { port: this.port, addresses: this.recipients.size, starttls: tls !== undefined, requireTls: o.requireTls === true },
      'e-mail intake listening',
    );
  }

  private onMailFrom(session: SMTPServerSession, callback: (err?: Error | null) => void): void {
    if (this.deps.options.requireTls === true && !session.secure) {
      this.deps.logger.info({}, 'e-mail refused: connection not upgraded with STARTTLS');
      return callback(smtpError(530, 'Must issue a STARTTLS command first'));
    }
    const wait = this.limiter.take(session.remoteAddress);
    if (wait > 0) {
      this.deps.logger.warn({ waitMs: wait }, 'e-mail refused: source over its rate');
      return callback(smtpError(421, 'Too many messages from your address, try again later'));
    }
    callback();
  }

  private onRcptTo(address: SMTPServerAddress, _session: SMTPServerSession, callback: (err?: Error | null) => void): void {
    if (!this.recipients.has(address.address.trim().toLowerCase())) {
      this.deps.logger.info({}, 'e-mail refused: recipient is not one of the configured addresses');
      return callback(smtpError(550, 'No such mailbox here; this server relays nothing'));
    }
    callback();
  }

  private onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null) => void): void {
    const chunks: Buffer[] = [];
    let bytes = 0;
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      // Past the limit the rest is read and dropped (the answer is 552 at the end of DATA).
      if (bytes <= this.deps.options.maxMessageBytes) chunks.push(chunk);
    });
    stream.on('end', () => {
      if (stream.sizeExceeded || bytes > this.deps.options.maxMessageBytes) {
        this.deps.logger.info({ bytes }, 'e-mail refused: over the size limit');
        return callback(smtpError(552, 'Message exceeds the size limit'));
      }
      const mailbox = session.envelope.rcptTo.map((r) => r.address.trim().toLowerCase()).find((a) => this.recipients.has(a));
      if (mailbox === undefined) return callback(smtpError(550, 'No such mailbox here'));
      this.receive(Buffer.concat(chunks), mailbox).then(
        () => callback(),
        (err: unknown) => {
          this.deps.logger.warn({ code: (err as { code?: unknown }).code ?? 'error' }, 'e-mail not stored');
          callback(smtpError(451, 'Message not stored, try again later'));
        },
      );
    });
  }

  /** Turn one raw message for `mailbox` (one of the configured addresses) into a case message. */
  async receive(raw: Buffer, mailbox: string): Promise<ReceivedMail> {
    const { service, repo, threads } = this.deps;
    const now = (this.deps.now ?? Date.now)();
    const mail = await parseMail(raw, this.deps.options.maxTextChars);
    const ownId = mail.messageId ?? `${randomUUID()}@edgevox.invalid`;
    const known = threads.caseOf([ownId, ...mail.threadIds]);
    const open = known === undefined ? undefined : service.find(known);
    let conversation: Conversation;
    let created = false;
    if (open !== undefined && open.state !== 'closed') conversation = open;
    else {
      const language = CJK.test(mail.subject + mail.text) ? 'zh' : 'en';
      conversation = service.start({
        channel: 'email',
        language,
        ...(mail.fromAddress !== null ? { email: mail.fromAddress } : {}),
        ...(mail.subject !== '' ? { subject: mail.subject.slice(0, 500) } : {}),
      });
      created = true;
      const group = this.recipients.get(mailbox)?.group ?? '';
      if (group !== '' && this.deps.routing?.groupList().some((g) => g.id === group) === true)
        repo.routed(conversation.id, group, null, 'email.address', now);
    }
    const earlier = created ? undefined : threads.replyTarget(conversation.id);
    const references = nextReferences(earlier?.references ?? mail.references, ownId);
    // A case without a usable sender address is still a case (it can be read, not answered).
    threads.setReplyTarget(conversation.id, mailbox, { to: mail.replyAddress ?? earlier?.to ?? '', inReplyTo: ownId, references }, now);
    threads.remember(conversation.id, [ownId], now);
    const text = mail.text === '' ? '(no text)' : mail.text;
    const message = await service.postCustomer(conversation.id, `mid:${messageIdHash(ownId).slice(0, 40)}`, text, {
      channel: 'email',
      messageIdHash: messageIdHash(ownId),
    });
    this.deps.logger.info({ conversationId: conversation.id, created, seq: message.seq }, 'e-mail received');
    return { conversation: service.get(conversation.id), message, created };
  }

  async close(): Promise<void> {
    this.stopTlsWatch?.();
    this.stopTlsWatch = null;
    const server = this.server;
    this.server = null;
    if (server === null) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
