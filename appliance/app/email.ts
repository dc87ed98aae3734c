/**
 * Starts e-mail intake (email.*, off by default): its own conversation service on the conversations
 * model (e-mail redaction with privacy.redaction's categories, intent and routing like a chat, the
 * chat's analysis at close), the SMTP listener (STARTTLS with the box's certificate: email.tlsCertFile
 * / tlsKeyFile or the console's store, re-read when it changes), the reply relay and the console
 * routes. An expired or broken certificate in the console's store does not stop the box: the listener
 * starts without STARTTLS (with email.requireTls it does not listen, so no mail is taken in the clear
 * and senders retry) and is started again with STARTTLS once the certificate can be used. Closed in
 * the cascade: the listener first, then the relay's connections, then analyses in flight.
 */
import type { FastifyInstance } from 'fastify';
import type { AnalysisRuntime } from '../analysis/loader.js';
import { registerConversationAnalysisRoutes } from '../api/routes/conversationAnalysis.js';
import { registerEmailRoutes } from '../api/routes/email.js';
import type { CallerHasher } from '../calls/callerHash.js';
import { ConversationRepo } from '../conversations/conversationRepo.js';
import { ConversationService } from '../conversations/conversationService.js';
import { EmailIntake } from '../conversations/emailIntake.js';
import { EmailReplies } from '../conversations/emailReply.js';
import { EmailThreads } from '../conversations/emailThreads.js';
import { messageIntentOf } from '../conversations/messageIntent.js';
import { Redactor } from '../privacy/redactor.js';
import type { SecretBox } from '../privacy/secrets.js';
import type { RoutingService } from '../routing/routingService.js';
import type { CapabilityDeps, Started } from './capability.js';
import { startConversationAnalysis } from './conversations.js';
import { certificateSourceOrPending, type CertificateSource } from './tlsCertificate.js';

export interface StartedEmail extends Started {
  /**
   * The listener now: null when e-mail is off, or while email.requireTls waits for a usable certificate
   * of the console's; a new one once STARTTLS is turned on after such a wait (the same port).
   */
  readonly intake: EmailIntake | null;
}

export async function startEmail(
  deps: CapabilityDeps & {
    hasher: CallerHasher;
    analysis: AnalysisRuntime | null;
    routing: RoutingService;
    secrets: SecretBox;
    /** Where the console's certificate store and relative email.tlsCertFile / tlsKeyFile paths are. */
    dataDir: string;
    /** Serve the conversations' analysis API here: web chat, which serves it otherwise, is off. */
    analysisRoutes: boolean;
  },
): Promise<StartedEmail> {
  const { config, store, logger } = deps;
  const e = config.email;
  if (!e.enabled) return { intake: null, close: () => undefined };
  const write = store.write.bind(store);
  const repo = new ConversationRepo(store.db, write);
  const threads = new EmailThreads(store.db, write, deps.secrets);
  const service = new ConversationService({
    repo,
    redactor: e.redact ? new Redactor(config.privacy.redaction) : null,
    hasher: deps.hasher,
    intent: messageIntentOf({ en: deps.analysis?.intent ?? null, zh: deps.analysis?.intentZh ?? null }),
    routing: deps.routing,
    agentGroups: (agentId) =>
      deps.routing
        .agentList()
        .find((a) => a.id === agentId)
        ?.skills.map((s) => s.group) ?? [],
    logger,
    options: {
      maxChatsPerAgent: e.maxCasesPerUser,
      maxMessagesBeforeDefault: config.chat.maxMessagesBeforeDefault,
      maxMessageChars: e.maxTextChars,
    },
    ...(deps.now !== undefined ? { now: deps.now } : {}),
  });
  // Read before anything listens. Unusable own files (email.tlsCertFile / tlsKeyFile) stop the start,
  // naming the keys; the console's store is not configuration (the console serves it expired or not):
  // an unusable certificate there leaves STARTTLS off until it is renewed, the rest of the box runs.
  const certificate = e.starttls
    ? certificateSourceOrPending({
        dataDir: deps.dataDir,
        certFile: e.tlsCertFile,
        keyFile: e.tlsKeyFile,
        keys: { cert: 'email.tlsCertFile', key: 'email.tlsKeyFile' },
        purpose: 'e-mail STARTTLS',
        commonName: `edgevox-${config.site.id}`,
        // made here when the store is still empty (first boot): the console serves it too, so its names are in
        hosts: [config.console.httpsHost || config.http.host, config.sip.rtpHost, e.host],
        logger,
        ...(deps.now !== undefined ? { now: deps.now } : {}),
      })
    : undefined;
  // Cases are scored and summarised at close like chats (the QA screen lists them with their channel).
  const { analysis, repo: analysisRepo } = startConversationAnalysis(deps, service, repo);
  const startIntake = (tls: CertificateSource | undefined) =>
    EmailIntake.start({
      service,
      repo,
      threads,
      routing: deps.routing,
      logger,
      options: {
        host: e.host,
        port: e.port,
        recipients: e.recipients,
        maxMessageBytes: e.maxMessageBytes,
        maxTextChars: e.maxTextChars,
        messagesPerMinutePerSource: e.messagesPerMinutePerSource,
        maxClients: e.maxClients,
        requireTls: e.requireTls,
      },
      ...(tls !== undefined ? { tls } : {}),
      ...(deps.now !== undefined ? { now: deps.now } : {}),
    });
  let intake: EmailIntake | null = null;
  let closed = false;
  let restart: Promise<void> = Promise.resolve();
  let stopWaiting: () => void = () => undefined;
  if (certificate === undefined || 'source' in certificate) intake = await startIntake(certificate?.source);
  else {
    const { reason } = certificate.pending;
    if (e.requireTls) {
      // No mail in the clear (email.requireTls): the listener stays closed, so senders keep their mail and retry.
      logger.error(
        { reason },
        "e-mail intake not listening: email.requireTls is set and the console's certificate cannot be used for STARTTLS; it starts when the certificate is renewed",
      );
    } else {
      logger.warn(
        { reason },
        "e-mail intake without STARTTLS: the console's certificate cannot be used; STARTTLS is turned on when it is renewed",
      );
      intake = await startIntake(undefined);
    }
    // Renewed (from the console, or the store replaced): the listener again, with STARTTLS.
    stopWaiting = certificate.pending.whenUsable((source) => {
      restart = restart.then(async () => {
        if (closed) return;
        const old = intake;
        intake = null;
        await old?.close();
        if (closed) return;
        try {
          intake = await startIntake(source);
        } catch (err) {
          logger.error({ reason: err instanceof Error ? err.message : String(err) }, 'e-mail intake not restarted with STARTTLS');
        }
      });
    });
  }
  const replies = new EmailReplies({ service, threads, relay: e.relay.host === '' ? null : e.relay, logger });
  return {
    get intake() {
      return intake;
    },
    routes(app: FastifyInstance) {
      registerEmailRoutes(app, { repo, threads, replies });
      if (deps.analysisRoutes) registerConversationAnalysisRoutes(app, { analysis, repo: analysisRepo });
    },
    async close() {
      closed = true;
      stopWaiting();
      await restart;
      await intake?.close();
      replies.close();
      await analysis.close();
    },
  };
}
