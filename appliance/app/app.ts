/**
 * The composition root. Builds the appliance in order — data dir → logger → store → models →
 * metrics → media → HTTP — and closes it in reverse through one CloseStack. If any step fails,
 * everything already started is closed before the error is rethrown: nothing is half-started.
 */
import { accessSync, constants, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import { COMMIT, MANIFEST_PATH, REPO_ROOT, VERSION } from '../buildInfo.js';
import type { EdgeVoxConfig } from '../config/schema.js';
import { evxError, isEdgeVoxError } from '../errors.js';
import { CloseStack } from '../lifecycle/closeStack.js';
import { Readiness } from '../lifecycle/readiness.js';
import { createLogger, type Logger } from '../log/logger.js';
import { ApplianceMetrics } from '../metrics/metrics.js';
import { ModelStore } from '../modelstore/modelStore.js';
import { Store } from '../store/database.js';
import { createHttpServer, type RouteRegistrar } from '../api/server.js';
import { EventBus } from '../events/appEvents.js';
import { CallManager } from '../calls/callManager.js';
import { CallerHasher } from '../calls/callerHash.js';
import type { TranscriberFactory } from '../calls/transcriber.js';
import { createSpeechEngine, type SpeechEngine } from '../calls/asrTranscriber.js';
import { reportRemoteProvider, type ExecutionProviderName } from '../inference/sessions.js';
import { TelephonyBridge } from '../calls/telephonyBridge.js';
import type { LanguageSources } from '../calls/callLanguage.js';
import { Redactor } from '../privacy/redactor.js';
import { SecretBox } from '../privacy/secrets.js';
import type { KnowledgeBase } from '../assist/knowledgeBase.js';
import { startUtteranceAnalysis } from './analysis.js';
import { startConversations } from './conversations.js';
import { startEmail, type StartedEmail } from './email.js';
import type { EmailIntake } from '../conversations/emailIntake.js';
import { startAlerts } from './alerts.js';
import { startAssist } from './assist.js';
import { startInsight } from './insight.js';
import { startForecast, type StartedForecast } from './forecast.js';
import { startProfiles } from './profiles.js';
import { startQa } from './qa.js';
import { startSummaries } from './summary.js';
import { QaRepo } from '../qa/repo.js';
import { queuePolicyOf } from '../acd/queuePolicy.js';
import { startRetention } from './retention.js';
import { startSync } from './sync.js';
import { startTrunks } from './trunks.js';
import { SipServer } from '../telephony/sip-server.js';
import { dialableNumber, type TrunkDialer } from '../telephony/trunkDialer.js';
import { keepSelfSignedCertificate, sipTlsSetup } from './tlsCertificate.js';
import { logSipActivity } from './sipLog.js';
import { sipPolicyOf } from './sipPolicy.js';
import { registerCallRoutes } from '../api/routes/calls.js';
import { registerEventStream } from '../api/routes/events.js';
import { registerPromptRoutes } from '../api/routes/prompts.js';
import { PromptStore } from '../prompts/promptStore.js';
import { startCallRouter, startRouting } from './routing.js';
import { startAcd, type StartedAcd } from './acd.js';
import { startAgents, type StartedAgents } from './agents.js';
import { startAcdCalls } from './acdCalls.js';
import { HeldCallbacks } from '../cluster/heldCallbacks.js';
import { CallbackHandover } from '../cluster/callbackHandover.js';
import { registerClusterPeerRoutes } from '../api/routes/clusterPeer.js';
import { startSupervision, type StartedSupervision } from './supervision.js';
import { wireAcdSoftphones } from './acdSoftphones.js';
import { SoftphoneCustomerReader } from '../customers/softphoneCustomer.js';
import { consoleRegistrar } from '../console/mount.js';
import { overlayConsoleConfig } from '../console/configService.js';
import { WebRtcService } from '../webrtc/webrtcService.js';
import { AuthService } from '../auth/authService.js';
import { applyCredentialResets } from '../auth/credentialReset.js';
import { teeSinkFactories } from '../webrtc/sipBridge.js';
import type { LegAudioSinkFactory, RegistrarLike } from '../telephony/types.js';

export interface ApplianceOptions {
  /** Logger to use (tests pass a silent or capturing one); default: pino on stdout per config. */
  logger?: Logger;
  /** Extra route plugins mounted on the HTTP server. */
  routes?: readonly RouteRegistrar[];
  /** Path of the model manifest (default: models/manifest.json in the repo). */
  manifestPath?: string;
  /**
   * Builds the per-leg speech pipeline once the models are active (default: the streaming ASR on
   * the installed models). Return null to run calls without transcription.
   */
  transcribers?: 'asr' | null | TranscriberFactory;
  /** Clock of the data services (retention, QA, aggregation windows); tests move it forward to close a window. */
  dataClock?: () => number;
}

/**
 * A running appliance. `drain()` stops new work and waits for active work; `close()` runs the close
 * cascade once (idempotent).
 */
export class Appliance {
  private readonly drainHooks: ((graceMs: number) => Promise<void>)[] = [];
  /** The speech engine (recognizer worker pool), or null when calls run without ASR. Set once at start. */
  speech: SpeechEngine | null = null;
  /** The contact-centre KPIs, their fact sink and the queue view (the ACD orchestrator's inputs). Set once at start. */
  acd: StartedAcd | null = null;
  /** Callback hand-over with the partner box (cluster.peerUrl); null when the box stands alone. */
  handover: CallbackHandover | null = null;
  /** The partner's callbacks this box holds. */
  heldCallbacks: HeldCallbacks | null = null;
  /** Agents' states and the registrar of their phones. Set once at start. */
  agents: StartedAgents | null = null;
  /** Forecasting and staffing: the interval history, its roll-up, the forecast service, the scale-up alert. Set once at start. */
  forecast: StartedForecast | null = null;
  /** The one way calls leave through a SIP trunk (allow-lists, caps, audit); null when no trunk has outbound.enabled. Set once at start. */
  trunkDialer: TrunkDialer | null = null;
  /** The knowledge base of agent assist (articles, their index, card search). Set once at start. */
  knowledge: KnowledgeBase | null = null;
  /** E-mail intake, set once at start: its `intake` is the SMTP listener now (see StartedEmail). */
  email: StartedEmail | null = null;
  /** E-mail intake's SMTP listener now: null when email.enabled is false or while it waits for a certificate. */
  get emailIntake(): EmailIntake | null {
    return this.email?.intake ?? null;
  }
  private runId = 0;

  private constructor(
    readonly config: EdgeVoxConfig,
    readonly logger: Logger,
    readonly store: Store,
    readonly models: ModelStore,
    readonly metrics: ApplianceMetrics,
    readonly readiness: Readiness,
    readonly http: FastifyInstance,
    readonly bus: EventBus,
    readonly calls: CallManager,
    /** The SIP/RTP listener, or null when `sip.enabled` is false. */
    readonly sip: SipServer | null,
    private readonly closeStack: CloseStack,
    /** The WebRTC media plane (web callers, browser agents), or null when `webrtc.enabled` is false. */
    readonly webrtc: WebRtcService | null = null,
  ) {}

  /** Start an appliance from a validated config. */
  static async start(config: EdgeVoxConfig, options: ApplianceOptions = {}): Promise<Appliance> {
    const logger = options.logger ?? createLogger({ level: config.log.level, includePii: config.log.includePii });
    const closeStack = new CloseStack();
    const readiness = new Readiness();
    try {
      const dataDir = resolve(config.dataDir);
      assertWritableDir(dataDir);

      const store = Store.open(dataDir);
      closeStack.push({ name: 'store', close: () => store.close() });
      // Settings saved through the console (stored versions) win over the booted file/env/flags.
      config = overlayConsoleConfig(config, store, logger);
      readiness.register('store', () => (store.isOpen ? { ok: true } : { ok: false, reason: 'store closed' }));
      // A migration may have ended every session and token (a security fix): rotate the token
      // signing secrets too, before anything that signs or verifies tokens starts.
      applyCredentialResets(store, [resolveDataPath(dataDir, config.webrtc.callerTokenSecretFile)], logger);

      const metrics = new ApplianceMetrics({ version: VERSION, nodeVersion: process.versions.node, commit: COMMIT });
      metrics.bindStore(store);
      metrics.bindDataDisk(dataDir);
      metrics.bindReadiness(readiness);
      store.events.on('writeError', (e) => logger.warn({ operation: e.operation, sqliteCode: e.sqliteCode }, 'store write failed'));
      // The box's own self-signed certificate (console HTTPS, SIP TLS and e-mail STARTTLS without own files)
      // is renewed before it ends, now and daily, before any listener takes it; an uploaded one is left alone.
      const stopCertificateRenewal = keepSelfSignedCertificate({ dataDir, logger });
      closeStack.push({ name: 'certificate-renewal', close: () => stopCertificateRenewal() });

      const models = new ModelStore({
        manifestPath: options.manifestPath ?? MANIFEST_PATH,
        modelsDir: resolve(config.modelsDir),
        repoRoot: REPO_ROOT,
        storeDir: join(dataDir, 'models'),
      });
      for (const s of models.installAll()) {
        if (s.error)
          logger.error(
            { model: s.name, code: s.error.code, reason: s.error.message, activeVersion: s.activeVersion },
            'model not installed',
          );
        else logger.info({ model: s.name, version: s.activeVersion }, 'model active');
      }
      metrics.bindModels(models);
      readiness.register('models', () => {
        const r = models.requiredReady();
        return r.ready ? { ok: true } : { ok: false, reason: `required models not active: ${r.missing.join(', ')}` };
      });
      const bus = new EventBus((event, err) => {
        metrics.listenerErrors.inc({ event });
        logger.error({ event, reason: err instanceof Error ? err.message : String(err) }, 'event listener failed');
      });
      closeStack.push({ name: 'events', close: () => bus.close() });

      const speech = await startSpeech(options.transcribers ?? 'asr', { config, models, logger, readiness, closeStack });
      const transcribers = speech.factory;
      if (speech.engine !== null) metrics.bindSpeechPool(speech.engine.recognizer);
      const redaction = config.privacy.redaction;
      const redactor = redaction.enabled ? new Redactor(redaction) : null;
      if (redactor !== null) metrics.bindRedactions(redactor.totals);
      // Understanding and routing calls: analysers, routing, caller profiles, alerts, the call router.
      const base = { config, store, bus, logger, now: options.dataClock };
      const analysis = await startUtteranceAnalysis({ ...base, models });
      closeStack.push({ name: 'analysis', close: () => analysis.close() });
      const secrets = SecretBox.fromDataDir(dataDir);
      const routing = startRouting({ ...base, secrets });
      closeStack.push({ name: 'routing', close: () => routing.close() });
      if (routing.webhook !== null) metrics.bindRoutingWebhook(routing.webhook);
      // a skill group that asks for Mandarin (or auto) starts the Mandarin recognizer now, not on its first call
      if (routing.service.groupList().some((g) => g.language === 'zh' || g.language === 'auto')) await speech.engine?.ensureMandarin();
      const acd = startAcd({ ...base, routing: routing.service, metrics, secrets });
      closeStack.push({ name: 'acd', close: () => acd.close() });
      // callback hand-over: mirror to the partner, adopt its requests if it dies, and before the
      // dialler starts learn which of ours it adopted while this box was down (docs/cluster.md)
      const heldCallbacks = new HeldCallbacks(store.db, store.write.bind(store));
      const cluster = config.cluster;
      const handover =
        cluster.peerUrl === ''
          ? null
          : new CallbackHandover(
              { callbacks: acd.callbacks, held: heldCallbacks, bus, logger, now: () => Date.now() },
              {
                boxName: cluster.boxName,
                peerUrl: cluster.peerUrl,
                peerToken: cluster.peerToken,
                frontRpcUrl: cluster.frontRpcUrl,
                adoptPollMs: cluster.adoptPollS * 1000,
              },
            );
      let callbacksReady: Promise<unknown> | undefined;
      if (handover !== null) {
        closeStack.push({ name: 'callback-handover', close: () => handover.close() });
        handover.startMirror();
        callbacksReady = handover.reconcile();
        handover.startAdoption();
      }
      const alerts = startAlerts({ ...base, routing: routing.service });
      closeStack.push({ name: 'alerts', close: () => alerts.close() });
      metrics.bindOpenAlerts(alerts.repo);
      if (alerts.push !== null) metrics.bindAlertPush(alerts.push);
      // Contact reasons: rising-topic alerts and the insight API.
      const insight = startInsight({ ...base, alertsRepo: alerts.repo });
      closeStack.push({ name: 'insight', close: () => insight.close() });
      // Forecasting and staffing: interval history from the ACD's figures, forecasts, the scale-up alert.
      const forecast = startForecast({
        ...base,
        kpis: acd.kpis,
        routing: routing.service,
        alertsRepo: alerts.repo,
        timeZone: acd.timeZone,
      });
      closeStack.push({ name: 'forecast', close: () => forecast.close() });
      metrics.bindServiceLevelThreshold(() => ({
        overallS: config.acd.serviceLevelS,
        target: config.acd.serviceLevelTarget,
        groups: new Map(routing.service.groupList().map((g) => [g.id, queuePolicyOf(g, config.acd).serviceLevelS])),
      }));
      const profiles = startProfiles({ ...base, routing: routing.service, routingRepo: routing.repo, alertsRepo: alerts.repo });
      closeStack.push({ name: 'profiles', close: () => profiles.close() });
      const callRouter = startCallRouter({ ...base, routing: routing.service, profiles: profiles.service, analysis: analysis.runtime });
      closeStack.push({ name: 'call-router', close: () => callRouter.close() });
      const hasher = CallerHasher.fromDataDir(dataDir);
      const calls = new CallManager({
        store,
        bus,
        hasher,
        logger,
        limits: { maxConcurrentCalls: config.calls.maxConcurrent, maxLagMs: config.calls.maxLagMs, retryAfterS: config.calls.retryAfterS },
        analysers: analysis.analysers,
        transcribers,
        ...(redactor !== null ? { redactor } : {}),
        defaultLanguage: config.asr.language,
      });
      closeStack.push({ name: 'calls', close: () => calls.close() });
      metrics.bindCalls(calls, bus);
      // Data governance: retention sweeps, QA of every call, anonymised aggregates upstream.
      SecretBox.fromDataDir(dataDir); // the sealed-secrets key exists from the first start on
      const retention = startRetention(base);
      closeStack.push({ name: 'retention', close: () => retention.close() });
      const qa = startQa(base);
      closeStack.push({ name: 'qa', close: () => qa.close() });
      // The knowledge base of agent assist: its index is built from the stored articles before calls come in.
      const assist = await startAssist({ ...base, routing: routing.service });
      closeStack.push({ name: 'assist', close: () => assist.close() });
      // A summary of every call when it ends, from its stored (redacted) transcript.
      const summaries = startSummaries(base);
      closeStack.push({ name: 'summaries', close: () => summaries.close() });
      if (config.qa.enabled) metrics.bindQa(new QaRepo(store.db, store.write.bind(store)), bus);
      const sync = startSync({ ...base, dataDir });
      closeStack.push({ name: 'sync', close: () => sync.close() });
      if (sync.service !== null) metrics.bindSync(sync.service);

      // Agents' states and their phones' registrar: before SIP, which answers REGISTER with it.
      const agents = startAgents({ ...base, routing: routing.service, routingRepo: routing.repo, facts: acd.facts, metrics });
      closeStack.push({ name: 'agents', close: () => agents.close() });
      // WebRTC before SIP: SIP legs are tapped for bridging to browser agents (webrtc/sipBridge.ts).
      const webrtc = await WebRtcService.start({
        config,
        dataDir,
        calls,
        bus,
        logger,
        webDir: join(REPO_ROOT, 'dist', 'web', 'webrtc'),
        cardFeedback: (callId, cardId, useful, by) => assist.cards.feedback(callId, cardId, useful, by),
      });
      if (webrtc !== null) closeStack.push({ name: 'webrtc', close: () => webrtc.close() });
      if (webrtc !== null) metrics.bindWebRtc(webrtc.metricsSource());
      // The softphone's screen-pop: the caller's customer (open chats and e-mail cases first) with each offer.
      if (webrtc !== null) {
        const reader = new SoftphoneCustomerReader(store.db);
        webrtc.softphones.setCustomers((callId) => {
          const call = store.calls.get(callId);
          return call === undefined ? null : reader.view(profiles.customers.ofCall(call));
        });
      }
      // Web chat: after WebRTC (agent tokens, the "call us" page), closed before it.
      const conversations = startConversations({ ...base, dataDir, hasher, analysis: analysis.runtime, routing: routing.service, webrtc });
      closeStack.push({ name: 'conversations', close: () => conversations.close() });
      // E-mail intake (email.enabled): its SMTP listener, the reply relay; closed before the store.
      const email = await startEmail({
        ...base,
        hasher,
        analysis: analysis.runtime,
        routing: routing.service,
        secrets,
        dataDir,
        // the analysis API is served by web chat when it runs, else here
        analysisRoutes: conversations.service === null,
      });
      closeStack.push({ name: 'email', close: () => email.close() });

      const started = await startSip(
        config,
        dataDir,
        calls,
        logger,
        readiness,
        closeStack,
        webrtc?.sipAudioTap,
        agents.registrar ?? undefined,
        // a call's language: its number's queue, its number, its trunk, the site (calls/callLanguage.ts)
        {
          siteDefault: config.asr.language,
          trunks: config.sip.trunks,
          dids: config.sip.dids,
          queueLanguage: (id) => routing.service.groupList().find((g) => g.id === id)?.language,
        },
      );
      const sip = started?.sip ?? null;
      if (sip !== null) metrics.bindSip(sip);
      // Trunks before the ACD, which places callbacks through their dialer; pushed after sip:
      // closed (registrations removed) before it, and after the ACD's calls stop using the dialer.
      const trunks = startTrunks({ config, logger, sip, metrics, store });
      closeStack.push({ name: 'sip-trunks', close: () => trunks.close() });
      const prompts = new PromptStore({ dataDir, defaultsDir: join(REPO_ROOT, 'dist', 'prompts') });
      // pbx: an existing PBX keeps the calls and routing suggests with REFER; acd: the box keeps them
      if (sip !== null && config.routing.enabled && config.acd.mode === 'pbx')
        closeStack.push({ name: 'routing-transfer', close: routing.attachSip(sip) });
      let supervision: StartedSupervision | null = null;
      if (started !== null && config.acd.mode === 'acd') {
        const softphones = wireAcdSoftphones({ webrtc, presence: agents.presence, logger });
        closeStack.push({ name: 'acd-softphones', close: () => softphones.close() });
        const acdCalls = startAcdCalls({
          ...base,
          sip: started.sip,
          telephony: started.telephony,
          routing: routing.service,
          presence: agents.presence,
          registrar: agents.registrar,
          acd,
          prompts,
          metrics,
          softphones: softphones.ring,
          liveCalls: calls,
          trunk: trunks.dialer,
          dialable: dialableNumber,
          doNotRoute: (callId) => callRouter.router.observe(callId),
          callbacksReady,
        });
        closeStack.push({ name: 'acd-calls', close: () => acdCalls.close() });
        closeStack.push({ name: 'acd-softphone-control', close: softphones.control(acdCalls.calls) });
        const supervising = startSupervision({ ...base, sip: started.sip, calls: acdCalls.calls, registrar: agents.registrar, metrics });
        closeStack.push({ name: 'acd-supervision', close: () => supervising.close() });
        supervision = supervising;
      }
      if (sip !== null) webrtc?.attachSip(sip);

      // Accounts, sessions and API tokens: the HTTP server's access guard asks it about every
      // request, with or without the console's pages.
      const authSettings = { ...config.console };
      const auth = new AuthService(store, dataDir, authSettings, logger);

      const droppedEvents = metrics.eventsDropped;
      const coreRoutes = async (app: FastifyInstance) => {
        await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
        registerCallRoutes(app, { store });
        registerEventStream(app, { bus, auth, onDropped: (n) => droppedEvents.inc(n) });
        await registerPromptRoutes(app, { prompts });
        await assist.routes(app);
        for (const capability of [qa, sync, routing, acd, agents, profiles, alerts, insight, forecast, trunks, conversations, email])
          await capability.routes?.(app);
        await supervision?.routes?.(app);
        registerClusterPeerRoutes(app, {
          token: cluster.peerToken,
          boxName: cluster.boxName,
          held: heldCallbacks,
          box: secrets,
          now: () => Date.now(),
        });
      };
      const http = await createHttpServer({ config, logger, store, models, readiness, metrics, repoRoot: REPO_ROOT, auth }, [
        ...(config.console.enabled
          ? [consoleRegistrar({ config, logger, store, models, bus, calls, sip, readiness, repoRoot: REPO_ROOT, auth, authSettings })]
          : []),
        coreRoutes,
        ...(webrtc !== null ? [webrtc.registrar()] : []),
        ...(options.routes ?? []),
      ]);
      closeStack.push({ name: 'http', close: () => http.close() });
      try {
        await http.listen({ host: config.http.host, port: config.http.port });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
          throw evxError(
            'EVX_ERR_PORT_IN_USE',
            `cannot listen on http ${config.http.host}:${config.http.port} (${code}); key 'http.port'`,
            {
              cause: err,
              details: { key: 'http.port', reason: code },
            },
          );
        }
        throw err;
      }
      readiness.register('http', () => (http.server.listening ? { ok: true } : { ok: false, reason: 'http listener closed' }));

      const appliance = new Appliance(config, logger, store, models, metrics, readiness, http, bus, calls, sip, closeStack, webrtc);
      appliance.speech = speech.engine;
      appliance.acd = acd;
      appliance.handover = handover;
      appliance.heldCallbacks = heldCallbacks;
      // with this box's API answering, its open requests are mirrored again (the partner returned them)
      if (handover !== null) void callbacksReady?.then(() => handover.resync());
      appliance.forecast = forecast;
      appliance.agents = agents;
      appliance.trunkDialer = trunks.dialer;
      appliance.knowledge = assist.knowledge;
      appliance.email = email;
      appliance.onDrain((graceMs) => calls.drain(graceMs));
      appliance.recordRun();
      metrics.up.set(1);
      readiness.phase = 'running';
      logger.info({ address: appliance.httpUrl, version: VERSION, dataDir }, 'appliance started');
      return appliance;
    } catch (err) {
      const failures = await closeStack.close();
      for (const f of failures) logger.error({ component: f.name, reason: f.error }, 'close failed after start error');
      throw err;
    }
  }

  /** The base URL of the HTTP API, with the real port when port 0 was configured. */
  get httpUrl(): string {
    const address = this.http.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : this.config.http.port;
    return `http://${this.config.http.host.includes(':') ? `[${this.config.http.host}]` : this.config.http.host}:${port}`;
  }

  /** Register something to wait for while draining (e.g. active calls); called with the grace period. */
  onDrain(hook: (graceMs: number) => Promise<void>): void {
    this.drainHooks.push(hook);
  }

  /** Add a component to the close cascade (closed before the ones added earlier). */
  addClosable(name: string, close: () => void | Promise<void>): void {
    this.closeStack.push({ name, close });
  }

  /** Stop taking new work and give active work up to graceMs to finish. */
  async drain(graceMs = this.config.shutdown.graceMs): Promise<void> {
    if (this.readiness.phase !== 'running') return;
    this.readiness.phase = 'draining';
    this.logger.info({ graceMs }, 'draining');
    await Promise.allSettled(this.drainHooks.map((hook) => hook(graceMs)));
  }

  /** Run the close cascade once; later calls wait for the first. */
  async close(reason = 'shutdown'): Promise<void> {
    if (this.closeStack.closed) {
      await this.closeStack.close();
      return;
    }
    this.metrics.up.set(0);
    this.readiness.phase = 'stopped';
    if (this.runId > 0 && this.store.isOpen) {
      try {
        this.store.runs.stop(this.runId, reason);
      } catch (err) {
        if (!isEdgeVoxError(err)) throw err;
      }
    }
    const failures = await this.closeStack.close();
    for (const f of failures) this.logger.error({ component: f.name, reason: f.error }, 'close failed');
    this.logger.info({ reason }, 'appliance stopped');
  }

  private recordRun(): void {
    this.runId = this.store.runs.start(VERSION);
    const crashed = this.store.runs.takeUnclean(this.runId);
    const orphans = this.store.calls.closeOrphans(Date.now(), crashed > 0 ? 'appliance-crashed' : 'appliance-restarted');
    if (crashed > 0 || orphans > 0) this.logger.warn({ crashedRuns: crashed, closedCalls: orphans }, 'recovered from unclean stop');
  }
}

/** A path from the config: absolute as given, else relative to the data dir. */
function resolveDataPath(dataDir: string, file: string): string {
  return isAbsolute(file) ? file : join(dataDir, file);
}

/** Create the data dir if needed and prove it is writable, so a bad dir fails before anything starts. */
function assertWritableDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    const probe = join(dir, `.write-probe-${process.pid}`);
    writeFileSync(probe, 'ok');
    rmSync(probe);
  } catch (err) {
    throw evxError(
      'EVX_ERR_DATA_DIR',
      `data dir ${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? 'error'}); key 'dataDir'`,
      {
        cause: err,
        details: { key: 'dataDir' },
      },
    );
  }
}

/**
 * Start the speech engine on the active models. When ASR is disabled, or its models are not active
 * (the readiness check already reports that), calls run without transcripts instead of not at all.
 */
async function startSpeech(
  choice: 'asr' | null | TranscriberFactory,
  ctx: { config: EdgeVoxConfig; models: ModelStore; logger: Logger; readiness: Readiness; closeStack: CloseStack },
): Promise<{ factory: TranscriberFactory | null; engine: SpeechEngine | null }> {
  if (choice === null || (choice === 'asr' && !ctx.config.asr.enabled)) return { factory: null, engine: null };
  if (typeof choice === 'function') return { factory: choice, engine: null };
  if (!ctx.models.requiredReady().ready) {
    ctx.logger.error({ missing: ctx.models.requiredReady().missing }, 'speech recognition not started: models not active');
    return { factory: null, engine: null };
  }
  const engine = await createSpeechEngine(ctx.models, ctx.config, ctx.logger);
  ctx.closeStack.push({
    name: 'asr',
    close: async () => {
      reportRemoteProvider('asr', null);
      await engine.close();
    },
  });
  const info = engine.recognizer.info();
  // The sessions live in worker threads: report their provider for /api/v1/system and /metrics.
  reportRemoteProvider('asr', info.provider as ExecutionProviderName);
  ctx.logger.info(
    { provider: info.provider, vadProvider: info.vadProvider, encoder: info.encoderFile, maxBatch: info.maxBatch },
    'speech recognition ready',
  );
  ctx.readiness.register('asr', () => ({ ok: true }));
  return { factory: engine.factory, engine };
}

/** Start the SIP/RTP listeners with their calls bridged into the call manager (null when disabled). */
async function startSip(
  config: EdgeVoxConfig,
  dataDir: string,
  calls: CallManager,
  logger: Logger,
  readiness: Readiness,
  closeStack: CloseStack,
  extraTap?: LegAudioSinkFactory,
  registrar?: RegistrarLike,
  languages?: LanguageSources,
): Promise<{ readonly sip: SipServer; readonly telephony: TelephonyBridge } | null> {
  if (!config.sip.enabled) return null;
  const bridge = new TelephonyBridge(calls, logger, languages);
  const policy = sipPolicyOf(config);
  const tls = config.sip.transports.includes('tls') ? sipTlsSetup(config, dataDir, logger, policy.tls) : undefined;
  const sip = new SipServer({
    host: config.sip.host,
    port: config.sip.port,
    transports: config.sip.transports,
    tlsPort: config.sip.tlsPort,
    ...(tls === undefined ? {} : { tls: tls.options }),
    rtpHost: config.sip.rtpHost || config.sip.host,
    rtpPortMin: config.sip.rtpPortMin,
    rtpPortMax: config.sip.rtpPortMax,
    accounts: config.sip.accounts,
    realm: config.sip.realm,
    allowList: policy.allowList,
    transferTargets: config.sip.transferTargets,
    rateLimitPerSec: config.sip.rateLimitPerSec,
    rateLimitBurst: config.sip.rateLimitBurst,
    maxTcpConnections: config.sip.tcpMaxConnections,
    maxTcpConnectionsPerSource: config.sip.tcpMaxConnectionsPerSource,
    tcpIdleTimeoutMs: config.sip.tcpIdleTimeoutMs,
    maxCalls: config.calls.maxConcurrent,
    // Beyond max calls, the call manager refuses new calls while recognition lags real time.
    admit: () => calls.admit(),
    availability: () => calls.availability(),
    atCapacityStatus: 503,
    retryAfterSec: config.calls.retryAfterS,
    sessionExpiresSec: config.sip.sessionExpiresSec,
    rtpTimeoutMs: config.sip.rtpTimeoutMs,
    idleMedia: config.sip.idleMedia,
    mediaSecurity: (peer) => policy.mediaSecurity(peer),
    dropUserAgents: config.sip.dropUserAgents,
    ...(config.sip.agentAorPattern ? { agentAor: new RegExp(config.sip.agentAorPattern, 'i') } : {}),
    sinkFactory: extraTap === undefined ? bridge.sinkFactory : teeSinkFactories(bridge.sinkFactory, extraTap),
    ...(registrar === undefined ? {} : { registrar }),
  });
  const detach = bridge.attach(sip);
  try {
    await sip.listen();
  } catch (err) {
    detach();
    const code = (err as NodeJS.ErrnoException).code ?? (err as { cause?: NodeJS.ErrnoException }).cause?.code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw evxError('EVX_ERR_PORT_IN_USE', `cannot listen on sip ${config.sip.host}:${config.sip.port} (${code}); key 'sip.port'`, {
        cause: err,
        details: { key: 'sip.port', reason: code },
      });
    }
    throw err;
  }
  const stopTlsWatch = tls?.watch(() => sip.reloadTls());
  const stopSipLog = logSipActivity(sip, logger);
  closeStack.push({
    name: 'sip',
    close: async () => {
      stopTlsWatch?.();
      await sip.close();
      stopSipLog();
      detach();
    },
  });
  readiness.register('sip', () => ({ ok: true }));
  logger.info({ port: sip.port, tlsPort: tls === undefined ? null : sip.tlsPort, transports: config.sip.transports }, 'sip listening');
  return { sip, telephony: bridge };
}
