/**
 * The contact-centre sections of the configuration schema (schema.ts holds the whole): routing
 * (analysis, skill-based routing, profiles, alerts, the decision webhook), acd (mode, queues, KPIs,
 * prompts, callbacks) and agents (wrap-up, missed calls, disposition codes).
 */
import { Type } from '@sinclair/typebox';
import { Section } from './schemaParts.js';

export const RoutingSection = Section(
  {
    enabled: Type.Boolean({
      default: true,
      description: 'Intent and emotion analysis of caller utterances, routing decisions, caller profiles and alerts',
    }),
    transfer: Type.Boolean({ default: true, description: "Transfer a routed SIP call to the chosen agent's SIP URI with REFER" }),
    webhook: Section(
      {
        url: Type.String({
          default: '',
          maxLength: 2000,
          pattern: '^(https?://[^\\s/?#@]+([/?][^\\s#]*)?)?$',
          description:
            'POST every routing decision as signed JSON to this http(s) URL, for a PBX/CTI integration (empty = off; no user:password@; docs/routing-webhook.md)',
        }),
        secret: Type.String({
          default: '',
          maxLength: 500,
          description:
            'HMAC-SHA256 key that signs each webhook request (X-EdgeVox-Signature); at least 16 characters, required with routing.webhook.url (secret)',
        }),
        timeoutMs: Type.Integer({
          minimum: 100,
          maximum: 60_000,
          default: 2000,
          description: 'Each webhook request is aborted after this long (and retried)',
        }),
        maxAttempts: Type.Integer({
          minimum: 1,
          maximum: 10,
          default: 3,
          description: 'Attempts per decision; network errors, timeouts, 5xx and 429 are retried with backoff, other answers never',
        }),
        maxPending: Type.Integer({
          minimum: 1,
          maximum: 100_000,
          default: 1000,
          description: 'Decisions waiting to be sent (a slow or absent receiver); beyond this the oldest are dropped (counted)',
        }),
      },
      'Routing decisions POSTed to a PBX/CTI integration (both acd.mode values)',
    ),
    intentSpeakers: Type.Array(Type.String({ minLength: 1, maxLength: 32 }), {
      default: ['caller'],
      description: 'Speakers (leg labels) whose utterances get an intent',
    }),
    emotionSpeakers: Type.Array(Type.String({ minLength: 1, maxLength: 32 }), {
      default: ['caller', 'agent'],
      description: "Speakers (leg labels) whose utterances get an emotion (routing waits only for the caller's)",
    }),
    minEmotionAudioMs: Type.Integer({
      minimum: 300,
      maximum: 60_000,
      default: 500,
      description: 'Utterances shorter than this get no emotion',
    }),
    maxEmotionAudioMs: Type.Integer({
      minimum: 1000,
      maximum: 60_000,
      default: 4000,
      description:
        'Emotion is judged on the last this-many ms of an utterance (the model was trained on clips of about 3-4 s; bounds its cost)',
    }),
    emotionWaitMs: Type.Integer({
      minimum: 0,
      maximum: 5000,
      default: 250,
      description: "How long routing waits for an utterance's emotion once its intent is known",
    }),
    maxUtterancesBeforeDefault: Type.Integer({
      minimum: 1,
      maximum: 20,
      default: 2,
      description: 'Caller utterances without an in-scope intent before the call goes to the default group',
    }),
    profiles: Section(
      {
        windowDays: Type.Integer({ minimum: 1, maximum: 365, default: 30, description: 'Contact-frequency window of caller profiles' }),
        frequentCallerCalls: Type.Integer({
          minimum: 2,
          maximum: 1000,
          default: 3,
          description: 'Calls in the window that make a frequent caller',
        }),
        repeatWindowDays: Type.Integer({
          minimum: 1,
          maximum: 90,
          default: 7,
          description: 'A call about the same intent within this many days counts as an unresolved repeat',
        }),
      },
      'Caller profiles (keyed by the salted caller hash)',
    ),
    alerts: Section(
      {
        queueCheckMs: Type.Integer({
          minimum: 100,
          maximum: 60_000,
          default: 1000,
          description: 'How often queue waits are checked against rules.queueAlertWaitMs',
        }),
        intentSpikeBucketMs: Type.Integer({
          minimum: 10_000,
          maximum: 86_400_000,
          default: 300_000,
          description: 'Width of the intent-rate buckets',
        }),
        intentSpikeBaselineBuckets: Type.Integer({
          minimum: 2,
          maximum: 2016,
          default: 12,
          description: 'Buckets averaged into an intent baseline',
        }),
        intentSpikeFactor: Type.Number({
          minimum: 1.1,
          maximum: 100,
          default: 3,
          description: 'An intent above this multiple of its baseline is a spike',
        }),
        intentSpikeMinCount: Type.Integer({
          minimum: 1,
          maximum: 100_000,
          default: 5,
          description: 'Fewest calls in a bucket for a spike',
        }),
        webhook: Section(
          {
            url: Type.String({
              default: '',
              maxLength: 2000,
              pattern: '^(https?://[^\\s/?#@]+([/?][^\\s#]*)?)?$',
              description:
                'POST each alert raised, acknowledged, assigned or resolved as signed JSON to this http(s) URL (empty = off; no user:password@; docs/alert-push.md)',
            }),
            secret: Type.String({
              default: '',
              maxLength: 500,
              description:
                'HMAC-SHA256 key that signs each alert webhook request (X-EdgeVox-Signature over timestamp.body); at least 16 characters, required with the URL (secret)',
            }),
            minSeverity: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')], {
              default: 'warning',
              description: 'Alerts below this severity are not pushed to the webhook',
            }),
            timeoutMs: Type.Integer({
              minimum: 100,
              maximum: 60_000,
              default: 5000,
              description: 'Each alert webhook request is aborted after this long (and retried)',
            }),
            maxAttempts: Type.Integer({
              minimum: 1,
              maximum: 20,
              default: 6,
              description:
                'Attempts per alert; connection errors, timeouts, 5xx and 429 are retried with exponential backoff and jitter, other answers (3xx, 4xx) never',
            }),
            maxPending: Type.Integer({
              minimum: 1,
              maximum: 100_000,
              default: 1000,
              description:
                'Alert deliveries waiting (sent one at a time, in order); beyond this the oldest are dropped (edgevox_alert_push_total{outcome="dropped"})',
            }),
          },
          'Alerts pushed to a webhook (alert kind, severity, state, ids, counts, site, times; nothing about callers)',
        ),
        email: Section(
          {
            host: Type.String({ default: '', maxLength: 253, description: 'SMTP server for alert e-mail (empty = off)' }),
            port: Type.Integer({
              minimum: 1,
              maximum: 65_535,
              default: 587,
              description: 'SMTP port (587 submission with STARTTLS, 465 implicit TLS)',
            }),
            secure: Type.Boolean({
              default: false,
              description: 'Implicit TLS from the first byte (port 465); otherwise STARTTLS when offered',
            }),
            requireTls: Type.Boolean({ default: true, description: 'Refuse to send unless the connection is upgraded with STARTTLS' }),
            rejectUnauthorized: Type.Boolean({
              default: true,
              description: "Check the SMTP server's TLS certificate (false only for a relay with a self-signed certificate)",
            }),
            user: Type.String({ default: '', maxLength: 200, description: 'SMTP user name (empty = no authentication)' }),
            password: Type.String({ default: '', maxLength: 500, description: 'SMTP password (secret)' }),
            from: Type.String({ default: '', maxLength: 320, description: 'Sender address of alert e-mail, e.g. edgevox@branch.example' }),
            to: Type.Array(Type.String({ minLength: 3, maxLength: 320, pattern: '^[^\\s@]+@[^\\s@]+$' }), {
              default: [],
              maxItems: 50,
              description: 'Recipients of alert e-mail',
            }),
            minSeverity: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')], {
              default: 'warning',
              description: 'New alerts at or above this severity are e-mailed (warning: critical and major ones)',
            }),
            timeoutMs: Type.Integer({
              minimum: 1000,
              maximum: 120_000,
              default: 10_000,
              description: 'Connection, greeting and socket timeout',
            }),
            maxAttempts: Type.Integer({
              minimum: 1,
              maximum: 20,
              default: 5,
              description: 'Attempts per e-mail; connection errors, timeouts and SMTP 4xx are retried, 5xx never',
            }),
            maxPending: Type.Integer({
              minimum: 1,
              maximum: 10_000,
              default: 200,
              description: 'E-mails waiting (sent one at a time, in order); beyond this the oldest are dropped (counted)',
            }),
          },
          'Alerts e-mailed through SMTP as plain text (nothing about callers)',
        ),
      },
      'Supervisor alerts',
    ),
  },
  'Intent/emotion analysis, skill-based routing, caller profiles and alerts',
);

/** Amber and red limits of one wallboard tile (its direction: whether higher values are better). */
const Limits = (amber: number, red: number, higherIsBetter: boolean, unit: string) =>
  Section(
    {
      amber: Type.Number({ minimum: 0, default: amber, description: `Amber from this value on (${unit})` }),
      red: Type.Number({ minimum: 0, default: red, description: `Red from this value on (${unit})` }),
      higherIsBetter: Type.Boolean({
        default: higherIsBetter,
        description: 'true: amber at or below `amber` and red at or below `red`; false: at or above',
      }),
    },
    `Wallboard colours of this tile (${unit})`,
  );

/** A skill group's own limits: any metric, any of its fields (the rest from acd.wallboard). */
const LimitsOverride = Type.Object(
  {
    amber: Type.Optional(Type.Number({ minimum: 0 })),
    red: Type.Optional(Type.Number({ minimum: 0 })),
    higherIsBetter: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const WALLBOARD_METRICS = ['waiting', 'longestWaitingS', 'averageSpeedOfAnswerS', 'abandonRate', 'averageHandleTimeS'] as const;

export const WallboardSection = Section(
  {
    waiting: Limits(3, 6, false, 'calls waiting'),
    longestWaitingS: Limits(30, 60, false, 'seconds'),
    averageSpeedOfAnswerS: Limits(20, 40, false, 'seconds'),
    abandonRate: Limits(0.05, 0.1, false, 'ratio 0..1 of answered + abandoned'),
    averageHandleTimeS: Limits(300, 480, false, 'seconds'),
    serviceLevelRed: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.6,
      description: "Service level tile: red at or below this ratio (0..1); amber at or below acd.serviceLevelTarget (or the group's own)",
    }),
    groups: Type.Record(
      Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' }),
      Type.Object(
        {
          waiting: Type.Optional(LimitsOverride),
          longestWaitingS: Type.Optional(LimitsOverride),
          averageSpeedOfAnswerS: Type.Optional(LimitsOverride),
          abandonRate: Type.Optional(LimitsOverride),
          averageHandleTimeS: Type.Optional(LimitsOverride),
          serviceLevelTarget: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
          serviceLevelRed: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
        },
        { additionalProperties: false },
      ),
      { default: {}, description: 'Per skill group id: limits that differ from the ones above (only the fields given)' },
    ),
  },
  'Wallboard tile colours (green / amber / red) overall and per skill group; the service level turns amber below acd.serviceLevelTarget',
);

export const AcdSection = Section(
  {
    mode: Type.Union([Type.Literal('pbx'), Type.Literal('acd')], {
      default: 'pbx',
      description:
        "How calls are handled: pbx = an existing PBX keeps the calls (SIPREC in or calls forked to the box), the box analyses them and suggests routing by REFER or webhook; acd = the box answers calls, greets, queues with music and announcements, rings the chosen agent's registered phone and bridges the call, staying in it to the end",
    }),
    ringTimeoutS: Type.Integer({
      minimum: 5,
      maximum: 120,
      default: 20,
      description:
        "ACD mode: how long the chosen agent's phones ring before the offer is withdrawn (the agent counts a no-answer; the caller waits again in its place)",
    }),
    routeTimeoutS: Type.Integer({
      minimum: 1,
      maximum: 300,
      default: 15,
      description:
        "ACD mode: after the greeting, how long the caller's words may take to route the call; then it goes to routing's default group",
    }),
    callbackOfferS: Type.Integer({
      minimum: 3,
      maximum: 60,
      default: 10,
      description:
        'ACD mode: after a callback offer ("press one to be called back") how long the caller has to press 1; then goodbye and hang-up',
    }),
    callbacks: Section(
      {
        trunk: Type.String({
          default: '',
          maxLength: 64,
          description: 'Trunk callbacks are dialled through (a sip.trunks name with outbound.enabled; empty = the first such trunk)',
        }),
        maxAttempts: Type.Integer({
          minimum: 1,
          maximum: 10,
          default: 3,
          description: 'Calls to the customer before an unanswered callback is closed as failed',
        }),
        retryS: Type.Integer({
          minimum: 10,
          maximum: 86_400,
          default: 300,
          description: 'Wait before calling an unanswered customer again (doubled for each further attempt, up to maxRetryS)',
        }),
        maxRetryS: Type.Integer({ minimum: 10, maximum: 86_400, default: 3600, description: 'Longest wait between two attempts' }),
        ringS: Type.Integer({ minimum: 5, maximum: 120, default: 30, description: "How long the customer's phone rings" }),
        maxQueued: Type.Integer({
          minimum: 1,
          maximum: 100,
          default: 5,
          description:
            'Callbacks of one group waiting for an agent at once (each holds a call slot while it waits; the rest wait in the store)',
        }),
      },
      'ACD mode: placing the callbacks callers asked for — agent first (ringing like a queued call, in the caller’s place), then the customer through the trunk',
    ),
    promptLanguage: Type.String({
      pattern: '^[a-z]{2,3}(-[a-z0-9]{2,8})?$',
      default: 'en',
      description: 'ACD mode: language of the greeting, queue announcements and hold music (a language the prompt store has)',
    }),
    serviceLevelS: Type.Integer({
      minimum: 1,
      maximum: 3600,
      default: 20,
      description: 'Service-level threshold T overall and for skill groups without their own (queue.serviceLevelS): answered within T s',
    }),
    serviceLevelTarget: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.8,
      description:
        'Target service-level ratio (0..1; 0.8 = 80 % of calls answered within T), exported as edgevox_acd_service_level_target_ratio for the Prometheus rules and dashboards',
    }),
    shortAbandonS: Type.Integer({
      minimum: 0,
      maximum: 600,
      default: 5,
      description: 'Callers who hang up within this wait are short abandons: left out of service level and abandon time',
    }),
    intervalMinutes: Type.Integer({
      minimum: 1,
      maximum: 60,
      default: 15,
      description: 'Length of the KPI intervals, aligned to the clock (must divide 60); the last 24 h of intervals are kept',
    }),
    timeZone: Type.String({
      default: '',
      maxLength: 64,
      description: "IANA time zone of the site's business hours and holidays, e.g. Europe/Berlin (empty = the system's zone)",
    }),
    publishS: Type.Integer({
      minimum: 0,
      maximum: 3600,
      default: 5,
      description: 'How often the wallboard event acd.kpis is sent while the figures change (0 = never)',
    }),
    wallboard: WallboardSection,
  },
  'Contact-centre queues and KPIs (service level, abandons, intervals, business hours)',
);

export const AgentsSection = Section(
  {
    wrapUpS: Type.Integer({
      minimum: 0,
      maximum: 3600,
      default: 30,
      description: 'After-call wrap-up before an agent is available again (0 = none; the agent can end it early)',
    }),
    noAnswerAwayAfter: Type.Integer({
      minimum: 0,
      maximum: 20,
      default: 2,
      description: 'Offered calls in a row an agent lets ring out before being set away with reason no-answer (0 = never)',
    }),
    dispositionCodes: Type.Array(Type.String({ pattern: '^[a-z][a-z0-9-]{0,31}$' }), {
      maxItems: 100,
      uniqueItems: true,
      default: ['resolved', 'follow-up', 'escalated', 'no-action'],
      description: 'Disposition codes an agent picks at wrap-up for the call just handled (lower-case words with dashes)',
    }),
  },
  'Agent states: wrap-up and missed calls',
);
