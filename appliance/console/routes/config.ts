/** Configuration (read, change, versions, diff, rollback), encrypted backups, and the TLS certificate. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { roleAtLeast, isRole, type Role } from '../../auth/authService.js';
import { VERSION } from '../../buildInfo.js';
import { configInvalid } from '../../config/load.js';
import { configLeaves, type EdgeVoxConfig } from '../../config/schema.js';
import { evxError } from '../../errors.js';
import type { ConsoleUser } from '../../auth/repo.js';
import { decryptBackup, encryptBackup, type BackupPayload } from '../backup.js';
import { diffConfigs, hideChangePaths, hidePaths, isLiveKey, maskChange, redactConfig, SECRET_KEYS } from '../configService.js';
import { markSetupComplete, type ConsoleContext } from '../context.js';
import { certInfo, readTls, validateTls, writeTls } from '../tls.js';
import { principalOf } from './auth.js';

const Comment = Type.String({ maxLength: 500, default: '' });
const PutConfig = Type.Object({ config: Type.Record(Type.String(), Type.Unknown()), comment: Comment }, { additionalProperties: false });
const PatchConfig = Type.Object(
  { changes: Type.Record(Type.String({ pattern: '^[A-Za-z0-9.]+$' }), Type.Unknown(), { minProperties: 1 }), comment: Comment },
  { additionalProperties: false },
);
const ValidateConfig = Type.Union(
  [
    Type.Object(
      { changes: Type.Record(Type.String({ pattern: '^[A-Za-z0-9.]+$' }), Type.Unknown(), { minProperties: 1 }) },
      { additionalProperties: false },
    ),
    Type.Object({ config: Type.Record(Type.String(), Type.Unknown()) }, { additionalProperties: false }),
  ],
  { description: 'Either some dotted keys to set on the current configuration, or a whole configuration' },
);
const Rollback = Type.Object({ version: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });
const Export = Type.Object({ passphrase: Type.String({ minLength: 1, maxLength: 500 }) }, { additionalProperties: false });
const Restore = Type.Object(
  { passphrase: Type.String({ minLength: 1, maxLength: 500 }), file: Type.String({ minLength: 1, contentEncoding: 'base64' }) },
  { additionalProperties: false },
);
const Tls = Type.Object(
  { cert: Type.String({ minLength: 1, maxLength: 100_000 }), key: Type.String({ minLength: 1, maxLength: 100_000 }) },
  { additionalProperties: false },
);

/** The configuration as a role reads it: below technician, secrets masked and paths on the box replaced. */
function view(config: EdgeVoxConfig, role: Role): Record<string, unknown> {
  return roleAtLeast(role, 'technician') ? config : hidePaths(redactConfig(config));
}

export function registerConfigRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const fields = configLeaves().map((l) => {
    const key = l.path.join('.');
    const s = l.schema as Record<string, unknown>;
    return {
      key,
      type: (s['type'] as string | undefined) ?? (Array.isArray(s['anyOf']) ? 'enum' : 'unknown'),
      enum: Array.isArray(s['anyOf']) ? (s['anyOf'] as { const?: unknown }[]).map((x) => x.const) : undefined,
      items: s['items'],
      minimum: s['minimum'],
      maximum: s['maximum'],
      pattern: s['pattern'],
      default: s['default'],
      description: (s['description'] as string | undefined) ?? '',
      live: isLiveKey(key),
      secret: SECRET_KEYS.some((k) => key === k || key.startsWith(k + '.')),
      editable: key !== 'dataDir',
    };
  });

  app.get(
    '/api/v1/config/schema',
    { schema: { summary: 'Every configuration key: type, limits, default, description, live or restart', tags: ['config'] } },
    async () => ({ fields }),
  );

  app.get(
    '/api/v1/config',
    {
      schema: {
        summary: 'The current configuration (secrets and paths on the box masked below the technician role) and keys waiting for a restart',
        tags: ['config'],
      },
    },
    async (request) => {
      const cur = ctx.configs.current();
      return { version: cur.version, config: view(cur.config, principalOf(request).role), restartRequired: ctx.configs.pendingRestart() };
    },
  );

  app.put<{ Body: Static<typeof PutConfig> }>(
    '/api/v1/config',
    { schema: { summary: 'Replace the whole configuration (validated; stored as a new version)', body: PutConfig, tags: ['config'] } },
    async (request) => ctx.configs.save(request.body.config, principalOf(request).username, request.body.comment),
  );

  app.patch<{ Body: Static<typeof PatchConfig> }>(
    '/api/v1/config',
    {
      schema: {
        summary: 'Change some keys, e.g. {"changes": {"site.name": "Leeds"}} (validated; stored as a new version)',
        body: PatchConfig,
        tags: ['config'],
      },
    },
    async (request) => ctx.configs.patch(request.body.changes, principalOf(request).username, request.body.comment),
  );

  // A dry run: the same checks as saving, nothing stored or audited. Valid: 200 {ok: true, issues: []};
  // invalid: 400 EVX_ERR_CONFIG_INVALID with every issue in error.details.issues, as PATCH/PUT answer.
  app.post<{ Body: Static<typeof ValidateConfig> }>(
    '/api/v1/config/validate',
    {
      config: { minRole: 'technician' },
      schema: {
        summary:
          'Check changes ({"changes": {...}}) or a whole configuration ({"config": {...}}) without saving: every issue with its key, code and a plain-language message',
        body: ValidateConfig,
        tags: ['config'],
      },
    },
    async (request) => {
      const body = request.body;
      const issues = 'changes' in body ? ctx.configs.checkChanges(body.changes) : ctx.configs.check(body.config);
      if (issues.length > 0) throw configInvalid(issues);
      return { ok: true, issues: [] };
    },
  );

  app.get(
    '/api/v1/config/versions',
    { schema: { summary: 'Stored configuration versions, newest first', tags: ['config'] } },
    async () => ({
      versions: ctx.store.configVersions
        .list(100)
        .map((v) => ({ version: v.version, author: v.author, comment: v.comment, createdAt: v.createdAt })),
    }),
  );

  app.get<{ Params: { version: number } }>(
    '/api/v1/config/versions/:version',
    {
      schema: {
        summary: 'One stored configuration version',
        params: Type.Object({ version: Type.Integer({ minimum: 1 }) }),
        tags: ['config'],
      },
    },
    async (request) => {
      const v = ctx.store.configVersions.get(request.params.version);
      if (v === undefined)
        throw evxError('EVX_ERR_NOT_FOUND', `no configuration version ${request.params.version}`, {
          details: { resource: 'config version' },
        });
      const role = principalOf(request).role;
      return { ...v, config: view(v.config as unknown as EdgeVoxConfig, role) };
    },
  );

  app.get<{ Querystring: { from: number; to?: number } }>(
    '/api/v1/config/diff',
    {
      schema: {
        summary:
          'Key-by-key differences between two versions (to defaults to the current one); secrets are masked, and paths below technician',
        querystring: Type.Object({ from: Type.Integer({ minimum: 1 }), to: Type.Optional(Type.Integer({ minimum: 1 })) }),
        tags: ['config'],
      },
    },
    async (request) => {
      const from = ctx.store.configVersions.get(request.query.from);
      const to = request.query.to === undefined ? ctx.store.configVersions.latest() : ctx.store.configVersions.get(request.query.to);
      if (from === undefined || to === undefined)
        throw evxError('EVX_ERR_NOT_FOUND', 'no such configuration version', { details: { resource: 'config version' } });
      const changes = diffConfigs(from.config, to.config).map(maskChange);
      const technician = roleAtLeast(principalOf(request).role, 'technician');
      return { from: from.version, to: to.version, changes: technician ? changes : changes.map(hideChangePaths) };
    },
  );

  app.post<{ Body: Static<typeof Rollback> }>(
    '/api/v1/config/rollback',
    { schema: { summary: 'Make an earlier version current again (stored as a new version)', body: Rollback, tags: ['config'] } },
    async (request) => ctx.configs.rollback(request.body.version, principalOf(request).username),
  );

  app.post<{ Body: Static<typeof Export> }>(
    '/api/v1/backup/export',
    {
      schema: {
        summary: 'Download an encrypted backup (configuration, accounts, TLS, caller-hash salt; no call data)',
        body: Export,
        tags: ['config'],
      },
    },
    async (request, reply) => {
      const actor = principalOf(request).username;
      const saltPath = join(ctx.dataDir, 'secrets', 'caller-salt');
      const payload: BackupPayload = {
        format: 'edgevox-backup',
        version: 1,
        createdAt: Date.now(),
        appVersion: VERSION,
        siteId: ctx.config.site.id,
        config: ctx.configs.current().config,
        users: ctx.auth.repo
          .listUsers()
          .map((u) => ({ username: u.username, role: u.role, passwordHash: u.passwordHash, createdAt: u.createdAt })),
        tls: readTls(ctx.dataDir),
        callerSalt: existsSync(saltPath) ? readFileSync(saltPath, 'utf8').trim() : null,
      };
      const file = await encryptBackup(payload, request.body.passphrase);
      ctx.store.audit.record(actor, 'backup.export', '', { bytes: file.length });
      const name = `edgevox-${payload.siteId}-${new Date(payload.createdAt).toISOString().slice(0, 19).replace(/[:T]/g, '')}.evxbak`;
      return reply
        .header('content-type', 'application/octet-stream')
        .header('content-disposition', `attachment; filename="${name}"`)
        .header('cache-control', 'no-store')
        .send(file);
    },
  );

  app.post<{ Body: Static<typeof Restore> }>(
    '/api/v1/backup/restore',
    {
      bodyLimit: 16 * 1024 * 1024,
      schema: {
        summary: 'Restore an encrypted backup on this box (accounts are replaced: sign in again afterwards)',
        body: Restore,
        tags: ['config'],
      },
    },
    async (request) => {
      const p = principalOf(request);
      const payload = await decryptBackup(Buffer.from(request.body.file, 'base64'), request.body.passphrase);
      // Every part is checked before any is applied: a refused TLS pair must not leave the box
      // running another box's configuration.
      if (payload.tls !== null) validateTls(payload.tls);
      const saved = ctx.configs.save(
        { ...payload.config, dataDir: ctx.config.dataDir },
        p.username,
        `restored from backup of ${payload.siteId} (${new Date(payload.createdAt).toISOString()})`,
        'backup.restore',
      );
      if (payload.tls !== null) {
        writeTls(ctx.dataDir, payload.tls);
        ctx.https.listener?.replace(payload.tls);
      }
      if (payload.callerSalt !== null && /^[0-9a-f]{64}$/.test(payload.callerSalt)) {
        mkdirSync(join(ctx.dataDir, 'secrets'), { recursive: true, mode: 0o700 });
        writeFileSync(join(ctx.dataDir, 'secrets', 'caller-salt'), payload.callerSalt, { mode: 0o600 });
      }
      const users: ConsoleUser[] = payload.users
        .filter((u) => isRole(u.role))
        .map((u) => ({
          username: u.username,
          role: u.role as Role,
          passwordHash: u.passwordHash,
          failedLogins: 0,
          lockedUntil: 0,
          createdAt: u.createdAt,
          lastLoginAt: null,
        }));
      if (users.length > 0) ctx.auth.repo.replaceUsers(users);
      markSetupComplete(ctx.dataDir);
      ctx.store.audit.record(p.username, 'backup.restore.done', '', {
        siteId: payload.siteId,
        users: users.length,
        tls: payload.tls !== null,
      });
      return {
        ok: true,
        siteId: payload.siteId,
        version: saved.version,
        changes: saved.changes.map(maskChange),
        // The caller-hash salt is read at start: restarting makes new hashes match the old box.
        restartRequired: [...saved.restartRequired, ...(payload.callerSalt !== null ? ['secrets.callerSalt'] : [])],
        signInAgain: users.length > 0,
      };
    },
  );

  app.get(
    '/api/v1/tls',
    { schema: { summary: 'The console certificate (subject, validity, fingerprint) and HTTPS port', tags: ['config'] } },
    async () => {
      const tls = readTls(ctx.dataDir);
      return { certificate: tls === null ? null : certInfo(tls.cert), httpsPort: ctx.https.listener?.port ?? null };
    },
  );

  app.put<{ Body: Static<typeof Tls> }>(
    '/api/v1/tls',
    {
      schema: {
        summary: 'Replace the console certificate with an uploaded PEM pair (takes effect for new connections)',
        body: Tls,
        tags: ['config'],
      },
    },
    async (request) => {
      const info = validateTls(request.body);
      writeTls(ctx.dataDir, request.body);
      ctx.https.listener?.replace(request.body);
      ctx.store.audit.record(principalOf(request).username, 'tls.replace', 'tls', {
        subject: info.subject,
        fingerprint256: info.fingerprint256,
        validTo: info.validTo,
      });
      return { certificate: info };
    },
  );
}
