/**
 * Forward-only schema migrations. Append new entries; never edit one that has shipped.
 * Each runs in its own transaction together with the bump of PRAGMA user_version, so a crash
 * leaves the database at the previous version, never half-migrated.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'core tables: calls, legs, utterances, config versions, audit log',
    sql: `
      CREATE TABLE calls (
        id            TEXT PRIMARY KEY,
        source        TEXT NOT NULL,            -- sip | siprec | webrtc
        direction     TEXT NOT NULL DEFAULT 'inbound',
        caller_hash   TEXT,                     -- salted hash of the caller number, never the number
        state         TEXT NOT NULL,            -- ringing | active | ended
        started_at    INTEGER NOT NULL,         -- unix ms
        answered_at   INTEGER,
        ended_at      INTEGER,
        end_reason    TEXT,
        meta_json     TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX calls_started_at ON calls (started_at DESC);
      CREATE INDEX calls_state ON calls (state);

      CREATE TABLE call_legs (
        id            TEXT PRIMARY KEY,
        call_id       TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        label         TEXT NOT NULL,            -- caller | agent | participant label
        codec         TEXT,
        started_at    INTEGER NOT NULL,
        ended_at      INTEGER,
        quality_json  TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX call_legs_call ON call_legs (call_id);

      CREATE TABLE utterances (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        call_id       TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        leg_id        TEXT,
        speaker       TEXT NOT NULL,
        start_ms      INTEGER NOT NULL,
        end_ms        INTEGER NOT NULL,
        text          TEXT NOT NULL,
        words_json    TEXT NOT NULL DEFAULT '[]',
        confidence    REAL,
        analysis_json TEXT NOT NULL DEFAULT '{}',   -- intent, emotion, keywords
        created_at    INTEGER NOT NULL
      );
      CREATE INDEX utterances_call ON utterances (call_id, start_ms);

      CREATE TABLE config_versions (
        version       INTEGER PRIMARY KEY AUTOINCREMENT,
        config_json   TEXT NOT NULL,
        author        TEXT NOT NULL,
        comment       TEXT NOT NULL DEFAULT '',
        created_at    INTEGER NOT NULL
      );

      CREATE TABLE audit_log (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        at            INTEGER NOT NULL,
        actor         TEXT NOT NULL,
        action        TEXT NOT NULL,
        target        TEXT NOT NULL DEFAULT '',
        details_json  TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX audit_log_at ON audit_log (at DESC);
    `,
  },
  {
    version: 2,
    name: 'appliance runs: start/stop records for crash detection',
    sql: `
      CREATE TABLE appliance_runs (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at    INTEGER NOT NULL,
        stopped_at    INTEGER,
        stop_reason   TEXT,
        version       TEXT NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'console auth: users, sessions, API tokens',
    sql: `
      CREATE TABLE console_users (
        username      TEXT PRIMARY KEY,
        role          TEXT NOT NULL,            -- technician | supervisor | viewer
        password_hash TEXT NOT NULL,            -- scrypt$N$r$p$salt$hash
        failed_logins INTEGER NOT NULL DEFAULT 0,
        locked_until  INTEGER NOT NULL DEFAULT 0,
        created_at    INTEGER NOT NULL,
        last_login_at INTEGER
      );

      CREATE TABLE console_sessions (
        id_hash       TEXT PRIMARY KEY,         -- sha256 of the cookie value; the value itself is never stored
        username      TEXT NOT NULL REFERENCES console_users (username) ON DELETE CASCADE,
        csrf_token    TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        last_seen_at  INTEGER NOT NULL,
        expires_at    INTEGER NOT NULL
      );
      CREATE INDEX console_sessions_user ON console_sessions (username);

      CREATE TABLE api_tokens (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        token_hash    TEXT NOT NULL UNIQUE,     -- sha256 of the bearer token
        name          TEXT NOT NULL,
        role          TEXT NOT NULL,
        created_by    TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        last_used_at  INTEGER
      );
    `,
  },
  {
    version: 4,
    name: 'routing (groups, agents, rules, scripts, decisions), caller profiles, alerts',
    sql: `
      CREATE TABLE routing_groups (
        id            TEXT PRIMARY KEY,
        position      INTEGER NOT NULL,
        group_json    TEXT NOT NULL,
        updated_at    INTEGER NOT NULL
      );

      CREATE TABLE routing_agents (
        id            TEXT PRIMARY KEY,
        agent_json    TEXT NOT NULL,            -- name, SIP URI, skills, senior flag
        state         TEXT NOT NULL,            -- available | busy | wrap-up | offline
        state_since   INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
      );

      CREATE TABLE routing_settings (
        key           TEXT PRIMARY KEY,         -- rules
        value_json    TEXT NOT NULL,
        updated_at    INTEGER NOT NULL
      );

      CREATE TABLE routing_scripts (
        id            TEXT PRIMARY KEY,
        script_json   TEXT NOT NULL,
        updated_at    INTEGER NOT NULL
      );

      CREATE TABLE route_decisions (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        call_id         TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        at              INTEGER NOT NULL,
        trigger         TEXT NOT NULL,          -- utterance | dequeue
        action          TEXT NOT NULL,          -- agent | queue | callback | self-service | none
        group_id        TEXT,
        agent_id        TEXT,
        priority        REAL NOT NULL,
        latency_ms      REAL,                   -- final utterance to decision
        decide_ms       REAL NOT NULL,          -- the decision function alone
        transfer_state  TEXT,                   -- requested | accepted | completed | failed
        transfer_status INTEGER,
        decision_json   TEXT NOT NULL           -- reasons, overflow, estimated wait
      );
      CREATE INDEX route_decisions_call ON route_decisions (call_id, at);
      CREATE INDEX route_decisions_at ON route_decisions (at DESC);

      CREATE TABLE caller_profiles (
        caller_hash         TEXT PRIMARY KEY,   -- salted hash of the caller number (calls.caller_hash)
        first_seen_at       INTEGER NOT NULL,
        last_call_at        INTEGER NOT NULL,
        calls_total         INTEGER NOT NULL,
        recent_calls_json   TEXT NOT NULL DEFAULT '[]',  -- start times within the window, bounded
        last_intents_json   TEXT NOT NULL DEFAULT '[]',  -- [{intent, at}], newest first, bounded
        last_emotion_json   TEXT,                        -- {category, agitation, trend, at}
        unresolved_repeats  INTEGER NOT NULL DEFAULT 0,
        churn_risk          REAL NOT NULL DEFAULT 0,
        vip                 INTEGER NOT NULL DEFAULT 0,
        tags_json           TEXT NOT NULL DEFAULT '[]',  -- tags set through the API
        updated_at          INTEGER NOT NULL
      );

      CREATE TABLE alerts (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        at              INTEGER NOT NULL,
        call_id         TEXT REFERENCES calls (id) ON DELETE SET NULL,
        kind            TEXT NOT NULL,          -- caller_angry | caller_escalating | queue_wait | intent_spike
        severity        TEXT NOT NULL,          -- info | warning | critical
        message         TEXT NOT NULL,
        details_json    TEXT NOT NULL DEFAULT '{}',
        acknowledged_at INTEGER,
        acknowledged_by TEXT
      );
      CREATE INDEX alerts_at ON alerts (at DESC);
      CREATE INDEX alerts_kind ON alerts (kind, at DESC);
    `,
  },
  {
    version: 5,
    name: 'privacy, QA and sync: sealed secrets, QA rule sets and scorecards, sync outbox, windows and audit',
    sql: `
      CREATE TABLE secrets (
        name          TEXT PRIMARY KEY,         -- e.g. sip.trunk.<id>.password
        sealed        TEXT NOT NULL,            -- AES-256-GCM, key in <dataDir>/secrets/store-key
        updated_at    INTEGER NOT NULL
      );

      CREATE TABLE qa_rule_sets (
        version       INTEGER PRIMARY KEY AUTOINCREMENT,
        rules_json    TEXT NOT NULL,
        author        TEXT NOT NULL,
        created_at    INTEGER NOT NULL
      );

      CREATE TABLE qa_scorecards (
        call_id       TEXT PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
        scored_at     INTEGER NOT NULL,
        call_started_at INTEGER NOT NULL,
        rules_version INTEGER NOT NULL,         -- 0 = the built-in defaults
        score         REAL,                     -- 0..100; NULL when no rule applied
        passed        INTEGER,
        agent_label   TEXT,
        group_id      TEXT,
        results_json  TEXT NOT NULL
      );
      CREATE INDEX qa_scorecards_scored_at ON qa_scorecards (scored_at);

      CREATE TABLE sync_windows (
        window_start  INTEGER PRIMARY KEY,      -- unix ms; a row means the window was built into the outbox
        closed_at     INTEGER NOT NULL
      );

      CREATE TABLE sync_outbox (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        idempotency_key TEXT NOT NULL UNIQUE,   -- <site>:<windowStart>
        window_start  INTEGER NOT NULL,
        body          TEXT NOT NULL,            -- the exact JSON bytes that will be sent
        created_at    INTEGER NOT NULL,
        attempts      INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error    TEXT
      );

      CREATE TABLE sync_audit (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        at            INTEGER NOT NULL,
        idempotency_key TEXT NOT NULL,
        endpoint      TEXT NOT NULL,
        outcome       TEXT NOT NULL,            -- accepted | duplicate | rejected | failed | dropped
        http_status   INTEGER,
        bytes         INTEGER NOT NULL,
        sha256        TEXT NOT NULL,
        body          TEXT NOT NULL             -- exactly what left the box (anonymised aggregates only)
      );
      CREATE INDEX sync_audit_at ON sync_audit (at);
    `,
  },
  {
    version: 6,
    name: 'credential reset: end every console session and API token after the API guard bypass',
    // Versions before this one let unauthenticated requests through the API guard with an encoded
    // path (/%61pi/...). Anything minted or read through it may be in someone else's hands: every
    // session and API token ends here, and the signing secrets rotate at the next start (a row in
    // credential_resets asks for that; auth/credentialReset.ts does it). A fresh database has no
    // accounts, so nothing to reset and no row.
    sql: `
      CREATE TABLE credential_resets (
        id                 INTEGER PRIMARY KEY AUTOINCREMENT,
        at                 INTEGER NOT NULL,
        reason             TEXT NOT NULL,
        sessions_ended     INTEGER NOT NULL,
        tokens_revoked     INTEGER NOT NULL,
        secrets_rotated_at INTEGER
      );
      INSERT INTO credential_resets (at, reason, sessions_ended, tokens_revoked)
        SELECT CAST(strftime('%s', 'now') AS INTEGER) * 1000, 'api-guard-bypass',
               (SELECT COUNT(*) FROM console_sessions), (SELECT COUNT(*) FROM api_tokens)
        WHERE EXISTS (SELECT 1 FROM console_users) OR EXISTS (SELECT 1 FROM api_tokens);
      DELETE FROM console_sessions;
      DELETE FROM api_tokens;
    `,
  },
  {
    version: 7,
    name: 'contact-centre interval figures (acd/repo.ts): the KPI engine sums per interval, kept across restarts',
    sql: `
      CREATE TABLE acd_intervals (
        interval_start INTEGER NOT NULL,        -- unix ms, a multiple of interval_ms
        interval_ms    INTEGER NOT NULL,
        totals_json    TEXT NOT NULL,           -- counts and ms per group and overall (acd/kpis.ts IntervalTotals)
        updated_at     INTEGER NOT NULL,
        PRIMARY KEY (interval_start, interval_ms)
      );
    `,
  },
  {
    version: 8,
    name: 'wrap-up disposition codes (acd/dispositions.ts): one per call, deleted with the call',
    sql: `
      CREATE TABLE call_dispositions (
        call_id   TEXT PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
        agent_id  TEXT NOT NULL,
        code      TEXT NOT NULL,
        at        INTEGER NOT NULL                -- unix ms of the last change
      );
    `,
  },
  {
    version: 9,
    name: 'callback requests (acd/callbacks.ts): a caller asked to be called back; kept when the call record goes',
    sql: `
      CREATE TABLE callback_requests (
        id            TEXT PRIMARY KEY,               -- uuid
        call_id       TEXT REFERENCES calls (id) ON DELETE SET NULL,
        group_id      TEXT NOT NULL,
        number_sealed TEXT NOT NULL,                  -- the caller's URI, SecretBox-sealed (name callback:<id>)
        requested_at  INTEGER NOT NULL,               -- unix ms
        state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'cancelled', 'done')),
        updated_at    INTEGER NOT NULL
      );
      CREATE INDEX callback_requests_state ON callback_requests (state, requested_at);
    `,
  },
  {
    version: 10,
    name: 'placing callbacks (acd/callbackDialer.ts): attempts, retry time, place in the queue, outcome; callback offers for the KPIs',
    sql: `
      CREATE TABLE callback_requests_v10 (
        id              TEXT PRIMARY KEY,             -- uuid
        call_id         TEXT REFERENCES calls (id) ON DELETE SET NULL,
        group_id        TEXT NOT NULL,
        number_sealed   TEXT NOT NULL,                -- the caller's URI, SecretBox-sealed (name callback:<id>)
        requested_at    INTEGER NOT NULL,             -- unix ms
        queued_at       INTEGER NOT NULL,             -- its place in the queue: when the caller first queued (unix ms)
        state           TEXT NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'dialing', 'cancelled', 'done', 'failed')),
        attempts        INTEGER NOT NULL DEFAULT 0,   -- calls to the customer that were not answered
        next_attempt_at INTEGER NOT NULL,             -- not queued for an agent before this (unix ms)
        attempt_call_id TEXT,                         -- the call record of the attempt being dialled
        reason          TEXT,                         -- why the last attempt failed, or why it was closed
        updated_at      INTEGER NOT NULL
      );
      INSERT INTO callback_requests_v10
        (id, call_id, group_id, number_sealed, requested_at, queued_at, state, attempts, next_attempt_at, updated_at)
        SELECT id, call_id, group_id, number_sealed, requested_at, requested_at, state, 0, requested_at, updated_at
        FROM callback_requests;
      DROP TABLE callback_requests;
      ALTER TABLE callback_requests_v10 RENAME TO callback_requests;
      CREATE INDEX callback_requests_state ON callback_requests (state, next_attempt_at);
      CREATE INDEX callback_requests_updated ON callback_requests (updated_at);

      CREATE TABLE callback_offers (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        call_id   TEXT REFERENCES calls (id) ON DELETE SET NULL,
        group_id  TEXT NOT NULL,
        at        INTEGER NOT NULL,                   -- unix ms the offer started
        answer    TEXT CHECK (answer IN ('accepted', 'declined', 'none'))
      );
      CREATE INDEX callback_offers_at ON callback_offers (at);
    `,
  },
  {
    version: 11,
    name: 'alert lifecycle (alerts/lifecycle.ts): open, acknowledged, resolved; assignment to a console user',
    sql: `
      ALTER TABLE alerts ADD COLUMN state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'acknowledged', 'resolved'));
      ALTER TABLE alerts ADD COLUMN assigned_to TEXT;          -- console username, or NULL
      ALTER TABLE alerts ADD COLUMN resolved_at INTEGER;       -- unix ms
      ALTER TABLE alerts ADD COLUMN resolved_by TEXT;
      ALTER TABLE alerts ADD COLUMN updated_at INTEGER;        -- unix ms of the last transition or assignment
      UPDATE alerts SET state = 'acknowledged', updated_at = acknowledged_at WHERE acknowledged_at IS NOT NULL;
      CREATE INDEX alerts_state ON alerts (state, at DESC);
      CREATE INDEX audit_log_target ON audit_log (target, id DESC);  -- an alert's history (alert:<id>)
    `,
  },
  {
    version: 12,
    name: 'QA workspace: supervisor overrides of a call result or a rule outcome (with reason), the effective score beside the original',
    sql: `
      ALTER TABLE qa_scorecards ADD COLUMN effective_score REAL;       -- after overrides; = score when none
      ALTER TABLE qa_scorecards ADD COLUMN effective_passed INTEGER;
      ALTER TABLE qa_scorecards ADD COLUMN overridden INTEGER NOT NULL DEFAULT 0;
      UPDATE qa_scorecards SET effective_score = score, effective_passed = passed;
      CREATE INDEX qa_scorecards_started ON qa_scorecards (call_started_at);

      CREATE TABLE qa_overrides (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        call_id   TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        rule_id   TEXT,                                -- NULL: the call's result
        outcome   TEXT NOT NULL CHECK (outcome IN ('pass', 'fail', 'na')),
        reason    TEXT NOT NULL,
        author    TEXT NOT NULL,
        at        INTEGER NOT NULL                     -- unix ms
      );
      CREATE INDEX qa_overrides_call ON qa_overrides (call_id, id);
    `,
  },
  {
    version: 13,
    name: 'speech languages: the language of each call (asked for, decided, where from) and of each utterance (with its pinyin)',
    sql: `
      ALTER TABLE calls ADD COLUMN language TEXT CHECK (language IN ('en', 'zh'));             -- spoken; NULL: auto, not decided yet
      ALTER TABLE calls ADD COLUMN language_choice TEXT NOT NULL DEFAULT 'en' CHECK (language_choice IN ('en', 'zh', 'auto'));
      ALTER TABLE calls ADD COLUMN language_from TEXT;                                          -- queue | did | trunk | site
      ALTER TABLE calls ADD COLUMN language_confidence REAL;                                    -- auto's decision only, 0..1
      UPDATE calls SET language = 'en', language_from = 'site';                                 -- every earlier call was English
      CREATE INDEX calls_language ON calls (language, started_at DESC);

      ALTER TABLE utterances ADD COLUMN language TEXT NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'zh'));
      ALTER TABLE utterances ADD COLUMN pinyin TEXT;                                            -- zh only: tonal pinyin, syllables spaced
    `,
  },
  {
    version: 14,
    name: 'knowledge base for agent assist (assist/knowledgeRepo.ts): articles and every version of each, soft deletion',
    sql: `
      CREATE TABLE kb_articles (
        id          TEXT PRIMARY KEY,                 -- the uploader's id or a slug of the title
        version     INTEGER NOT NULL,                 -- the current version
        deleted_at  INTEGER,                          -- unix ms; NULL while the article is live
        deleted_by  TEXT
      );
      CREATE TABLE kb_article_versions (
        article_id  TEXT NOT NULL REFERENCES kb_articles (id) ON DELETE CASCADE,
        version     INTEGER NOT NULL,
        title       TEXT NOT NULL,
        body        TEXT NOT NULL,
        tags        TEXT NOT NULL,                    -- JSON array
        intents     TEXT NOT NULL,                    -- JSON array of intent labels
        language    TEXT NOT NULL CHECK (language IN ('en', 'zh')),
        format      TEXT NOT NULL CHECK (format IN ('markdown', 'text', 'csv')),
        sha256      TEXT NOT NULL,                    -- of title, body, tags, intents, language
        author      TEXT NOT NULL,
        created_at  INTEGER NOT NULL,                 -- unix ms
        PRIMARY KEY (article_id, version)
      );
    `,
  },
  {
    version: 15,
    name: 'post-call summaries (summary/summaryRepo.ts): one per call, built from the stored (redacted) utterances at the call end',
    sql: `
      CREATE TABLE call_summaries (
        call_id        TEXT PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
        version        INTEGER NOT NULL,                 -- summariser format version
        language       TEXT NOT NULL CHECK (language IN ('en', 'zh')),
        reason_intent  TEXT,                             -- intent label of the reason; NULL: none found
        outcome        TEXT NOT NULL CHECK (outcome IN ('resolved', 'follow_up', 'transferred', 'unresolved')),
        summary_json   TEXT NOT NULL,                    -- the whole summary (redacted excerpts only)
        created_at     INTEGER NOT NULL                  -- unix ms
      );
      CREATE INDEX call_summaries_created ON call_summaries (created_at);
      CREATE INDEX call_summaries_outcome ON call_summaries (outcome, created_at);
    `,
  },
  {
    version: 16,
    name: "agent assist cards (assist/cardRepo.ts): the cards pushed to each call with the agent's feedback, and feedback totals per card and intent for ranking",
    sql: `
      CREATE TABLE assist_cards (
        call_id      TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        card_id      TEXT NOT NULL,                     -- article:<id> or action:<script id>; unique in a call
        kind         TEXT NOT NULL CHECK (kind IN ('article', 'action')),
        ref_id       TEXT NOT NULL,                     -- the article or script id
        version      INTEGER,                           -- the article version shown
        title        TEXT NOT NULL,
        snippet      TEXT NOT NULL DEFAULT '',          -- the article sentence shown ('' for actions)
        steps_json   TEXT NOT NULL DEFAULT '[]',        -- an action's steps (JSON array; [] for articles)
        intent       TEXT,                              -- the caller's intent when it was shown
        emotion      TEXT,                              -- the caller's emotion when it was shown
        rank         INTEGER NOT NULL,                  -- 0 = top card of its push
        score        REAL NOT NULL,
        shown_at     INTEGER NOT NULL,                  -- unix ms
        latency_ms   INTEGER NOT NULL,                  -- from the caller's final to the push
        feedback     TEXT CHECK (feedback IN ('useful', 'not_useful')),
        feedback_by  TEXT,
        feedback_at  INTEGER,
        PRIMARY KEY (call_id, card_id)
      );
      CREATE INDEX assist_cards_shown ON assist_cards (shown_at);
      -- Feedback totals outlive the calls (retention deletes call rows): counts only, no call data.
      CREATE TABLE assist_card_ratings (
        kind        TEXT NOT NULL,
        ref_id      TEXT NOT NULL,
        intent      TEXT NOT NULL,                      -- '' when the caller's intent was not known
        useful      INTEGER NOT NULL DEFAULT 0,
        not_useful  INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (kind, ref_id, intent)
      );
    `,
  },
  {
    version: 17,
    name: 'forecasting (forecast/): interval history per skill group (counts only, kept when calls are purged), special days, settings',
    sql: `
      CREATE TABLE interval_history (
        interval_start INTEGER NOT NULL,              -- unix ms, a multiple of interval_ms
        interval_ms    INTEGER NOT NULL,
        group_id       TEXT NOT NULL,                 -- skill group id; '' = all groups (each call once)
        offered        INTEGER NOT NULL,
        answered       INTEGER NOT NULL,
        abandoned      INTEGER NOT NULL,
        handled        INTEGER NOT NULL,              -- answered calls whose wrap-up ended
        handle_ms      INTEGER NOT NULL,              -- talk + hold + wrap-up of the handled calls
        updated_at     INTEGER NOT NULL,
        PRIMARY KEY (group_id, interval_ms, interval_start)
      );
      CREATE INDEX interval_history_start ON interval_history (interval_start);

      CREATE TABLE forecast_special_days (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        date        TEXT NOT NULL,                    -- YYYY-MM-DD, site-local
        group_id    TEXT NOT NULL DEFAULT '',         -- '' = every group
        factor      REAL NOT NULL,                    -- expected volume x factor (1.3 = +30 %, 0 = closed)
        label       TEXT NOT NULL,
        updated_by  TEXT NOT NULL,
        updated_at  INTEGER NOT NULL,
        UNIQUE (date, group_id)
      );

      CREATE TABLE forecast_settings (
        key         TEXT PRIMARY KEY,                 -- settings
        value_json  TEXT NOT NULL,
        updated_by  TEXT NOT NULL,
        updated_at  INTEGER NOT NULL
      );
    `,
  },
  {
    version: 18,
    name: 'privacy budget of the upstream aggregates (sync/outbox.ts): the epsilon each window spent, and windows withheld past the budget',
    sql: `
      ALTER TABLE sync_windows ADD COLUMN epsilon_spent REAL NOT NULL DEFAULT 0;   -- epsilon x sensitivity of the window sent
      ALTER TABLE sync_windows ADD COLUMN withheld INTEGER NOT NULL DEFAULT 0;     -- 1: not sent, the budget was spent
    `,
  },
  {
    version: 19,
    name: 'conversations (conversations/): chats and e-mail cases with their ordered, redacted messages; identifiers only as salted hashes',
    sql: `
      CREATE TABLE conversations (
        id              TEXT PRIMARY KEY,
        channel         TEXT NOT NULL CHECK (channel IN ('chat', 'email')),
        state           TEXT NOT NULL CHECK (state IN ('waiting', 'assigned', 'closed')),
        group_id        TEXT,                             -- skill group it was routed to (null until routed)
        agent_id        TEXT,                             -- the agent holding it (assigned), or who closed it
        intent          TEXT,                             -- the intent that routed it
        route_reason    TEXT,                             -- the routing engine's reason code
        language        TEXT NOT NULL DEFAULT 'en',
        name_hash       TEXT,                             -- salted hashes of what the customer gave (calls/callerHash.ts)
        customer_hash   TEXT,
        email_hash      TEXT,
        phone_hash      TEXT,
        call_id         TEXT,                             -- the call it was escalated to
        subject         TEXT,                             -- e-mail subject (redacted); null for chats
        visitor_read_seq INTEGER NOT NULL DEFAULT 0,      -- the customer has read messages up to this seq
        agent_read_seq  INTEGER NOT NULL DEFAULT 0,       -- the agent has read messages up to this seq
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL,
        closed_at       INTEGER
      );
      CREATE INDEX conversations_state ON conversations (state, group_id);
      CREATE INDEX conversations_created ON conversations (created_at);
      CREATE INDEX conversations_customer ON conversations (customer_hash);
      CREATE INDEX conversations_email ON conversations (email_hash);

      CREATE TABLE conversation_messages (
        conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        seq             INTEGER NOT NULL,                 -- 1, 2, ... per conversation: the order everyone sees
        client_id       TEXT NOT NULL,                    -- the sender's id of the message (de-duplicates resends; Message-ID for e-mail)
        sender          TEXT NOT NULL CHECK (sender IN ('visitor', 'agent', 'system')),
        agent_id        TEXT,
        text            TEXT NOT NULL,                    -- redacted before it is stored
        redactions      INTEGER NOT NULL DEFAULT 0,
        intent          TEXT,
        meta_json       TEXT NOT NULL DEFAULT '{}',       -- channel details (e-mail: In-Reply-To, References)
        at              INTEGER NOT NULL,
        PRIMARY KEY (conversation_id, seq),
        UNIQUE (conversation_id, sender, client_id)
      );
    `,
  },
  {
    version: 20,
    name: "callbacks held for a peer (cluster/heldCallbacks.ts): a partner box's pending callback requests, kept sealed with this box's key until it dies (adopted) or comes back (returned)",
    sql: `
      CREATE TABLE callback_held (
        id            TEXT PRIMARY KEY,                   -- the request's id on its home box (kept when adopted)
        home          TEXT NOT NULL,                      -- the home box's name (cluster.boxName there)
        group_id      TEXT NOT NULL,
        number_sealed TEXT NOT NULL,                      -- the caller's URI, sealed with THIS box's key (name callback:<id>)
        requested_at  INTEGER NOT NULL,
        queued_at     INTEGER NOT NULL,
        state         TEXT NOT NULL DEFAULT 'held' CHECK (state IN ('held', 'closed', 'adopted', 'returned')),
        updated_at    INTEGER NOT NULL
      );
      CREATE INDEX callback_held_home ON callback_held (home, state);
    `,
  },
  {
    version: 21,
    name: 'e-mail cases (conversations/emailThreads.ts): the Message-ID hashes that keep a thread in its case, and where a reply goes (sealed)',
    sql: `
      CREATE TABLE email_threads (
        message_hash    TEXT PRIMARY KEY,                 -- SHA-256 of a Message-ID seen in or sent from the case (never the id itself)
        conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        at              INTEGER NOT NULL
      );
      CREATE INDEX email_threads_conversation ON email_threads (conversation_id);

      CREATE TABLE email_cases (
        conversation_id TEXT PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
        mailbox         TEXT NOT NULL,                    -- the box's own address the customer wrote to (configuration, not personal)
        reply_sealed    TEXT NOT NULL,                    -- the customer's address and the ids a reply threads under, sealed (privacy/secrets.ts)
        updated_at      INTEGER NOT NULL
      );
    `,
  },
  {
    version: 22,
    name: "one customer across channels (customers/customerRepo.ts): verified hashed identifiers, verified links of chats and e-mail cases, agents' merges and attaches (undone exactly)",
    sql: `
      CREATE TABLE customers (
        id              TEXT PRIMARY KEY,
        created_at      INTEGER NOT NULL
      );
      CREATE TABLE customer_identifiers (
        kind            TEXT NOT NULL CHECK (kind IN ('phone', 'email', 'customerId')),
        hash            TEXT NOT NULL,                    -- salted hash as calls.caller_hash / conversations.*_hash (never the value)
        customer_id     TEXT NOT NULL REFERENCES customers (id),
        source          TEXT NOT NULL CHECK (source IN ('network', 'token', 'agent')), -- how it was verified
        at              INTEGER NOT NULL,
        PRIMARY KEY (kind, hash)
      );
      CREATE INDEX customer_identifiers_customer ON customer_identifiers (customer_id);
      CREATE TABLE customer_conversations (
        conversation_id TEXT PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
        customer_id     TEXT NOT NULL REFERENCES customers (id),
        source          TEXT NOT NULL CHECK (source IN ('token', 'agent')), -- a site's signed identity token, or an agent's attach
        at              INTEGER NOT NULL
      );
      CREATE INDEX customer_conversations_customer ON customer_conversations (customer_id);
      CREATE TABLE customer_merges (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        kind            TEXT NOT NULL CHECK (kind IN ('merge', 'attach')),
        from_customer   TEXT,                             -- merge: the customer merged away; attach: the chat's customer before (or null)
        into_customer   TEXT NOT NULL,
        moved_json      TEXT NOT NULL,                    -- exactly what moved (identifier kinds+hashes, conversation ids): unmerge moves these back
        agent           TEXT NOT NULL,
        at              INTEGER NOT NULL,
        undone_at       INTEGER,
        undone_by       TEXT
      );
    `,
  },
  {
    version: 24,
    name: 'chat analysis (conversations/conversationAnalysis.ts): sentiment of each message, and at close the sentiment, QA scorecard and summary of the conversation',
    sql: `
      CREATE TABLE conversation_message_sentiment (
        conversation_id TEXT NOT NULL,
        seq             INTEGER NOT NULL,
        label           TEXT NOT NULL CHECK (label IN ('positive', 'neutral', 'negative')),
        compound        REAL NOT NULL,                    -- VADER compound, -1 .. 1 (scores only, never the words)
        PRIMARY KEY (conversation_id, seq),
        FOREIGN KEY (conversation_id, seq) REFERENCES conversation_messages (conversation_id, seq) ON DELETE CASCADE
      );

      CREATE TABLE conversation_analysis (
        conversation_id  TEXT PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
        channel          TEXT NOT NULL,
        sentiment_label  TEXT CHECK (sentiment_label IN ('positive', 'neutral', 'negative')), -- null: no scored message
        sentiment_json   TEXT NOT NULL,                   -- the customer's mean and last, counts per label
        qa_score         REAL,                            -- null: no rule applied
        qa_passed        INTEGER,
        qa_rules_version INTEGER NOT NULL,
        qa_json          TEXT NOT NULL,                   -- the scorecard (rule outcomes, audio rules 'na'; hits as offsets)
        summary_outcome  TEXT NOT NULL,
        summary_json     TEXT NOT NULL,                   -- the summary (redacted excerpts only)
        created_at       INTEGER NOT NULL
      );
      CREATE INDEX conversation_analysis_created ON conversation_analysis (created_at);
    `,
  },
  {
    version: 25,
    name: 'files visitors send in chats (conversations/chatFiles.ts, off unless chat.uploads.enabled): kept on the box, each with the message that shows it',
    sql: `
      CREATE TABLE conversation_files (
        id              TEXT PRIMARY KEY,                 -- random (128 bits): the download names it
        conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        name            TEXT NOT NULL,                    -- the file name as sent, cleaned and redacted
        type            TEXT NOT NULL,                    -- one of chat.uploads.types, checked against the first bytes
        bytes           INTEGER NOT NULL,
        sha256          TEXT NOT NULL,
        data            BLOB NOT NULL,
        created_at      INTEGER NOT NULL
      );
      CREATE INDEX conversation_files_conversation ON conversation_files (conversation_id);
      CREATE INDEX conversation_files_created ON conversation_files (created_at);
    `,
  },
  {
    version: 26,
    name: 'QA of chats and e-mail cases: supervisor overrides of a conversation result or a rule outcome (with reason), the effective score beside the original',
    sql: `
      ALTER TABLE conversation_analysis ADD COLUMN effective_score REAL;   -- after overrides; = qa_score when none
      ALTER TABLE conversation_analysis ADD COLUMN effective_passed INTEGER;
      ALTER TABLE conversation_analysis ADD COLUMN overridden INTEGER NOT NULL DEFAULT 0;
      UPDATE conversation_analysis SET effective_score = qa_score, effective_passed = qa_passed;

      CREATE TABLE conversation_qa_overrides (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        rule_id         TEXT,                             -- NULL: the conversation's result
        outcome         TEXT NOT NULL CHECK (outcome IN ('pass', 'fail', 'na')),
        reason          TEXT NOT NULL,
        author          TEXT NOT NULL,
        at              INTEGER NOT NULL                  -- unix ms
      );
      CREATE INDEX conversation_qa_overrides_conversation ON conversation_qa_overrides (conversation_id, id);
    `,
  },
  {
    version: 27,
    name: "callback offers: a caller who hangs up before answering is kept as answer 'hung-up' (acd/callbackOffer.ts), not left unanswered",
    sql: `
      CREATE TABLE callback_offers_v27 (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        call_id   TEXT REFERENCES calls (id) ON DELETE SET NULL,
        group_id  TEXT NOT NULL,
        at        INTEGER NOT NULL,                   -- unix ms the offer started
        answer    TEXT CHECK (answer IN ('accepted', 'declined', 'none', 'hung-up')) -- null: not answered yet
      );
      INSERT INTO callback_offers_v27 (id, call_id, group_id, at, answer) SELECT id, call_id, group_id, at, answer FROM callback_offers;
      DROP TABLE callback_offers;
      ALTER TABLE callback_offers_v27 RENAME TO callback_offers;
      CREATE INDEX callback_offers_at ON callback_offers (at);
    `,
  },
];
