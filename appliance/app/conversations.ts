/**
 * Starts conversations (conversations/): the model on the store, redaction of messages (chat.redact,
 * with privacy.redaction's categories), intent from the call analysis models, routing by the skill
 * groups, the chat socket and the files visitors send — only with the WebRTC plane (its agent tokens sign agents in, and the
 * "call us" page it serves hosts the chat). Started after WebRTC, closed before it.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { AnalysisRuntime } from '../analysis/loader.js';
import { registerConversationAnalysisRoutes } from '../api/routes/conversationAnalysis.js';
import type { CallerHasher } from '../calls/callerHash.js';
import { ConversationAnalysis } from '../conversations/conversationAnalysis.js';
import { ConversationAnalysisRepo } from '../conversations/conversationAnalysisRepo.js';
import { REPO_ROOT } from '../buildInfo.js';
import { registerChatEmbed } from '../conversations/chatEmbed.js';
import { registerChatFileRoutes } from '../conversations/chatFileRoutes.js';
import { ChatFileRepo } from '../conversations/chatFiles.js';
import { registerChatSocket } from '../conversations/chatSocket.js';
import { ConversationRepo } from '../conversations/conversationRepo.js';
import { ConversationService } from '../conversations/conversationService.js';
import { CustomerRepo } from '../customers/customerRepo.js';
import { identityLinker } from '../customers/identityToken.js';
import { messageIntentOf } from '../conversations/messageIntent.js';
import { Redactor } from '../privacy/redactor.js';
import { DEFAULT_RULES } from '../qa/rules.js';
import { QaRepo } from '../qa/repo.js';
import type { RoutingService } from '../routing/routingService.js';
import { verifyCallerToken } from '../webrtc/tokens.js';
import { loadTokenSecret, type WebRtcService } from '../webrtc/webrtcService.js';
import type { CapabilityDeps, Started } from './capability.js';

export interface StartedConversations extends Started {
  readonly service: ConversationService | null;
  /** Sentiment, QA and summary of conversations (null with chat off, or qa.enabled false). */
  readonly analysis: ConversationAnalysis | null;
}

/**
 * A channel's analysis (the chat's here, the e-mail's in email.ts): sentiment on every message, and
 * at close a QA scorecard (the rules in force, as for calls) and a summary, into one table for all channels.
 */
export function startConversationAnalysis(
  deps: CapabilityDeps,
  service: ConversationService,
  repo: ConversationRepo,
): { analysis: ConversationAnalysis; repo: ConversationAnalysisRepo } {
  const { config, store, logger } = deps;
  const qaRepo = new QaRepo(store.db, store.write.bind(store));
  const analysisRepo = new ConversationAnalysisRepo(store.db, store.write.bind(store));
  const analysis = new ConversationAnalysis({
    service,
    repo: analysisRepo,
    rules: () => {
      const current = qaRepo.currentRuleSet();
      return current === null ? { version: 0, rules: DEFAULT_RULES } : { version: current.version, rules: current.rules };
    },
    qa: config.qa.enabled,
    passScore: config.qa.passScore,
    messages: (id) => repo.messagesAfter(id, 0, 5000),
    logger,
    audit: store.audit,
    ...(deps.now !== undefined ? { now: deps.now } : {}),
  });
  return { analysis, repo: analysisRepo };
}

export function startConversations(
  deps: CapabilityDeps & {
    dataDir: string;
    hasher: CallerHasher;
    analysis: AnalysisRuntime | null;
    routing: RoutingService;
    webrtc: WebRtcService | null;
  },
): StartedConversations {
  const { config, store, logger, webrtc } = deps;
  const c = config.chat;
  if (!c.enabled || webrtc === null) return { service: null, analysis: null, close: () => undefined };
  const repo = new ConversationRepo(store.db, store.write.bind(store));
  const service = new ConversationService({
    repo,
    redactor: c.redact ? new Redactor(config.privacy.redaction) : null,
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
      maxChatsPerAgent: c.maxChatsPerAgent,
      maxMessagesBeforeDefault: c.maxMessagesBeforeDefault,
      maxMessageChars: c.maxMessageChars,
    },
    ...(deps.now !== undefined ? { now: deps.now } : {}),
  });
  const { analysis, repo: analysisRepo } = startConversationAnalysis(deps, service, repo);
  const secret = loadTokenSecret(deps.dataDir, config.webrtc.callerTokenSecretFile);
  let socket: { close(): void } | null = null;
  // with routing configured, only the roster's agents chat: a removed agent's socket ends and their
  // token opens no chat file
  const agentActive = (agentId: string): boolean => !deps.routing.configured || deps.routing.hasAgent(agentId);
  return {
    service,
    analysis,
    async routes(app: FastifyInstance) {
      // The snippet sites paste into their pages, and the chat page it frames (allowed origins only).
      registerConversationAnalysisRoutes(app, { analysis, repo: analysisRepo });
      registerChatEmbed(app, { webDir: join(REPO_ROOT, 'dist', 'web', 'webrtc'), allowedOrigins: c.allowedOrigins });
      socket = registerChatSocket(app, {
        service,
        secret,
        verifyAgent: (token) => webrtc.verifyAgent(token),
        agentActive,
        verifyCallerToken: (callId, token) => {
          try {
            return verifyCallerToken(secret, token).callId === callId;
          } catch {
            return false;
          }
        },
        // a site's signed identity token links the chat to the customer's timeline (chat.identitySecret)
        ...(c.identitySecret !== ''
          ? {
              identity: identityLinker({
                secret: c.identitySecret,
                hasher: deps.hasher,
                repo: new CustomerRepo(store.db, store.write.bind(store)),
              }),
            }
          : {}),
        logger,
        options: {
          allowedOrigins: c.allowedOrigins,
          maxFrameBytes: c.maxFrameBytes,
          visitorMessagesPerMinute: c.visitorMessagesPerMinute,
          ipMessagesPerMinute: c.ipMessagesPerMinute,
          ipSessionsPerMinute: c.ipSessionsPerMinute,
          ...(c.uploads.enabled ? { uploads: c.uploads } : {}),
        },
      });
      // Files visitors send (chat.uploads): served even with uploads off, until retention deletes them.
      await registerChatFileRoutes(app, {
        service,
        files: new ChatFileRepo(store.db, store.write.bind(store)),
        secret,
        verifyAgent: (token) => webrtc.verifyAgent(token),
        agentActive,
        allowedOrigins: c.allowedOrigins,
        uploads: c.uploads,
        logger,
        ...(deps.now !== undefined ? { now: deps.now } : {}),
      });
    },
    async close() {
      socket?.close();
      await analysis.close();
    },
  };
}
