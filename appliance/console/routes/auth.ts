/** Sign-in, first-boot setup, accounts, API tokens and the audit log. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ROLES, type NewSession, type Principal } from '../../auth/authService.js';
import { clearedCookies, sessionCookies } from '../../auth/guard.js';
import { evxError } from '../../errors.js';
import { markSetupComplete, setupComplete, type ConsoleContext } from '../context.js';

const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));
const Login = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 100 }), password: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);
const SetupAdmin = Type.Object(
  {
    setupToken: Type.String({ minLength: 1, maxLength: 200 }),
    username: Type.String({ minLength: 1, maxLength: 100 }),
    password: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);
const NewUser = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 100 }), password: Type.String({ minLength: 1, maxLength: 200 }), role: RoleSchema },
  { additionalProperties: false },
);
const NewToken = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }), role: RoleSchema }, { additionalProperties: false });
const Password = Type.Object(
  { current: Type.String({ minLength: 1, maxLength: 200 }), next: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);

export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw evxError('EVX_ERR_AUTH_REQUIRED', 'sign in first');
  return request.principal;
}

function sessionBody(ctx: ConsoleContext, p: Principal | null) {
  return {
    authenticated: p !== null,
    username: p?.username ?? null,
    role: p?.role ?? null,
    kind: p?.kind ?? null,
    csrfToken: p?.csrfToken ?? null,
    setupRequired: ctx.auth.setupRequired,
    setupComplete: setupComplete(ctx.dataDir) !== null,
    site: { id: ctx.config.site.id, name: ctx.config.site.name },
  };
}

function sendSession(ctx: ConsoleContext, request: FastifyRequest, reply: FastifyReply, s: NewSession) {
  const secure = request.protocol === 'https';
  void reply.header('set-cookie', sessionCookies(s.sessionId, s.csrfToken, Math.round(ctx.config.console.sessionTtlMs / 1000), secure));
  void reply.header('cache-control', 'no-store');
  return sessionBody(ctx, s.principal);
}

export function registerAuthRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get(
    '/api/v1/auth/session',
    {
      schema: { summary: 'Who is signed in (public: also says whether first-boot setup is pending)', tags: ['console'] },
      config: { public: true },
    },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      return sessionBody(ctx, request.principal);
    },
  );

  app.post<{ Body: Static<typeof Login> }>(
    '/api/v1/auth/login',
    {
      schema: { summary: 'Sign in; sets the HttpOnly session cookie and the CSRF cookie', body: Login, tags: ['console'] },
      config: { public: true },
    },
    async (request, reply) => {
      const s = await ctx.auth.login(request.body.username, request.body.password, request.ip);
      return sendSession(ctx, request, reply, s);
    },
  );

  app.post(
    '/api/v1/auth/logout',
    { schema: { summary: 'Sign out (ends this session)', tags: ['console'] }, config: { minRole: 'kiosk' } },
    async (request, reply) => {
      ctx.auth.logout(principalOf(request));
      void reply.header('set-cookie', clearedCookies(request.protocol === 'https'));
      return { ok: true };
    },
  );

  app.post<{ Body: Static<typeof Password> }>(
    '/api/v1/auth/password',
    {
      schema: { summary: 'Change your own password (ends your other sessions)', body: Password, tags: ['console'] },
      config: { minRole: 'viewer' },
    },
    async (request) => {
      const p = principalOf(request);
      if (p.kind !== 'session') throw evxError('EVX_ERR_FORBIDDEN', 'API tokens have no password');
      await ctx.auth.changePassword(p.username, request.body.current, request.body.next, request.ip);
      return { ok: true };
    },
  );

  app.get(
    '/api/v1/setup/status',
    { schema: { summary: 'First-boot state (public)', tags: ['console'] }, config: { public: true } },
    async () => ({
      setupRequired: ctx.auth.setupRequired,
      setupComplete: setupComplete(ctx.dataDir),
      tokenFile: ctx.auth.setupRequired ? 'setup-token in the data directory' : null,
    }),
  );

  app.post<{ Body: Static<typeof SetupAdmin> }>(
    '/api/v1/setup/admin',
    {
      schema: {
        summary: 'First boot: exchange the one-time setup token for the first technician account',
        body: SetupAdmin,
        tags: ['console'],
      },
      config: { public: true },
    },
    async (request, reply) => {
      const s = await ctx.auth.completeSetup(request.body.setupToken, request.body.username, request.body.password, request.ip);
      ctx.logger.info('first technician account created; setup token retired');
      return sendSession(ctx, request, reply, s);
    },
  );

  app.post('/api/v1/setup/complete', { schema: { summary: 'Mark the first-boot wizard finished', tags: ['console'] } }, async (request) => {
    markSetupComplete(ctx.dataDir);
    ctx.store.audit.record(principalOf(request).username, 'setup.complete', '', {});
    return { ok: true, setupComplete: setupComplete(ctx.dataDir) };
  });

  app.get('/api/v1/users', { schema: { summary: 'Console accounts', tags: ['console'] }, config: { minRole: 'technician' } }, async () => ({
    users: ctx.auth.repo.listUsers().map((u) => ({
      username: u.username,
      role: u.role,
      createdAt: u.createdAt,
      lastLoginAt: u.lastLoginAt,
      locked: ctx.auth.isLocked(u.username),
    })),
  }));

  app.post<{ Body: Static<typeof NewUser> }>(
    '/api/v1/users',
    { schema: { summary: 'Create an account', body: NewUser, tags: ['console'] } },
    async (request) => {
      await ctx.auth.createUser(request.body.username, request.body.role, request.body.password, principalOf(request).username);
      return { ok: true };
    },
  );

  app.delete<{ Params: { username: string } }>(
    '/api/v1/users/:username',
    {
      schema: {
        summary: 'Delete an account (its sessions and the API tokens it created end with it)',
        params: Type.Object({ username: Type.String({ minLength: 1, maxLength: 100 }) }),
        tags: ['console'],
      },
    },
    async (request) => {
      const actor = principalOf(request).username;
      if (request.params.username === actor) throw evxError('EVX_ERR_BAD_REQUEST', 'you cannot delete your own account');
      const deleted = ctx.auth.repo.deleteUser(request.params.username);
      if (deleted === null) throw evxError('EVX_ERR_NOT_FOUND', 'no such account', { details: { resource: 'user' } });
      ctx.store.audit.record(actor, 'user.deleted', `user:${request.params.username}`, { tokensRevoked: deleted.tokensRevoked });
      return { ok: true };
    },
  );

  app.get(
    '/api/v1/tokens',
    {
      schema: { summary: 'API tokens (names and roles; secrets are never shown again)', tags: ['console'] },
      config: { minRole: 'technician' },
    },
    async () => ({
      tokens: ctx.auth.repo.listTokens(),
    }),
  );

  app.post<{ Body: Static<typeof NewToken> }>(
    '/api/v1/tokens',
    { schema: { summary: 'Create an API token for machines (returned once)', body: NewToken, tags: ['console'] } },
    async (request) => ctx.auth.createApiToken(request.body.name, request.body.role, principalOf(request)),
  );

  app.delete<{ Params: { id: number } }>(
    '/api/v1/tokens/:id',
    { schema: { summary: 'Revoke an API token', params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), tags: ['console'] } },
    async (request) => {
      if (!ctx.auth.repo.deleteToken(request.params.id))
        throw evxError('EVX_ERR_NOT_FOUND', 'no such token', { details: { resource: 'token' } });
      ctx.store.audit.record(principalOf(request).username, 'token.revoked', `token:${request.params.id}`, {});
      return { ok: true };
    },
  );

  app.get<{ Querystring: { limit: number } }>(
    '/api/v1/audit',
    {
      schema: {
        summary: 'Audit log: logins, configuration changes, account changes',
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }) }),
        tags: ['console'],
      },
      config: { minRole: 'supervisor' },
    },
    async (request) => ({ entries: ctx.store.audit.list(request.query.limit) }),
  );
}
