/**
 * The retention classes of the appliance's own tables, from the `privacy.retention` config.
 * Calls are deleted only once ended; their legs, utterances, QA scorecards and summaries go with
 * them (ON DELETE CASCADE); summaries also expire with the transcripts they quote. Analysis
 * results (emotion, intent) are stripped from utterances that are otherwise kept, so emotion data
 * can expire sooner (72 h by default) than transcripts; so is the emotion stored with agent-assist
 * cards. Closed callback requests (with the caller's sealed number) go like ended calls, and so
 * does the number in a partner box's held copy once it is closed, adopted or returned. The
 * interval history (counts per skill group) has its own, longer limit and is untouched when calls
 * are purged. Customers (one person across channels: hashed identifiers, links, merges) go like
 * caller profiles, once idle and with none of their calls, chats or e-mail cases left.
 */
import type { EdgeVoxConfig } from '../config/schema.js';
import { CustomerRepo } from '../customers/customerRepo.js';
import type { Store } from '../store/database.js';
import type { RetentionClass } from './retention.js';

const HOUR_MS = 3_600_000;

export function storeRetentionClasses(store: Store, retention: EdgeVoxConfig['privacy']['retention']): RetentionClass[] {
  const db = store.db;
  const run = (operation: string, sql: string) => {
    const stmt = db.prepare(sql);
    return (cutoffMs: number) => store.write(operation, () => stmt.run(cutoffMs).changes);
  };
  const hasTable = (name: string) => db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
  const purgeUtterances = run('retention.transcripts', `DELETE FROM utterances WHERE created_at < ?`);
  const purgeSummaries = run('retention.summaries', `DELETE FROM call_summaries WHERE created_at < ?`);
  const classes: RetentionClass[] = [
    {
      name: 'analysis',
      maxAgeMs: retention.analysisHours * HOUR_MS,
      purge: run('retention.analysis', `UPDATE utterances SET analysis_json = '{}' WHERE created_at < ? AND analysis_json != '{}'`),
    },
    {
      name: 'transcripts',
      maxAgeMs: retention.transcriptsHours * HOUR_MS,
      // Post-call summaries quote the (redacted) transcript, so they expire with it.
      purge: (cutoffMs) => purgeUtterances(cutoffMs) + purgeSummaries(cutoffMs),
    },
    {
      name: 'calls',
      maxAgeMs: retention.callsHours * HOUR_MS,
      purge: run('retention.calls', `DELETE FROM calls WHERE state = 'ended' AND ended_at < ?`),
    },
    { name: 'events', maxAgeMs: retention.eventsHours * HOUR_MS, purge: run('retention.events', `DELETE FROM audit_log WHERE at < ?`) },
    { name: 'qa', maxAgeMs: retention.qaHours * HOUR_MS, purge: run('retention.qa', `DELETE FROM qa_scorecards WHERE scored_at < ?`) },
    {
      name: 'syncAudit',
      maxAgeMs: retention.eventsHours * HOUR_MS,
      purge: run('retention.syncAudit', `DELETE FROM sync_audit WHERE at < ?`),
    },
  ];
  // Tables of the routing module (caller profiles, alerts), purged when that module's schema is present.
  if (hasTable('caller_profiles')) {
    classes.push(
      {
        name: 'profiles',
        maxAgeMs: retention.profilesHours * HOUR_MS,
        purge: run('retention.profiles', `DELETE FROM caller_profiles WHERE last_call_at < ?`),
      },
      {
        name: 'profileEmotion',
        maxAgeMs: retention.analysisHours * HOUR_MS,
        purge: run(
          'retention.profileEmotion',
          `UPDATE caller_profiles SET last_emotion_json = NULL WHERE last_emotion_json IS NOT NULL AND COALESCE(json_extract(last_emotion_json, '$.at'), 0) < ?`,
        ),
      },
    );
  }
  // The caller's emotion an agent-assist card was picked for (assist/cardRepo.ts) is emotion data
  // like the utterances' analysis: cleared at the same age, while the card stays with its call.
  if (hasTable('assist_cards'))
    classes.push({
      name: 'assistEmotion',
      maxAgeMs: retention.analysisHours * HOUR_MS,
      purge: run('retention.assistEmotion', `UPDATE assist_cards SET emotion = NULL WHERE emotion IS NOT NULL AND shown_at < ?`),
    });
  // Callback requests (acd/callbackRepo.ts) hold the caller's number (sealed) and outlive their call
  // record while open; once closed (done, failed, cancelled) they go like an ended call.
  if (hasTable('callback_requests'))
    classes.push({
      name: 'callbacks',
      maxAgeMs: retention.callsHours * HOUR_MS,
      purge: run('retention.callbacks', `DELETE FROM callback_requests WHERE state IN ('done', 'failed', 'cancelled') AND updated_at < ?`),
    });
  // A partner box's callbacks held here (cluster/heldCallbacks.ts): once closed, adopted (copied
  // into callback_requests) or returned, the row stays to recognise a repeated message, but the
  // caller's sealed number in it is not needed any more and goes like an ended call.
  if (hasTable('callback_held'))
    classes.push({
      name: 'heldCallbacks',
      maxAgeMs: retention.callsHours * HOUR_MS,
      purge: run(
        'retention.heldCallbacks',
        `UPDATE callback_held SET number_sealed = '' WHERE state IN ('closed', 'adopted', 'returned') AND number_sealed != '' AND updated_at < ?`,
      ),
    });
  // Counts per skill group and interval (forecast/historyRepo.ts): not personal data, kept longer than the calls they count.
  if (hasTable('interval_history'))
    classes.push({
      name: 'intervalHistory',
      maxAgeMs: retention.intervalHistoryHours * HOUR_MS,
      purge: run('retention.intervalHistory', `DELETE FROM interval_history WHERE interval_start < ?`),
    });
  if (hasTable('alerts'))
    classes.push({
      name: 'alerts',
      maxAgeMs: retention.eventsHours * HOUR_MS,
      purge: run('retention.alerts', `DELETE FROM alerts WHERE at < ?`),
    });
  // Conversations (conversations/), each channel by its own keys; 0 (the default) keeps the voice
  // limits: messages expire like transcripts, closed conversations (with their analysis, e-mail
  // threads and what is left of their messages) like ended calls. Open conversations stay.
  if (hasTable('conversations')) {
    const orHours = (hours: number | undefined, fallback: number) => (hours !== undefined && hours > 0 ? hours : fallback);
    for (const [channel, messages, closed, messagesHours, closedHours] of [
      ['chat', 'chatMessages', 'chats', retention.chatMessagesHours, retention.chatsHours],
      ['email', 'emailMessages', 'emailCases', retention.emailMessagesHours, retention.emailCasesHours],
    ] as const)
      classes.push(
        {
          name: messages,
          maxAgeMs: orHours(messagesHours, retention.transcriptsHours) * HOUR_MS,
          purge: run(
            `retention.${messages}`,
            `DELETE FROM conversation_messages WHERE at < ? AND conversation_id IN (SELECT id FROM conversations WHERE channel = '${channel}')`,
          ),
        },
        {
          name: closed,
          maxAgeMs: orHours(closedHours, retention.callsHours) * HOUR_MS,
          purge: run(
            `retention.${closed}`,
            `DELETE FROM conversations WHERE channel = '${channel}' AND state = 'closed' AND closed_at < ?`,
          ),
        },
      );
  }
  // Files visitors sent in chats go with their conversation, or sooner by their own key.
  if (hasTable('conversation_files'))
    classes.push({
      name: 'chatFiles',
      maxAgeMs:
        (retention.chatFilesHours > 0
          ? retention.chatFilesHours
          : retention.chatMessagesHours > 0
            ? retention.chatMessagesHours
            : retention.transcriptsHours) * HOUR_MS,
      purge: run('retention.chatFiles', `DELETE FROM conversation_files WHERE created_at < ?`),
    });
  // Customers (customers/): their hashed identifiers, links and merge records go, like a caller
  // profile, once they have been idle this long and nothing of theirs (calls, chats, e-mail cases,
  // each purged above by its own key) is left.
  if (hasTable('customers')) {
    const customers = new CustomerRepo(db, store.write.bind(store));
    classes.push({ name: 'customers', maxAgeMs: retention.profilesHours * HOUR_MS, purge: (cutoffMs) => customers.purgeIdle(cutoffMs) });
  }
  return classes;
}
