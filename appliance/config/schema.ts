/**
 * The one typed configuration schema of the appliance, with its defaults.
 *
 * Every key is documented here (the README's configuration reference is generated from these
 * descriptions by `edgevox config-reference`). Objects reject unknown keys so a typo in a site's
 * config file is an error at start, not a silently ignored setting.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const Port = (def: number, description: string) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: def, description });

const Section = <T extends Parameters<typeof Type.Object>[0]>(properties: T, description: string) =>
  Type.Object(properties, { additionalProperties: false, default: {}, description });

export const ConfigSchema = Type.Object(
  {
    site: Section(
      {
        id: Type.String({ default: 'unprovisioned', pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: 'Site identifier (lower-case, digits, dashes); used in upstream aggregates' }),
        name: Type.String({ default: 'EdgeVox appliance', maxLength: 200, description: 'Human-readable branch name' }),
      },
      'Site identity',
    ),
    dataDir: Type.String({ default: 'var', minLength: 1, description: 'Directory for the SQLite store, installed models and runtime files' }),
    modelsDir: Type.String({ default: '../shared/models', minLength: 1, description: 'Directory models are installed from (verified against models/manifest.json)' }),
    http: Section(
      {
        host: Type.String({ default: '127.0.0.1', minLength: 1, description: 'Address the console and API listen on' }),
        port: Port(8080, 'Port of the console and API (0 = any free port)'),
      },
      'HTTP console and API',
    ),
    log: Section(
      {
        level: Type.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
          { default: 'info', description: 'Log level' },
        ),
        includePii: Type.Boolean({ default: false, description: 'Log PII-marked fields (transcripts, numbers); honoured only at debug or trace level' }),
      },
      'Logging',
    ),
    shutdown: Section(
      {
        graceMs: Type.Integer({ minimum: 0, maximum: 600_000, default: 10_000, description: 'How long a SIGTERM waits for active calls to finish before closing them' }),
      },
      'Shutdown',
    ),
    sip: Section(
      {
        enabled: Type.Boolean({ default: true, description: 'Terminate SIP trunks / PBX legs' }),
        host: Type.String({ default: '127.0.0.1', minLength: 1, description: 'Address SIP listens on (UDP and TCP)' }),
        port: Port(5060, 'SIP port (0 = any free port)'),
        transports: Type.Array(Type.Union([Type.Literal('udp'), Type.Literal('tcp')]), { minItems: 1, default: ['udp', 'tcp'], description: 'SIP transports' }),
        rtpHost: Type.String({ default: '', description: 'Address RTP binds to and SDP announces (empty = sip.host)' }),
        rtpPortMin: Type.Integer({ minimum: 1024, maximum: 65534, default: 20000, description: 'First RTP port (even)' }),
        rtpPortMax: Type.Integer({ minimum: 1025, maximum: 65535, default: 20999, description: 'Last RTP port' }),
        realm: Type.String({ default: 'edgevox', minLength: 1, description: 'Digest authentication realm' }),
        accounts: Type.Array(
          Type.Object({ username: Type.String({ minLength: 1 }), password: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
          { default: [], description: 'Digest accounts trunks must authenticate with (empty = no authentication)' },
        ),
        allowList: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'Source IPs/CIDRs allowed to send SIP (empty = any)' }),
        rateLimitPerSec: Type.Number({ minimum: 0, default: 50, description: 'SIP requests per second per source address (0 = unlimited)' }),
        rateLimitBurst: Type.Integer({ minimum: 1, default: 100, description: 'Burst allowance of the per-source rate limit' }),
        sessionExpiresSec: Type.Integer({ minimum: 90, default: 1800, description: 'RFC 4028 session interval' }),
        rtpTimeoutMs: Type.Integer({ minimum: 0, default: 30_000, description: 'End a call after this long without RTP (0 = never)' }),
        agentAorPattern: Type.String({ default: '', description: 'SIPREC: participants whose address matches this regular expression are labelled agent' }),
      },
      'SIP and RTP media termination',
    ),
    calls: Section(
      {
        maxConcurrent: Type.Integer({ minimum: 1, maximum: 10_000, default: 120, description: 'Concurrent calls admitted; beyond this new calls get 503 + Retry-After' }),
        maxLagMs: Type.Integer({ minimum: 50, maximum: 60_000, default: 1500, description: 'New calls are rejected while any leg lags real time by more than this' }),
        retryAfterS: Type.Integer({ minimum: 1, maximum: 3600, default: 30, description: 'Retry-After sent with rejected calls' }),
      },
      'Call admission control',
    ),
    asr: Section(
      {
        enabled: Type.Boolean({ default: true, description: 'Transcribe every call leg with the streaming recognizer' }),
        decoding: Type.Union([Type.Literal('greedy'), Type.Literal('beam')], { default: 'greedy', description: 'Search method (beam is used anyway where hotwords are set)' }),
        hotwords: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { default: [], maxItems: 500, description: 'Phrases boosted on every call (product names)' }),
        keywords: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { default: [], maxItems: 500, description: 'Phrases that raise asr.keyword events (compliance and risk phrases)' }),
        endpoint: Section(
          {
            silenceNoSpeechMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 2400, description: 'Trailing silence that ends an utterance with no speech' }),
            silenceAfterSpeechMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 1200, description: 'Trailing silence that ends an utterance after speech' }),
            maxUtteranceMs: Type.Integer({ minimum: 1000, maximum: 120_000, default: 20_000, description: 'Longest utterance before it is cut' }),
          },
          'Endpointing rules',
        ),
      },
      'Speech recognition',
    ),
    inference: Section(
      {
        providers: Type.Array(Type.Union([Type.Literal('cuda'), Type.Literal('tensorrt'), Type.Literal('cpu')]), {
          minItems: 1,
          default: ['cpu'],
          description: 'onnxruntime execution providers to try, in order (e.g. [cuda, cpu])',
        }),
        intraOpThreads: Type.Integer({ minimum: 1, maximum: 64, default: 1, description: 'Threads inside one inference operator' }),
        interOpThreads: Type.Integer({ minimum: 1, maximum: 64, default: 1, description: 'Threads across operators' }),
      },
      'Local inference',
    ),
    // console, agents, upstream: the provisioning and operations console (issue 7)
    console: Section(
      {
        enabled: Type.Boolean({ default: true, description: 'Serve the web console and require a login for /api/v1/*' }),
        httpsHost: Type.String({ default: '', description: 'Address the HTTPS console listens on (empty = http.host)' }),
        httpsPort: Type.Integer({ minimum: -1, maximum: 65535, default: 8443, description: 'HTTPS port of the console and API (0 = any free port, -1 = no HTTPS)' }),
        sessionTtlMs: Type.Integer({ minimum: 60_000, maximum: 30 * 86_400_000, default: 8 * 3_600_000, description: 'Console sessions expire after this long without use' }),
        lockoutThreshold: Type.Integer({ minimum: 1, maximum: 100, default: 5, description: 'Bad passwords in a row that lock an account' }),
        lockoutMs: Type.Integer({ minimum: 1000, maximum: 86_400_000, default: 15 * 60_000, description: 'How long a locked account stays locked' }),
        loginRatePerMin: Type.Integer({ minimum: 1, maximum: 10_000, default: 20, description: 'Login attempts per minute per client address' }),
      },
      'Web console: sessions, login protection, HTTPS',
    ),
    agents: Section(
      {
        skillGroups: Type.Array(
          Type.Object({ id: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }), name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
          { default: [], maxItems: 500, description: 'Skill groups calls can be routed to' },
        ),
        agents: Type.Array(
          Type.Object(
            {
              id: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }),
              name: Type.String({ minLength: 1, maxLength: 200 }),
              skills: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
            },
            { additionalProperties: false },
          ),
          { default: [], maxItems: 5000, description: 'Agents and the skill groups they serve' },
        ),
      },
      'Agents and skill groups',
    ),
    upstream: Section(
      {
        endpoint: Type.String({ default: '', pattern: '^(https://\\S+)?$', description: 'Central sync endpoint (https URL; empty = no upstream sync)' }),
        enrollmentKey: Type.String({ default: '', maxLength: 500, description: 'Enrollment key issued by the central service (secret)' }),
      },
      'Upstream sync',
    ),
  },
  { additionalProperties: false },
);

export type EdgeVoxConfig = Static<typeof ConfigSchema>;

/** A leaf of the schema with its dotted path; used for env-var mapping and the reference docs. */
export interface ConfigLeaf {
  readonly path: string[];
  readonly schema: TSchema;
}

export function configLeaves(schema: TSchema = ConfigSchema, prefix: string[] = []): ConfigLeaf[] {
  const props = (schema as { properties?: Record<string, TSchema> }).properties;
  if (schema.type === 'object' && props !== undefined) {
    return Object.entries(props).flatMap(([key, child]) => configLeaves(child, [...prefix, key]));
  }
  return [{ path: prefix, schema }];
}

/** `http.port` → `EDGEVOX_HTTP_PORT`, `shutdown.graceMs` → `EDGEVOX_SHUTDOWN_GRACE_MS`. */
export function envNameFor(path: readonly string[]): string {
  return 'EDGEVOX_' + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2')).join('_').toUpperCase();
}
