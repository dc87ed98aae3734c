/**
 * The WebRTC plane as the appliance mounts it: media plane (mediasoup workers) + call registry +
 * bridge into the call manager + HTTP routes (signalling WebSocket, caller sessions, agent tokens,
 * the agent's call queue, the softphone and "call us" pages) + the agents' softphones the ACD rings
 * (`softphones`, softphones.ts; wired to the ACD and agent presence by app/acdSoftphones.ts).
 *
 * Routes and who may use them:
 *   GET  /api/v1/webrtc/signal           WebSocket; authenticated inside the protocol (join with a
 *                                        caller token or an agent token), so public to the HTTP guard
 *   POST /api/v1/webrtc/caller-sessions  public ("call us" page); admission control of the call manager
 *   POST /api/v1/webrtc/agent-tokens     console-authenticated (supervisor or above) mints agent tokens
 *   GET  /api/v1/webrtc/queue            agent token in the `x-agent-token` header: calls to answer
 *   GET  /call, /agent, /webrtc/assets/* the two pages and their bundled scripts (dist/web/webrtc)
 *
 * Close order (CLOSURES.md): registry (ends calls: participants notified, routers closed, taps and
 * legs closed) -> bridge (stops listening) -> media plane (workers).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { RouteRegistrar } from '../api/server.js';
import type { CallManager } from '../calls/callManager.js';
import type { EdgeVoxConfig } from '../config/schema.js';
import { evxError, isEdgeVoxError } from '../errors.js';
import type { EventBus } from '../events/appEvents.js';
import type { Logger } from '../log/logger.js';
import { WebRtcCallBridge } from './callBridge.js';
import { SipWebRtcBridge } from './sipBridge.js';
import { WebRtcSoftphones } from './softphones.js';
import type { SipServer } from '../telephony/sip-server.js';
import type { LegAudioSinkFactory } from '../telephony/types.js';
import { MediaPlane } from './mediaPlane.js';
import { DEFAULT_CALLER_SESSION_PATH, registerWebRtcSignalling } from './signalling.js';
import { MIN_SECRET_BYTES, mintAgentToken, verifyAgentToken } from './tokens.js';
import { WebRtcCallRegistry } from './webrtcCalls.js';
import { findWorkerBin } from './workerBin.js';

export const AGENT_TOKEN_PATH = '/api/v1/webrtc/agent-tokens';
export const QUEUE_PATH = '/api/v1/webrtc/queue';
export const AGENT_TOKEN_HEADER = 'x-agent-token';

export interface WebRtcServiceDeps {
  readonly config: EdgeVoxConfig;
  /** Resolved data dir (the token secret lives there). */
  readonly dataDir: string;
  readonly calls: CallManager;
  readonly bus: EventBus;
  readonly logger: Logger;
  /** Built pages and scripts (default <repo>/dist/web/webrtc). */
  readonly webDir: string;
  /** Agent assist's card feedback from joined agents (assist/cardService.ts `feedback`). */
  readonly cardFeedback?: (callId: string, cardId: string, useful: boolean, by: string) => { feedback: 'useful' | 'not_useful' };
}

const AgentTokenBody = Type.Object(
  {
    agentId: Type.String({
      minLength: 1,
      maxLength: 128,
      pattern: '^[A-Za-z0-9_.:-]+$',
      description: 'Agent id (a routing agent), never a name',
    }),
    role: Type.Union([Type.Literal('agent'), Type.Literal('supervisor')], { default: 'agent' }),
    ttlMs: Type.Integer({ minimum: 60_000, maximum: 86_400_000, default: 12 * 3_600_000, description: 'Token lifetime (a shift)' }),
  },
  { additionalProperties: false },
);

/** Reads the token secret from the data dir, creating it (0600) on first start. */
export function loadTokenSecret(dataDir: string, file: string): Buffer {
  const path = isAbsolute(file) ? file : join(dataDir, file);
  if (!existsSync(path)) {
    try {
      writeFileSync(path, randomBytes(32).toString('hex') + '\n', { flag: 'wx', mode: 0o600 });
    } catch (err) {
      // A concurrent first start created it: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  chmodSync(path, 0o600);
  const secret = Buffer.from(readFileSync(path, 'utf8').trim(), 'utf8');
  if (secret.length < MIN_SECRET_BYTES) {
    throw evxError('EVX_ERR_CONFIG_INVALID', `webrtc.callerTokenSecretFile ${path} holds fewer than ${MIN_SECRET_BYTES} bytes`, {
      details: { key: 'webrtc.callerTokenSecretFile' },
    });
  }
  return secret;
}

export class WebRtcService {
  private closing: Promise<void> | undefined;
  private workerDeaths = 0;
  private readonly offSip: (() => void)[] = [];
  /**
   * Agents' softphones (presence sockets): the ACD's `AcdSoftphones` (ring an agent's connected
   * softphones) and `connected`/`disconnected` events for agent presence.
   */
  readonly softphones: WebRtcSoftphones;

  private constructor(
    readonly plane: MediaPlane,
    readonly registry: WebRtcCallRegistry,
    private readonly bridge: WebRtcCallBridge,
    readonly sipBridge: SipWebRtcBridge,
    private readonly secret: Buffer,
    private readonly deps: WebRtcServiceDeps,
  ) {
    this.softphones = new WebRtcSoftphones({
      registry,
      callInfo: (callId) => {
        if (sipBridge.isSipCall(callId)) {
          const agentCodec = sipBridge.agentCodec(callId);
          return agentCodec === undefined ? undefined : { source: 'sip', agentCodec };
        }
        return registry.get(callId) === undefined ? undefined : { source: 'web', agentCodec: 'opus' };
      },
      logger: deps.logger,
      onListenerError: (event, err) =>
        deps.logger.error({ event, reason: err instanceof Error ? err.message : String(err) }, 'softphone listener failed'),
    });
  }

  /**
   * Starts the plane, or returns null when `webrtc.enabled` is false or the mediasoup worker is not
   * built: then the appliance runs without WebRTC (SIP is unaffected) and says so at error level,
   * naming the fix. A worker that exists but fails to start is an error.
   */
  static async start(deps: WebRtcServiceDeps): Promise<WebRtcService | null> {
    const c = deps.config.webrtc;
    if (!c.enabled) return null;
    const secret = loadTokenSecret(deps.dataDir, c.callerTokenSecretFile);
    const onListenerError = (event: string, err: unknown) =>
      deps.logger.error({ event, reason: err instanceof Error ? err.message : String(err) }, 'webrtc listener failed');
    if (findWorkerBin() === undefined) {
      deps.logger.error(
        { code: 'EVX_ERR_WEBRTC_WORKER_MISSING' },
        'webrtc disabled: mediasoup worker not built (run make setup or native/mediasoup/build.sh)',
      );
      return null;
    }
    const plane = await MediaPlane.start(
      {
        numWorkers: c.workers,
        listenIp: c.listenIp,
        announcedAddress: c.announcedAddress === '' ? undefined : c.announcedAddress,
        rtcMinPort: c.rtcPortMin,
        rtcMaxPort: c.rtcPortMax,
        // The SIP legs and ASR taps stay on loopback unless the listen address is loopback-only anyway.
        plainListenIp: '127.0.0.1',
      },
      { onListenerError },
    );
    const registry = new WebRtcCallRegistry(plane, onListenerError);
    const bridge = new WebRtcCallBridge(registry, deps.calls, deps.bus, deps.logger);
    const sipBridge = new SipWebRtcBridge(registry, deps.calls, deps.logger);
    deps.logger.info(
      { workers: plane.workerPids().length, listenIp: c.listenIp, workerBin: plane.workerBin.source },
      'webrtc media plane started',
    );
    const service = new WebRtcService(plane, registry, bridge, sipBridge, secret, deps);
    plane.events.on('workerDied', (e) => {
      service.workerDeaths++;
      deps.logger.error({ ...e }, 'mediasoup worker died');
    });
    return service;
  }

  /** Figures for /metrics (metrics.bindWebRtc). */
  metricsSource(): { activeCalls(): number; workersAlive(): number; workerDeaths(): number; sipBridges(): number } {
    return {
      activeCalls: () => this.plane.activeCalls,
      workersAlive: () => this.plane.workerPids().length,
      workerDeaths: () => this.workerDeaths,
      sipBridges: () => this.sipBridge.activeRelays,
    };
  }

  /** Tap for the SIP legs' audio (compose into the SIP server's sink factory: teeSinkFactories). */
  get sipAudioTap(): LegAudioSinkFactory {
    return this.sipBridge.sinkFactory;
  }

  /** Lets agents be bridged into this SIP server's calls. */
  attachSip(sip: SipServer): void {
    this.sipBridge.attachSip(sip);
    // a call offered to softphones stays guarded until it ends
    this.offSip.push(sip.events.on('call.ended', ({ callId }) => this.softphones.callEnded(callId)));
  }

  /** Verifies an agent token minted by this appliance. */
  verifyAgent(token: string): { subject: string; role: 'agent' | 'supervisor'; expiresAtMs: number } | undefined {
    const p = verifyAgentToken(this.secret, token);
    return p === undefined ? undefined : { subject: p.subject, role: p.role, expiresAtMs: p.expiresAtMs };
  }

  /** Mints an agent token (the route below, the CLI and tests). */
  mintAgentToken(agentId: string, role: 'agent' | 'supervisor' = 'agent', ttlMs?: number): string {
    return mintAgentToken(this.secret, { subject: agentId, role }, ttlMs === undefined ? {} : { ttlMs });
  }

  /** The route plugin mounted on the appliance's HTTP server. */
  registrar(): RouteRegistrar {
    return async (app: FastifyInstance) => {
      const { calls, config } = this.deps;
      await registerWebRtcSignalling(app, {
        calls: this.registry,
        callerTokenSecret: this.secret,
        verifyAgentToken: (t) => this.verifyAgent(t),
        callerSessionPath: config.webrtc.publicCallerPage ? DEFAULT_CALLER_SESSION_PATH : false,
        callerTokenTtlMs: config.webrtc.callerTokenTtlMs,
        maxCalls: config.calls.maxConcurrent,
        retryAfterS: config.calls.retryAfterS,
        admitCallerSession: () => {
          const a = calls.admit();
          return a.ok ? a : { ok: false, reason: a.reason, retryAfterS: a.retryAfterS };
        },
        // Agents join calls the appliance has (web calls, or calls the call manager knows); a call
        // offered to softphones only by the agent it rings (softphones.ts).
        authorizeJoin: (callId, role, subject) =>
          (this.registry.get(callId) !== undefined || calls.get(callId) !== undefined) && this.softphones.mayJoin(callId, role, subject),
        softphones: this.softphones,
        ...(this.deps.cardFeedback !== undefined ? { cardFeedback: this.deps.cardFeedback } : {}),
        log: this.deps.logger,
      });

      app.post<{ Body: Static<typeof AgentTokenBody> }>(
        AGENT_TOKEN_PATH,
        {
          schema: { summary: 'Mint a softphone token for an agent or supervisor', body: AgentTokenBody },
          config: { minRole: 'supervisor' },
        },
        async (request, reply) => {
          const { agentId, role, ttlMs } = request.body;
          const token = this.mintAgentToken(agentId, role, ttlMs);
          return reply.code(201).send({ token, agentId, role, expiresAtMs: Date.now() + ttlMs });
        },
      );

      app.get(
        QUEUE_PATH,
        {
          schema: { summary: 'WebRTC calls an agent can answer (agent token in x-agent-token)', hide: true },
          // Public to the console guard: the softphone authenticates with its agent token below.
          config: { public: true },
        },
        async (request) => {
          const header = request.headers[AGENT_TOKEN_HEADER];
          const principal = typeof header === 'string' ? this.verifyAgent(header) : undefined;
          if (principal === undefined)
            throw evxError('EVX_ERR_WEBRTC_AUTH', `send a valid agent token in the ${AGENT_TOKEN_HEADER} header`);
          const web = this.registry.list().filter((call) => !this.sipBridge.isSipCall(call.callId));
          const sip = calls.active().filter((s) => this.sipBridge.isSipCall(s.id));
          return {
            calls: [
              ...web.map((call) => ({
                callId: call.callId,
                source: 'web' as const,
                startedAt: calls.get(call.callId)?.startedAt ?? null,
                hasCaller: call.has('caller'),
                hasAgent: call.has('agent'),
                agentCodec: 'opus',
              })),
              ...sip.map((session) => ({
                callId: session.id,
                source: 'sip' as const,
                startedAt: session.startedAt,
                hasCaller: true,
                hasAgent: this.registry.get(session.id)?.has('agent') ?? false,
                // mediasoup forwards, never transcodes: the agent sends the SIP leg's G.711.
                agentCodec: this.sipBridge.agentCodec(session.id) ?? 'pcmu',
              })),
            ],
          };
        },
      );

      this.registerPages(app);
    };
  }

  private registerPages(app: FastifyInstance): void {
    const webDir = resolve(this.deps.webDir);
    const page = (name: string) => async (_request: unknown, reply: import('fastify').FastifyReply) => {
      const file = join(webDir, name);
      if (!existsSync(file))
        throw evxError('EVX_ERR_NOT_READY', 'The WebRTC pages are not built: run `make webrtc-web`', {
          details: { reason: 'pages-not-built' },
        });
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(readFileSync(file));
    };
    // The pages and their assets are public: what they do needs a caller or agent token.
    const pageOptions = { schema: { hide: true }, config: { public: true as const } };
    if (this.deps.config.webrtc.publicCallerPage) app.get('/call', pageOptions, page('call.html'));
    app.get('/agent', pageOptions, page('agent.html'));
    app.get<{ Params: { name: string } }>('/webrtc/assets/:name', pageOptions, async (request, reply) => {
      const { name } = request.params;
      if (!/^[a-z][a-z0-9-]*\.(js|css)$/.test(name))
        throw evxError('EVX_ERR_NOT_FOUND', 'no such asset', { details: { resource: 'asset' } });
      const file = join(webDir, name);
      if (!existsSync(file)) throw evxError('EVX_ERR_NOT_FOUND', 'no such asset (run make webrtc-web)', { details: { resource: 'asset' } });
      return reply
        .type(name.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(readFileSync(file));
    });
  }

  /** Ends every web call, then stops the workers. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const off of this.offSip.splice(0)) off();
      this.softphones.close();
      this.registry.close('shutdown');
      this.sipBridge.close();
      this.bridge.close();
      try {
        await this.plane.close();
      } catch (err) {
        if (!isEdgeVoxError(err)) throw err;
        this.deps.logger.warn({ code: err.code }, 'webrtc media plane close failed');
      }
    })();
    return this.closing;
  }
}
