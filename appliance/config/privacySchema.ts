/**
 * The privacy section of the configuration schema (schema.ts holds the whole): redaction of personal
 * data before storage and logging, and how long each class of data is kept (retention/).
 */
import { Type } from '@sinclair/typebox';
import { Section } from './schemaParts.js';

export const PrivacySection = Section(
  {
    redaction: Section(
      {
        enabled: Type.Boolean({
          default: true,
          description: 'Redact transcripts (finals and partials) before they are stored, shown or sent',
        }),
        categories: Type.Array(
          Type.Union([
            Type.Literal('card'),
            Type.Literal('phone'),
            Type.Literal('email'),
            Type.Literal('account'),
            Type.Literal('digits'),
            Type.Literal('id'),
            Type.Literal('name'),
            Type.Literal('address'),
          ]),
          {
            default: ['card', 'phone', 'email', 'account', 'digits', 'id', 'name', 'address'],
            uniqueItems: true,
            description: 'What is replaced by a typed placeholder ([CARD], [PHONE], ...; [ADDRESS] in Chinese transcripts)',
          },
        ),
        minDigitRun: Type.Integer({
          minimum: 3,
          maximum: 20,
          default: 6,
          description: 'Digit sequences this long are redacted even without context',
        }),
        partialMinDigitRun: Type.Integer({
          minimum: 2,
          maximum: 20,
          default: 4,
          description: 'The same for partial results (which may still be growing)',
        }),
        maxNameWords: Type.Integer({ minimum: 1, maximum: 6, default: 3, description: 'Words taken as a name after "my name is"' }),
        holdMs: Type.Integer({
          minimum: 0,
          maximum: 10_000,
          default: 2500,
          description:
            'A final ending in digits or a name/e-mail cue waits this long for the next utterance to start, so a number split across utterances is redacted as one (0 = never hold)',
        }),
        maxHoldMs: Type.Integer({
          minimum: 0,
          maximum: 60_000,
          default: 7500,
          description:
            'No final is held longer than this for redaction across utterances, even while the next utterance is still being spoken',
        }),
      },
      'Transcript redaction',
    ),
    retention: Section(
      {
        transcriptsHours: Type.Integer({
          minimum: 1,
          default: 30 * 24,
          description: 'Utterances (redacted transcripts, word timings) are deleted after this long',
        }),
        analysisHours: Type.Integer({
          minimum: 1,
          default: 72,
          description: 'Emotion/intent analysis results on utterances are cleared after this long',
        }),
        callsHours: Type.Integer({
          minimum: 1,
          default: 90 * 24,
          description: 'Ended calls (with legs, utterances, QA scorecards) are deleted after this long',
        }),
        qaHours: Type.Integer({ minimum: 1, default: 90 * 24, description: 'QA scorecards are deleted after this long' }),
        eventsHours: Type.Integer({
          minimum: 1,
          default: 365 * 24,
          description: 'Audit-log events, alerts and the upstream sync audit log are deleted after this long',
        }),
        profilesHours: Type.Integer({
          minimum: 1,
          default: 180 * 24,
          description:
            'Caller profiles are deleted this long after the caller last called; customers (one person across channels) this long after their last contact, once none of their calls, chats or e-mail cases is left',
        }),
        intervalHistoryHours: Type.Integer({
          minimum: 1,
          default: 3 * 365 * 24,
          description:
            'Interval history per skill group (offered, answered, abandoned, handle time: counts only, what forecasts learn from) is deleted after this long; it outlives the call records',
        }),
        chatMessagesHours: Type.Integer({
          minimum: 0,
          default: 0,
          description: 'Chat messages (redacted text, their sentiment) are deleted after this long (0 = as transcriptsHours)',
        }),
        chatFilesHours: Type.Integer({
          minimum: 0,
          default: 0,
          description: 'Files visitors sent in chats (chat.uploads) are deleted after this long (0 = as chatMessagesHours)',
        }),
        emailMessagesHours: Type.Integer({
          minimum: 0,
          default: 0,
          description: "E-mail cases' messages (redacted text, their sentiment) are deleted after this long (0 = as transcriptsHours)",
        }),
        chatsHours: Type.Integer({
          minimum: 0,
          default: 0,
          description:
            'Closed chats (with their QA scorecard, sentiment and summary, and any message left) are deleted after this long (0 = as callsHours)',
        }),
        emailCasesHours: Type.Integer({
          minimum: 0,
          default: 0,
          description:
            'Closed e-mail cases (with their thread hashes, sealed reply address and any message left) are deleted after this long (0 = as callsHours)',
        }),
        sweepIntervalMs: Type.Integer({
          minimum: 1000,
          maximum: 86_400_000,
          default: 3_600_000,
          description: 'How often expired data is purged',
        }),
      },
      'Retention per data class',
    ),
  },
  'Privacy: redaction and retention',
);
