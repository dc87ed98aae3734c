/**
 * The one typed configuration schema of the appliance, with its defaults.
 *
 * Every key is documented here or in a section file it imports (contactCentreSchema.ts: routing,
 * acd, agents; chatSchema.ts; emailSchema.ts; privacySchema.ts); the README's configuration reference is generated from these descriptions by
 * `edgevox config-reference`. Objects reject unknown keys so a typo in a site's
 * config file is an error at start, not a silently ignored setting.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

import { AcdSection, AgentsSection, RoutingSection } from './contactCentreSchema.js';
import { ChatSection } from './chatSchema.js';
import { EmailSection } from './emailSchema.js';
import { PrivacySection } from './privacySchema.js';
import { LanguageChoiceSchema, Port, Section } from './schemaParts.js';

/** One SIP trunk (sip.trunks): where it is, how it is watched, and its registration if the provider needs one. */
const SipTrunk = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 64,
      pattern: '^[A-Za-z0-9._-]+$',
      description: 'Label of the trunk in logs, metrics and the console (letters, digits, . _ -); unique',
    }),
    host: Type.String({ minLength: 1, maxLength: 253, description: 'Host name or address of the trunk (provider SBC or PBX)' }),
    port: Port(0, 'Port of the trunk (0 = 5060, or 5061 for tls)'),
    transport: Type.Union([Type.Literal('udp'), Type.Literal('tcp'), Type.Literal('tls')], {
      default: 'udp',
      description: 'SIP transport to the trunk (must be one of sip.transports)',
    }),
    keepaliveSec: Type.Integer({
      minimum: 0,
      maximum: 3600,
      default: 30,
      description: 'Seconds between OPTIONS keep-alives (0 = off; at least 5 when on)',
    }),
    srtp: Type.Union([Type.Literal('off'), Type.Literal('optional'), Type.Literal('required')], {
      default: 'optional',
      description: 'SRTP on calls with this trunk',
    }),
    tlsVerifyClient: Type.Boolean({ default: false, description: 'TLS: require and check a client certificate from this trunk' }),
    tlsCaFile: Type.String({
      default: '',
      description: "TLS: PEM file of CAs this trunk's certificate is checked against (empty = system CAs)",
    }),
    language: Type.Optional(
      LanguageChoiceSchema({
        description:
          'Speech language of calls from this trunk (en, zh, auto); a dialled number (sip.dids) or its queue wins; absent = asr.language',
      }),
    ),
    register: Type.Optional(
      Type.Object(
        {
          username: Type.String({ minLength: 1, maxLength: 256, description: 'Registrar user name (secret: never logged)' }),
          password: Type.String({ minLength: 1, maxLength: 256, description: 'Registrar password (secret)' }),
          domain: Type.String({ default: '', maxLength: 253, description: 'Domain of the registered address (empty = host)' }),
          expiresSec: Type.Integer({ minimum: 60, maximum: 86_400, default: 600, description: 'Registration expiry asked for' }),
        },
        { additionalProperties: false, description: 'Register with the provider (digest authentication); absent = no registration' },
      ),
    ),
    outbound: Type.Optional(
      Type.Object(
        {
          enabled: Type.Boolean({
            default: false,
            description: 'Calls out through this trunk (only through the trunk dialer); the host must then be an IPv4 address',
          }),
          username: Type.String({
            default: '',
            maxLength: 256,
            description: "Digest user name for the provider's challenge to INVITE (secret: never logged; empty = register.username)",
          }),
          password: Type.String({ default: '', maxLength: 256, description: 'Digest password (secret; empty = register.password)' }),
          callerId: Type.String({
            default: '',
            pattern: '^(\\+?[0-9]{3,20})?$',
            description: "Our number, the user part of the From of calls out (e.g. '+4930999000'); required when enabled",
          }),
          callerName: Type.String({ default: '', maxLength: 64, description: 'Display name of the From of calls out (empty = none)' }),
          assertIdentity: Type.Boolean({
            default: false,
            description: 'Also send P-Asserted-Identity with the caller id (RFC 3325; for trunks that trust the box)',
          }),
          allow: Type.Array(Type.String({ pattern: '^\\+?[0-9X]{1,20}$' }), {
            default: [],
            maxItems: 1000,
            description:
              "Numbers that may be dialled: a prefix ('+4930'), or with X for any one digit a whole number ('+44XXXXXXXXXX'); empty = none",
          }),
          maxPerHour: Type.Integer({
            minimum: 1,
            maximum: 100_000,
            default: 30,
            description: 'Calls out per trunk in any 60 minutes (attempts, refused ones not counted)',
          }),
          maxConcurrent: Type.Integer({
            minimum: 1,
            maximum: 1000,
            default: 4,
            description: 'Calls out through this trunk at once (ringing or answered)',
          }),
        },
        { additionalProperties: false, description: 'Calls out through this trunk, with toll-fraud limits; absent = none' },
      ),
    ),
  },
  { additionalProperties: false },
);

/** A dialled number (sip.dids) and the speech language of the calls to it. */
const Did = Type.Object(
  {
    number: Type.String({
      pattern: '^\\+?[0-9]{2,20}$',
      description: "The number as the To of inbound calls carries it, digits with an optional + (e.g. '+4930999000'); unique",
    }),
    language: Type.Optional(
      LanguageChoiceSchema({ description: 'Speech language of calls to this number; absent = the trunk’s or asr.language' }),
    ),
    queue: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$',
        description:
          "The skill group (queue) this number serves: that group's language, when it has one, wins over the number's (only the language; routing is unchanged)",
      }),
    ),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    site: Section(
      {
        id: Type.String({
          default: 'unprovisioned',
          pattern: '^[a-z0-9][a-z0-9-]{0,62}$',
          description: 'Site identifier (lower-case, digits, dashes); used in upstream aggregates',
        }),
        name: Type.String({ default: 'EdgeVox appliance', maxLength: 200, description: 'Human-readable branch name' }),
      },
      'Site identity',
    ),
    dataDir: Type.String({
      default: 'var',
      minLength: 1,
      description: 'Directory for the SQLite store, installed models and runtime files',
    }),
    modelsDir: Type.String({
      default: '../shared/models',
      minLength: 1,
      description: 'Directory models are installed from (verified against models/manifest.json)',
    }),
    http: Section(
      {
        host: Type.String({ default: '127.0.0.1', minLength: 1, description: 'Address the console and API listen on' }),
        port: Port(8080, 'Port of the console and API (0 = any free port)'),
        trustedProxies: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          maxItems: 64,
          description:
            'Reverse proxies (IPs/CIDRs) in front of the console, API and web chat whose X-Forwarded-For and X-Forwarded-Proto the box believes: the client address then counts for sign-in lockout, chat limits and the audit trail, and https for cookies (empty = none: the connecting address is the client, and those headers are ignored)',
        }),
      },
      'HTTP console and API',
    ),
    log: Section(
      {
        level: Type.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
          { default: 'info', description: 'Log level' },
        ),
        includePii: Type.Boolean({
          default: false,
          description: 'Log PII-marked fields (transcripts, numbers); honoured only at debug or trace level',
        }),
      },
      'Logging',
    ),
    shutdown: Section(
      {
        graceMs: Type.Integer({
          minimum: 0,
          maximum: 600_000,
          default: 10_000,
          description: 'How long a SIGTERM waits for active calls to finish before closing them',
        }),
      },
      'Shutdown',
    ),
    cluster: Section(
      {
        frontRpcUrl: Type.String({
          default: '',
          pattern: '^(https?://\\S+)?$',
          description:
            "JSON-RPC URL of the site's Kamailio front (http://<front>:<port>/RPC, docs/cluster.md) the console's cluster view reads; empty: the box stands alone",
        }),
        boxName: Type.String({
          default: '',
          pattern: '^[A-Za-z0-9._-]{0,64}$',
          description: "This box's name at the front (the name= attribute of its dispatcher entry); names its callbacks held by the peer",
        }),
        peerUrl: Type.String({
          default: '',
          pattern: '^(https?://\\S+)?$',
          description:
            "Base URL of the partner box's API (https://<peer>:<port>): this box's pending callbacks are mirrored to it and it holds the peer's; empty: no hand-over",
        }),
        peerToken: Type.String({
          default: '',
          description: 'Box-to-box token shared by the pair (at least 24 characters); the peer route denies everything while it is shorter',
        }),
        adoptPollS: Type.Integer({
          default: 5,
          minimum: 1,
          maximum: 300,
          description: "How often the box reads the front's state to adopt the callbacks of a partner that died",
        }),
      },
      'Several boxes behind a SIP front',
    ),
    sip: Section(
      {
        enabled: Type.Boolean({ default: true, description: 'Terminate SIP trunks / PBX legs' }),
        host: Type.String({ default: '127.0.0.1', minLength: 1, description: 'Address SIP listens on (UDP and TCP)' }),
        port: Port(5060, 'SIP port (0 = any free port)'),
        transports: Type.Array(Type.Union([Type.Literal('udp'), Type.Literal('tcp'), Type.Literal('tls')]), {
          minItems: 1,
          default: ['udp', 'tcp'],
          description: 'SIP transports (tls listens on sip.tlsPort)',
        }),
        tlsPort: Port(5061, 'SIP over TLS port (0 = any free port)'),
        tlsCertFile: Type.String({
          default: '',
          description: "PEM certificate chain for SIP over TLS (empty = the console's certificate store); re-read when it changes",
        }),
        tlsKeyFile: Type.String({ default: '', description: 'PEM private key for sip.tlsCertFile' }),
        rtpHost: Type.String({ default: '', description: 'Address RTP binds to and SDP announces (empty = sip.host)' }),
        rtpPortMin: Type.Integer({ minimum: 1024, maximum: 65534, default: 20000, description: 'First RTP port (even)' }),
        rtpPortMax: Type.Integer({ minimum: 1025, maximum: 65535, default: 20999, description: 'Last RTP port' }),
        realm: Type.String({ default: 'edgevox', minLength: 1, description: 'Digest authentication realm' }),
        accounts: Type.Array(
          Type.Object(
            { username: Type.String({ minLength: 1 }), password: Type.String({ minLength: 1 }) },
            { additionalProperties: false },
          ),
          { default: [], description: 'Digest accounts trunks must authenticate with (empty = no authentication)' },
        ),
        allowList: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description: 'Source IPs/CIDRs allowed to send SIP (empty = any)',
        }),
        transferTargets: Type.Array(Type.String({ minLength: 1, maxLength: 253 }), {
          default: ['127.0.0.0/8', '::1/128'],
          description:
            'Where callers may be sent (agent SIP URIs, REFER targets): IPs/CIDRs and exact host names; sip.allowList entries count too',
        }),
        rateLimitPerSec: Type.Number({
          minimum: 0,
          default: 50,
          description: 'SIP requests per second per source address (0 = unlimited)',
        }),
        rateLimitBurst: Type.Integer({ minimum: 1, default: 100, description: 'Burst allowance of the per-source rate limit' }),
        tcpMaxConnections: Type.Integer({
          minimum: 1,
          maximum: 100_000,
          default: 1024,
          description: 'SIP TCP connections held at once; at the cap the longest-idle one is closed to make room',
        }),
        tcpMaxConnectionsPerSource: Type.Integer({
          minimum: 1,
          maximum: 100_000,
          default: 32,
          description: 'SIP TCP connections one source address may hold',
        }),
        tcpIdleTimeoutMs: Type.Integer({
          minimum: 1000,
          maximum: 86_400_000,
          default: 600_000,
          description: 'Close a SIP TCP connection after this long without traffic (CRLF keep-alives count)',
        }),
        sessionExpiresSec: Type.Integer({ minimum: 90, default: 1800, description: 'RFC 4028 session interval' }),
        rtpTimeoutMs: Type.Integer({ minimum: 0, default: 30_000, description: 'End a call after this long without RTP (0 = never)' }),
        dropUserAgents: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
          default: ['friendly-scanner', 'sipvicious', 'sipcli', 'sip-scan', 'iwar', 'sundayddr', 'vaxsipuseragent', 'pplsip', 'smap'],
          maxItems: 256,
          description: 'Drop SIP requests, unanswered, whose User-Agent contains one of these (case-insensitive; [] = answer everyone)',
        }),
        srtp: Type.Union([Type.Literal('off'), Type.Literal('optional'), Type.Literal('required')], {
          default: 'optional',
          description:
            'Media encryption (SDES SRTP) for calls from peers that are not configured trunks: off, optional (when the peer offers it) or required (plain RTP offers get 488)',
        }),
        idleMedia: Type.Union([Type.Literal('silence'), Type.Literal('comfort-noise'), Type.Literal('off')], {
          default: 'silence',
          description:
            'What the box sends a caller while it only listens: silence frames, RFC 3389 comfort noise (when offered; silence otherwise) or nothing (peers with a no-media timeout then hang up)',
        }),
        agentAorPattern: Type.String({
          default: '',
          description: 'SIPREC: participants whose address matches this regular expression are labelled agent',
        }),
        dids: Type.Array(Did, {
          default: [],
          maxItems: 1000,
          description:
            "Dialled numbers (DIDs) with their own speech language, matched against the user part of an inbound call's To; numbers unique",
        }),
        trunks: Type.Array(SipTrunk, {
          default: [],
          maxItems: 100,
          description:
            'SIP trunks the box watches (OPTIONS keep-alive: up/down) and registers with where the provider requires it; names unique. trunks given by address join sip.allowList (calls from them use their srtp policy); a host name must be added to sip.allowList by address',
        }),
        registrar: Section(
          {
            enabled: Type.Boolean({
              default: true,
              description:
                "Answer REGISTER from agents' phones; the accounts are the agents' SIP accounts in the routing configuration (off: REGISTER gets 405)",
            }),
            realm: Type.String({ default: '', maxLength: 128, description: "Digest realm of agents' phones (empty = sip.realm)" }),
            algorithms: Type.Array(Type.Union([Type.Literal('SHA-256'), Type.Literal('MD5')]), {
              default: ['SHA-256', 'MD5'],
              minItems: 1,
              maxItems: 2,
              description: "Digest algorithms challenged with, preferred first (['MD5'] for phones that give up on any other)",
            }),
            minExpiresSec: Type.Integer({
              minimum: 10,
              maximum: 86_400,
              default: 60,
              description: 'Shortest registration granted; shorter ones get 423 with Min-Expires',
            }),
            defaultExpiresSec: Type.Integer({
              minimum: 10,
              maximum: 86_400,
              default: 3600,
              description: 'Registration length when the phone asks for none (kept within min and max)',
            }),
            maxExpiresSec: Type.Integer({
              minimum: 10,
              maximum: 86_400,
              default: 3600,
              description: 'Longest registration granted; longer ones are cut to it',
            }),
            maxContactsPerAgent: Type.Integer({
              minimum: 1,
              maximum: 20,
              default: 5,
              description: 'Phones one agent may have registered at once; beyond, the one expiring first is dropped',
            }),
            maxAuthFailures: Type.Integer({
              minimum: 1,
              maximum: 100,
              default: 5,
              description: 'Wrong passwords from one address within a minute that block it (403 for 60 s, doubling up to 15 min)',
            }),
          },
          "Registrar of agents' phones and softphones",
        ),
      },
      'SIP and RTP media termination',
    ),
    // WebRTC media plane: mediasoup workers, web callers and browser agents
    webrtc: Section(
      {
        enabled: Type.Boolean({
          default: true,
          description: 'Serve web callers and browser agents through the mediasoup media plane (needs the built worker)',
        }),
        listenIp: Type.String({
          default: '127.0.0.1',
          minLength: 1,
          description: 'Address WebRTC media (ICE/DTLS/SRTP over UDP) listens on',
        }),
        announcedAddress: Type.String({
          default: '',
          description: 'Address or host name announced in ICE candidates (empty = listenIp; required when listenIp is 0.0.0.0)',
        }),
        rtcPortMin: Type.Integer({ minimum: 1024, maximum: 65535, default: 40000, description: 'First UDP port of WebRTC media' }),
        rtcPortMax: Type.Integer({ minimum: 1024, maximum: 65535, default: 40999, description: 'Last UDP port of WebRTC media' }),
        workers: Type.Integer({ minimum: 0, maximum: 256, default: 0, description: 'mediasoup worker processes (0 = one per CPU core)' }),
        callerTokenSecretFile: Type.String({
          default: 'webrtc-token-secret',
          minLength: 1,
          description: 'File (relative to dataDir) holding the secret that signs caller and agent tokens; created on first start',
        }),
        callerTokenTtlMs: Type.Integer({
          minimum: 10_000,
          maximum: 3_600_000,
          default: 300_000,
          description: 'How long a web caller may take to join after the "call us" page asked for a session',
        }),
        publicCallerPage: Type.Boolean({
          default: true,
          description: 'Serve the "call us" page and let anyone request a caller session (admission control still applies)',
        }),
      },
      'WebRTC media plane: web callers, browser agents, supervisor listen-in',
    ),
    // Web chat on the "call us" page (conversations/): who may open the chat socket, limits, redaction, files
    chat: ChatSection,
    // E-mail intake (conversations/emailIntake.ts): the SMTP listener, accepted addresses, the reply relay
    email: EmailSection,
    calls: Section(
      {
        maxConcurrent: Type.Integer({
          minimum: 1,
          maximum: 10_000,
          default: 120,
          description: 'Concurrent calls admitted; beyond this new calls get 503 + Retry-After',
        }),
        maxLagMs: Type.Integer({
          minimum: 50,
          maximum: 60_000,
          default: 1500,
          description: 'New calls are rejected while any leg lags real time by more than this',
        }),
        retryAfterS: Type.Integer({ minimum: 1, maximum: 3600, default: 30, description: 'Retry-After sent with rejected calls' }),
      },
      'Call admission control',
    ),
    asr: Section(
      {
        enabled: Type.Boolean({ default: true, description: 'Transcribe every call leg with the streaming recognizer' }),
        language: LanguageChoiceSchema({
          default: 'en',
          description:
            "Speech language of calls by default: en, zh, or auto (decided from the first seconds of speech). Each call takes the first set of: its queue (a sip.dids entry's queue), its dialled number (sip.dids), its trunk (sip.trunks), this; fixed when the call starts",
        }),
        decoding: Type.Union([Type.Literal('greedy'), Type.Literal('beam')], {
          default: 'greedy',
          description: 'Search method (beam is used anyway where hotwords are set)',
        }),
        workers: Type.Optional(
          Type.Integer({
            minimum: 0,
            maximum: 64,
            description: 'Recognition worker threads (unset = one per core; 0 = recognize on the main thread)',
          }),
        ),
        workerHangTimeoutMs: Type.Integer({
          minimum: 1000,
          maximum: 300_000,
          default: 10_000,
          description:
            'A recognition worker that answers nothing for this long (it reports every 100 ms) is taken for hung and replaced; its calls lose a moment of transcript and go on',
        }),
        workerLoadTimeoutMs: Type.Integer({
          minimum: 1000,
          maximum: 900_000,
          default: 120_000,
          description:
            'A recognition worker that has not loaded its models this long after it started (stuck storage, a GPU driver that does not answer) is taken for hung: at start-up speech recognition fails with an error, later another worker is started',
        }),
        encoder: Type.Union([Type.Literal('batched'), Type.Literal('exact')], {
          default: 'batched',
          description:
            "batched = the batchable encoder made from the installed model (models/asr-batch): the calls' chunks that are ready together run in one inference run, which absorbs bursts of speech onsets (make bench: more real-time calls than exact on the CPU, same WER); exact = the model's own batch-1 int8 encoder, the reference whose transcripts equal sherpa-onnx's (also used when the batchable one is not installed)",
        }),
        maxBatch: Type.Integer({
          minimum: 1,
          maximum: 512,
          default: 32,
          description: 'Most call legs per encoder run on the CPU (batched encoder; GPU providers use inference.gpuMaxBatch)',
        }),
        batchWindowMs: Type.Integer({
          minimum: 0,
          maximum: 50,
          default: 4,
          description:
            "Longest a ready chunk waits for other legs to join its encoder run (batched encoder); it waits only while other legs' chunks are due within the window at the rate of the last second, so a few calls are never held",
        }),
        batchBudgetMs: Type.Integer({
          minimum: 1,
          maximum: 1000,
          default: 40,
          description:
            'Longest one batched encoder run should take: a batch holds no more legs than the measured cost per leg lets run in this time (at least one), so a large batch cannot hold its calls past their latency target (batched encoder)',
        }),
        hotwords: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
          default: [],
          maxItems: 500,
          description: 'Phrases boosted on every call (product names)',
        }),
        keywords: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
          default: [],
          maxItems: 500,
          description: 'Phrases that raise asr.keyword events (compliance and risk phrases)',
        }),
        endpoint: Section(
          {
            silenceNoSpeechMs: Type.Integer({
              minimum: 100,
              maximum: 60_000,
              default: 2400,
              description: 'Trailing silence that ends an utterance with no speech',
            }),
            silenceAfterSpeechMs: Type.Integer({
              minimum: 100,
              maximum: 60_000,
              default: 1200,
              description: 'Trailing silence that ends an utterance after speech',
            }),
            maxUtteranceMs: Type.Integer({
              minimum: 1000,
              maximum: 120_000,
              default: 20_000,
              description: 'Longest utterance before it is cut',
            }),
          },
          'Endpointing rules',
        ),
      },
      'Speech recognition',
    ),
    inference: Section(
      {
        providers: Type.Array(Type.Union([Type.Literal('cuda'), Type.Literal('tensorrt'), Type.Literal('webgpu'), Type.Literal('cpu')]), {
          minItems: 1,
          default: ['cpu'],
          description:
            'onnxruntime execution providers to try, in order, falling back to the next when one cannot start (e.g. [webgpu, cpu]): ' +
            "webgpu = the WebGPU provider bundled with onnxruntime-node, over Vulkan on Linux (needs Debian's Vulkan loader libvulkan1 and a GPU driver); " +
            "cuda, tensorrt = only where a site has installed onnxruntime's CUDA provider libraries; cpu always works",
        }),
        gpuMaxBatch: Type.Integer({
          minimum: 1,
          maximum: 512,
          default: 64,
          description: 'Largest number of streams per encoder call when the encoder runs on a GPU provider',
        }),
        intraOpThreads: Type.Integer({ minimum: 1, maximum: 64, default: 1, description: 'Threads inside one inference operator' }),
        interOpThreads: Type.Integer({ minimum: 1, maximum: 64, default: 1, description: 'Threads across operators' }),
      },
      'Local inference',
    ),
    routing: RoutingSection,
    acd: AcdSection,
    // console, agents, upstream: the provisioning and operations console
    console: Section(
      {
        enabled: Type.Boolean({ default: true, description: 'Serve the web console and require a login for /api/v1/*' }),
        httpsHost: Type.String({ default: '', description: 'Address the HTTPS console listens on (empty = http.host)' }),
        httpsPort: Type.Integer({
          minimum: -1,
          maximum: 65535,
          default: 8443,
          description: 'HTTPS port of the console and API (0 = any free port, -1 = no HTTPS)',
        }),
        sessionTtlMs: Type.Integer({
          minimum: 60_000,
          maximum: 30 * 86_400_000,
          default: 8 * 3_600_000,
          description: 'Console sessions expire after this long without use',
        }),
        lockoutThreshold: Type.Integer({
          minimum: 1,
          maximum: 100,
          default: 5,
          description: 'Bad passwords in a row for one username from one client address that lock that username from that address',
        }),
        lockoutMs: Type.Integer({
          minimum: 1000,
          maximum: 86_400_000,
          default: 15 * 60_000,
          description: 'How long a locked username stays locked from that address',
        }),
        loginRatePerMin: Type.Integer({
          minimum: 1,
          maximum: 10_000,
          default: 20,
          description: 'Login attempts per minute per client address',
        }),
        loginBackoffAfter: Type.Integer({
          minimum: 1,
          maximum: 1000,
          default: 10,
          description:
            'Failed logins from one client address (any usernames) after which each further attempt waits twice as long as the last (1 s, 2 s, 4 s ...)',
        }),
      },
      'Web console: sessions, login protection, HTTPS',
    ),
    // The agents themselves, their skill groups and SIP accounts are the routing configuration (/api/v1/routing).
    agents: AgentsSection,
    upstream: Section(
      {
        endpoint: Type.String({
          default: '',
          pattern: '^(https://\\S+)?$',
          description: 'Central sync endpoint (https URL; empty = no upstream sync)',
        }),
        enrollmentKey: Type.String({ default: '', maxLength: 500, description: 'Enrollment key issued by the central service (secret)' }),
      },
      'Upstream sync',
    ),
    // privacy, QA, aggregates sync
    privacy: PrivacySection,
    qa: Section(
      {
        enabled: Type.Boolean({ default: true, description: 'Score every call with the QA rules when it ends' }),
        passScore: Type.Number({ minimum: 0, maximum: 100, default: 80, description: 'A call passes QA at this score (0-100) or above' }),
      },
      'Call quality assurance',
    ),
    sync: Section(
      {
        enabled: Type.Boolean({ default: false, description: 'Build hourly anonymised aggregates and upload them to upstream.endpoint' }),
        windowMs: Type.Integer({
          minimum: 60_000,
          maximum: 86_400_000,
          default: 3_600_000,
          description: 'Aggregation window (an hour by default)',
        }),
        settleMs: Type.Integer({
          minimum: 0,
          maximum: 86_400_000,
          default: 300_000,
          description: 'A window is closed this long after its end (calls ending late are counted)',
        }),
        intervalMs: Type.Integer({
          minimum: 100,
          maximum: 3_600_000,
          default: 60_000,
          description: 'How often windows are closed and the outbox is drained',
        }),
        kAnonymity: Type.Integer({
          minimum: 1,
          maximum: 1000,
          default: 5,
          description: 'Cells built from fewer calls than this are suppressed',
        }),
        epsilon: Type.Number({
          minimum: 0,
          maximum: 100,
          default: 0,
          description:
            'Differential privacy per published count: two-sided geometric noise with P(x) ∝ exp(-epsilon·|x|) (0 = no noise, k-anonymity only)',
        }),
        epsilonBudget: Type.Number({
          minimum: 0,
          maximum: 1_000_000,
          default: 10,
          description:
            'Privacy budget: the epsilon all windows of the last epsilonBudgetDays may spend together (a window spends epsilon x the counts one call can change); a window past it is withheld, not sent (only with epsilon > 0)',
        }),
        epsilonBudgetDays: Type.Integer({
          minimum: 1,
          maximum: 3660,
          default: 30,
          description: 'The rolling period of sync.epsilonBudget, in days',
        }),
        signing: Type.Union([Type.Literal('hmac'), Type.Literal('ed25519')], {
          default: 'hmac',
          description: 'Payload signature: HMAC-SHA256 from upstream.enrollmentKey, or the site Ed25519 key',
        }),
        caFile: Type.String({ default: '', description: 'PEM file of extra CAs to trust for the upstream endpoint (private PKI)' }),
        outboxMaxWindows: Type.Integer({
          minimum: 1,
          maximum: 100_000,
          default: 24 * 60,
          description: 'Windows kept while upstream is unreachable; beyond this the oldest are dropped (counted)',
        }),
        backoffBaseMs: Type.Integer({
          minimum: 10,
          maximum: 600_000,
          default: 1000,
          description: 'First retry delay after a failed upload (doubles, with jitter)',
        }),
        backoffMaxMs: Type.Integer({ minimum: 10, maximum: 86_400_000, default: 15 * 60_000, description: 'Longest retry delay' }),
        requestTimeoutMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 15_000, description: 'Upload request timeout' }),
      },
      'Anonymised aggregates upstream',
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

/**
 * Keys that are gone, with where their job went. Met in a file or a stored console version they are
 * dropped, not refused, so an older configuration still loads.
 */
export const RETIRED_KEYS: readonly { readonly path: readonly string[]; readonly movedTo: string }[] = [
  { path: ['agents', 'skillGroups'], movedTo: 'the routing configuration (/api/v1/routing/groups)' },
  { path: ['agents', 'agents'], movedTo: 'the routing configuration (/api/v1/routing/agents)' },
];

export function configLeaves(schema: TSchema = ConfigSchema, prefix: string[] = []): ConfigLeaf[] {
  const props = (schema as { properties?: Record<string, TSchema> }).properties;
  if (schema.type === 'object' && props !== undefined) {
    return Object.entries(props).flatMap(([key, child]) => configLeaves(child, [...prefix, key]));
  }
  return [{ path: prefix, schema }];
}

/** `http.port` → `EDGEVOX_HTTP_PORT`, `shutdown.graceMs` → `EDGEVOX_SHUTDOWN_GRACE_MS`. */
export function envNameFor(path: readonly string[]): string {
  return (
    'EDGEVOX_' +
    path
      .map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2'))
      .join('_')
      .toUpperCase()
  );
}
