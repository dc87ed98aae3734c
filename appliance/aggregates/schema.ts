/**
 * The closed schema of what may leave the box: hourly, per-site aggregates. Every object rejects
 * unknown keys and every string is either the site id, a timestamp, or a label from a fixed
 * vocabulary pattern (intent and emotion labels of the models, alert kinds) — there is no field a
 * call id, number, name, agent id or transcript could travel in. The builder checks every payload
 * against this schema before it reaches the outbox, and the collector checks it again on receipt.
 */
import { Type, type Static } from '@sinclair/typebox';

export const SCHEMA_ID = 'edgevox.aggregates/v1';

/** Labels are model vocabulary (snake/kebab case), never free text. */
const Label = Type.String({ pattern: '^[a-z][a-z0-9_.-]{0,63}$' });
/** A count, or null when suppressed (fewer than k calls). */
const Cell = Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]);

const Histogram = Type.Object(
  {
    /** Upper bounds of the buckets in ms; the last bucket is open (+Inf). */
    boundsMs: Type.Array(Type.Integer({ minimum: 0 }), { maxItems: 32 }),
    counts: Type.Array(Cell, { maxItems: 33 }),
  },
  { additionalProperties: false },
);

/** One count per channel of contact (a call, a chat, an e-mail case each sit in exactly one). */
const ChannelCells = Type.Object({ voice: Cell, chat: Cell, email: Cell }, { additionalProperties: false });
const Rate = Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()]);

export const AggregatePayload = Type.Object(
  {
    schema: Type.Literal(SCHEMA_ID),
    site: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }),
    window: Type.Object(
      {
        startMs: Type.Integer({ minimum: 0 }),
        durationMs: Type.Integer({ minimum: 60_000 }),
        start: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$' }),
      },
      { additionalProperties: false },
    ),
    generatedAtMs: Type.Integer({ minimum: 0 }),
    privacy: Type.Object(
      {
        k: Type.Integer({ minimum: 1 }),
        noise: Type.Union([
          Type.Null(),
          Type.Object(
            {
              // 'laplace': rounded continuous Laplace (boxes before the two-sided geometric mechanism)
              mechanism: Type.Union([Type.Literal('two-sided-geometric'), Type.Literal('laplace')]),
              /** per published cell */
              epsilon: Type.Number({ exclusiveMinimum: 0 }),
              /** published cells one call can change at most (L1 sensitivity) */
              sensitivity: Type.Optional(Type.Integer({ minimum: 0 })),
              /** epsilon x sensitivity: what this window cost the site's privacy budget */
              epsilonSpent: Type.Optional(Type.Number({ minimum: 0 })),
            },
            { additionalProperties: false },
          ),
        ]),
        suppressedCells: Type.Integer({ minimum: 0 }),
      },
      { additionalProperties: false },
    ),
    calls: Type.Object(
      {
        total: Cell,
        answered: Cell,
        bySource: Type.Object({ sip: Cell, siprec: Cell, webrtc: Cell }, { additionalProperties: false }),
      },
      { additionalProperties: false },
    ),
    handleTime: Histogram,
    waitTime: Histogram,
    topIntents: Type.Array(Type.Object({ intent: Label, calls: Cell }, { additionalProperties: false }), { maxItems: 20 }),
    emotionMix: Type.Array(Type.Object({ emotion: Label, calls: Cell }, { additionalProperties: false }), { maxItems: 20 }),
    qa: Type.Object(
      { scored: Cell, passed: Cell, passRate: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()]) },
      { additionalProperties: false },
    ),
    alerts: Type.Array(Type.Object({ kind: Label, count: Cell }, { additionalProperties: false }), { maxItems: 20 }),
    /**
     * The speech language of the calls (undecided: `auto` calls with no decision), and the top
     * intents split by it. Optional: payloads from boxes without languages stay valid.
     */
    languages: Type.Optional(
      Type.Object(
        {
          calls: Type.Object({ en: Cell, zh: Cell, undecided: Cell }, { additionalProperties: false }),
          intents: Type.Array(
            Type.Object(
              { language: Type.Union([Type.Literal('en'), Type.Literal('zh')]), intent: Label, calls: Cell },
              { additionalProperties: false },
            ),
            { maxItems: 40 },
          ),
        },
        { additionalProperties: false },
      ),
    ),
    /**
     * Repeat contacts: calls of the window (with a known caller and a contact reason) whose caller
     * had called for the same reason within `withinDays` before, overall and per reason. Optional:
     * payloads from boxes before contact reasons stay valid.
     */
    contactReasons: Type.Optional(
      Type.Object(
        {
          withinDays: Type.Integer({ minimum: 1, maximum: 90 }),
          calls: Cell,
          repeatCalls: Cell,
          repeatIntents: Type.Array(Type.Object({ intent: Label, calls: Cell }, { additionalProperties: false }), { maxItems: 20 }),
        },
        { additionalProperties: false },
      ),
    ),
    /**
     * The channel dimension: contacts of the window per channel (voice = calls, chat and e-mail =
     * conversations started in it), those answered (voice: by an agent; text: with an agent's reply
     * by the time the window is built), the answer rate from those published cells, and the
     * first-response histogram of chats and e-mail cases. Optional: payloads from boxes before
     * channels stay valid.
     */
    channels: Type.Optional(
      Type.Object(
        {
          contacts: ChannelCells,
          answered: ChannelCells,
          answerRate: Type.Object({ voice: Rate, chat: Rate, email: Rate }, { additionalProperties: false }),
          firstResponse: Type.Object(
            {
              boundsMs: Type.Array(Type.Integer({ minimum: 0 }), { maxItems: 32 }),
              chat: Type.Array(Cell, { maxItems: 33 }),
              email: Type.Array(Cell, { maxItems: 33 }),
            },
            { additionalProperties: false },
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, $id: 'EdgeVoxAggregates' },
);
export type AggregatePayload = Static<typeof AggregatePayload>;

export const HANDLE_TIME_BOUNDS_MS = [30_000, 60_000, 120_000, 300_000, 600_000, 1_200_000];
/** First response of chats (seconds to minutes) and e-mail cases (hours): one set of bounds for both. */
export const FIRST_RESPONSE_BOUNDS_MS = [15_000, 30_000, 60_000, 120_000, 300_000, 900_000, 3_600_000, 14_400_000, 86_400_000];
export const WAIT_TIME_BOUNDS_MS = [1_000, 5_000, 15_000, 30_000, 60_000, 120_000, 300_000];
