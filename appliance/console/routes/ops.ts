/**
 * Operations and diagnostics for the console: live call snapshot, chart aggregates, call search,
 * listeners and recent errors, the model check, the self-test call and the support bundle.
 */
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { VERSION, COMMIT } from '../../buildInfo.js';
import { activeExecutionProviders } from '../../inference/sessions.js';
import { roleAtLeast } from '../../auth/authService.js';
import { collectInventory, withoutPaths } from '../../system/inventory.js';
import { redactConfig } from '../configService.js';
import type { ConsoleContext } from '../context.js';
import { loadSelfTestClip, runSelfTest } from '../selfTest.js';
import { principalOf } from './auth.js';
import { evxError } from '../../errors.js';
import type { SpeechLanguage } from '../../asr/language.js';

export function registerOpsRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get(
    '/api/v1/console/live',
    {
      schema: {
        summary: 'Active calls with their legs and real-time lag (the live board starts from this, then follows /api/v1/events)',
        tags: ['console'],
      },
    },
    async () => ({
      at: Date.now(),
      calls: ctx.calls.active().map((c) => ({
        id: c.id,
        source: c.source,
        startedAt: c.startedAt,
        language: c.spokenLanguage,
        languageChoice: c.language.choice,
        legs: c.legs().map((l) => ({ id: l.id, label: l.label, lagMs: Math.round(l.lagMs()) })),
        utterances: ctx.store.utterances.listByCall(c.id).slice(-20),
      })),
      maxLagMs: Math.round(ctx.calls.maxLagMs()),
      capacity: ctx.config.calls.maxConcurrent,
    }),
  );

  app.get<{ Querystring: { hours: number } }>(
    '/api/v1/console/stats',
    {
      schema: {
        summary: 'Chart data: calls per hour, time to answer, emotion mix, top intents, calls and top intents by language',
        querystring: Type.Object({ hours: Type.Integer({ minimum: 1, maximum: 24 * 31, default: 24 }) }),
        tags: ['console'],
      },
    },
    async (request) => ctx.stats.stats(Date.now() - request.query.hours * 3_600_000),
  );

  app.get<{ Querystring: { q: string; before?: number; limit: number; language?: SpeechLanguage } }>(
    '/api/v1/console/calls',
    {
      schema: {
        summary: 'Call history search: by call id or transcript text, optionally in one language',
        querystring: Type.Object({
          q: Type.String({ maxLength: 200, default: '' }),
          before: Type.Optional(Type.Integer({ minimum: 0 })),
          limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
          language: Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('zh')], { description: 'Only calls in this language' })),
        }),
        tags: ['console'],
      },
    },
    async (request) => {
      const hits = ctx.stats.search(
        request.query.q,
        request.query.before ?? Number.MAX_SAFE_INTEGER,
        request.query.limit,
        request.query.language,
      );
      const last = hits[hits.length - 1];
      return { calls: hits, nextBefore: hits.length === request.query.limit && last ? last.startedAt : null };
    },
  );

  app.get(
    '/api/v1/diagnostics',
    {
      schema: {
        summary: "Listeners, readiness, model check, execution providers, recent errors (the box's filesystem paths only for technicians)",
        tags: ['console'],
      },
    },
    async (request) => {
      const body = await diagnostics(ctx);
      return roleAtLeast(principalOf(request).role, 'technician') ? body : withoutBoxPaths(body);
    },
  );

  app.get(
    '/api/v1/diagnostics/support-bundle',
    {
      schema: {
        summary: 'One-click support bundle (gzipped JSON, no PII: no transcripts, numbers, caller hashes, names or secrets)',
        tags: ['console'],
      },
      config: { minRole: 'technician' },
    },
    async (request, reply) => {
      const bundle = await supportBundle(ctx, app);
      ctx.store.audit.record(principalOf(request).username, 'support.bundle', '', {});
      const name = `edgevox-support-${ctx.config.site.id}-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '')}.json.gz`;
      return reply
        .header('content-type', 'application/gzip')
        .header('content-disposition', `attachment; filename="${name}"`)
        .send(gzipSync(JSON.stringify(bundle, null, 1)));
    },
  );

  let running: Promise<unknown> | null = null;
  app.post(
    '/api/v1/selftest',
    {
      schema: {
        summary: 'Self-test: the appliance calls itself over SIP, streams known speech and returns the transcript the pipeline produced',
        tags: ['console'],
      },
    },
    async (request) => {
      if (ctx.sip === null)
        throw evxError('EVX_ERR_SELF_TEST', 'SIP is disabled (sip.enabled = false): the self-test call needs the SIP listener', {
          details: { step: 'sip' },
        });
      if (running !== null) throw evxError('EVX_ERR_SELF_TEST', 'a self-test call is already running', { details: { step: 'busy' } });
      const clip = loadSelfTestClip();
      const started = Date.now();
      const p = runSelfTest({
        sipHost: ctx.config.sip.host,
        sipPort: ctx.sip.port,
        accounts: ctx.config.sip.accounts,
        bus: ctx.bus,
        store: ctx.store,
        hasher: ctx.hasher,
        clip,
      });
      running = p;
      try {
        const result = await p;
        ctx.store.audit.record(principalOf(request).username, 'selftest', result.callId ? `call:${result.callId}` : '', {
          ok: result.ok,
          wordErrors: result.wordErrors,
        });
        if (!result.ok)
          ctx.errors.add({
            at: Date.now(),
            source: 'selftest',
            code: 'EVX_ERR_SELF_TEST',
            message: result.steps.find((s) => !s.ok)?.detail ?? 'failed',
          });
        return { ...result, elapsedMs: Date.now() - started };
      } finally {
        running = null;
      }
    },
  );
}

function modelCheck(ctx: ConsoleContext) {
  return ctx.models.status().map((s) => {
    const m = ctx.models.manifest.models.find((x) => x.name === s.name);
    return { ...s, dir: s.dir === null ? null : 'installed', files: (m?.files ?? []).map((f) => ({ path: f.path, sha256: f.sha256 })) };
  });
}

async function diagnostics(ctx: ConsoleContext) {
  const sip = ctx.sip;
  return {
    at: Date.now(),
    version: VERSION,
    commit: COMMIT,
    readiness: ctx.readiness.evaluate(),
    listeners: {
      sip:
        sip === null
          ? null
          : {
              host: ctx.config.sip.host,
              port: sip.port,
              transports: ctx.config.sip.transports,
              resources: sip.resources(),
              activeCalls: sip.activeCalls,
            },
      rtp:
        sip === null
          ? null
          : { host: ctx.config.sip.rtpHost || ctx.config.sip.host, portMin: ctx.config.sip.rtpPortMin, portMax: ctx.config.sip.rtpPortMax },
      https:
        ctx.https.listener === null ? null : { host: ctx.config.console.httpsHost || ctx.config.http.host, port: ctx.https.listener.port },
      http: { host: ctx.config.http.host },
    },
    models: modelCheck(ctx),
    inference: { configuredProviders: ctx.config.inference.providers, activeProviders: activeExecutionProviders() },
    calls: { active: ctx.calls.activeCount, maxLagMs: Math.round(ctx.calls.maxLagMs()), capacity: ctx.config.calls.maxConcurrent },
    recentErrors: ctx.errors.list().slice(0, 100),
  };
}

/**
 * The diagnostics for a role below technician: the paths in the readiness reasons, the models'
 * errors and the recent errors replaced, as GET /api/v1/system does (an HTTP error's message is a
 * route pattern, not a path on the box, and stays).
 */
function withoutBoxPaths(d: Awaited<ReturnType<typeof diagnostics>>) {
  return {
    ...d,
    readiness: {
      ...d.readiness,
      checks: d.readiness.checks.map((c) => (c.reason === undefined ? c : { ...c, reason: withoutPaths(c.reason) })),
    },
    models: d.models.map((m) => (m.error === null ? m : { ...m, error: { ...m.error, message: withoutPaths(m.error.message) } })),
    recentErrors: d.recentErrors.map((e) => (e.source === 'http' ? e : { ...e, message: withoutPaths(e.message) })),
  };
}

/** Everything support needs, nothing personal: counts and codes, not transcripts, numbers or names. */
async function supportBundle(ctx: ConsoleContext, app: FastifyInstance) {
  const inventory = await collectInventory({
    dataDir: ctx.dataDir,
    configuredProviders: ctx.config.inference.providers,
    repoRoot: ctx.repoRoot,
  });
  const stats = ctx.stats.stats(Date.now() - 7 * 86_400_000);
  const metrics = await app.inject({ method: 'GET', url: '/metrics' });
  return {
    kind: 'edgevox-support-bundle',
    createdAt: new Date().toISOString(),
    site: { id: ctx.config.site.id },
    inventory: { ...inventory, os: { ...inventory.os, hostname: '(omitted)' } },
    diagnostics: await diagnostics(ctx),
    // agents' names and SIP accounts are routing data, not configuration: never in the bundle
    config: redactConfig(ctx.configs.current().config),
    configVersions: ctx.store.configVersions.list(20).map((v) => ({
      version: v.version,
      createdAt: v.createdAt,
      comment: v.comment.slice(0, 80),
      byConsole: v.author.startsWith('console:'),
    })),
    pendingRestart: ctx.configs.pendingRestart(),
    callTotals7d: stats.totals,
    // Actions and times only: the audit log's actor names are operators' names.
    audit: ctx.store.audit.list(200).map((e) => ({ at: e.at, action: e.action })),
    metrics: metrics.body,
  };
}
