/**
 * Starts e-mail intake (email.*, off by default): its own conversation service on the conversations
 * model (e-mail redaction with privacy.redaction's categories, intent and routing like a chat, the
 * chat's analysis at close), the SMTP listener (STARTTLS with the box's certificate: email.tlsCertFile
 * / tlsKeyFile or the console's store, re-read when it changes), the reply relay and the console
 * routes. Closed in the cascade: the listener first, then the relay's connections, then analyses in
 * flight.
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
import { certificateSource } from './tlsCertificate.js';

export interface StartedEmail extends Started {
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
  // Read before anything listens: an unreadable or invalid certificate stops the start (naming the keys).
  const tls = e.starttls
    ? certificateSource({
        dataDir: deps.dataDir,
        certFile: e.tlsCertFile,
        keyFile: e.tlsKeyFile,
        keys: { cert: 'email.tlsCertFile', key: 'email.tlsKeyFile' },
        purpose: 'e-mail STARTTLS',
        commonName: `edgevox-${config.site.id}`,
        // made here when the store is still empty (first boot): the console serves it too, so its names are in
        hosts: [config.console.httpsHost || config.http.host, config.sip.rtpHost, e.host],
        logger,
      })
    : undefined;
  // Cases are scored and summarised at close like chats (the QA screen lists them with their channel).
  const { analysis, repo: analysisRepo } = startConversationAnalysis(deps, service, repo);
  const intake = await EmailIntake.start({
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
  const replies = new EmailReplies({ service, threads, relay: e.relay.host === '' ? null : e.relay, logger });
  return {
    intake,
    routes(app: FastifyInstance) {
      registerEmailRoutes(app, { repo, threads, replies });
      if (deps.analysisRoutes) registerConversationAnalysisRoutes(app, { analysis, repo: analysisRepo });
    },
    async close() {
      await intake.close();
      replies.close();
      await analysis.close();
    },
  };
}
