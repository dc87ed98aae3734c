/**
 * The one error registry of the appliance.
 *
 * Every error the appliance raises on purpose is an `EdgeVoxError` with a stable `code` from
 * `ERROR_CODES`. The HTTP layer maps errors to responses in exactly one place (api/errors.ts) by
 * reading `httpStatus`; the CLI maps them to exit codes by reading `exitCode`.
 * Add new codes here, never inline: a test checks that codes are unique and documented.
 */

export interface ErrorSpec {
  /** One-line description for the error reference in README / OpenAPI. */
  readonly description: string;
  /** HTTP status when the error reaches the API. */
  readonly httpStatus: number;
  /** Process exit code when the error ends a CLI command (2 = usage/config, 1 = runtime). */
  readonly exitCode: number;
  /** True when retrying the same operation later may succeed (I/O, busy peers). */
  readonly retryable: boolean;
}

function spec(description: string, httpStatus: number, exitCode = 1, retryable = false): ErrorSpec {
  return { description, httpStatus, exitCode, retryable };
}

export const ERROR_CODES = {
  // configuration and CLI
  EVX_ERR_CONFIG_INVALID: spec('A configuration value is missing, unknown or of the wrong type', 400, 2),
  EVX_ERR_CONFIG_FILE: spec('The configuration file cannot be read or parsed', 400, 2),
  EVX_ERR_CLI_USAGE: spec('The command line is not understood', 400, 2),
  EVX_ERR_PORT_IN_USE: spec('A listening port is already in use', 500, 2),
  EVX_ERR_DATA_DIR: spec('The data directory cannot be created or written', 500, 2),
  // store
  EVX_ERR_STORE_OPEN: spec('The SQLite store cannot be opened', 500, 1),
  EVX_ERR_STORE_MIGRATION: spec('A store migration failed; the database was left at its previous version', 500, 1),
  EVX_ERR_STORE_WRITE: spec('A write to the store failed (disk full, I/O error)', 503, 1, true),
  EVX_ERR_STORE_CONSTRAINT: spec('A write violated a store constraint (duplicate or missing record); retrying cannot help', 409, 1),
  EVX_ERR_STORE_NEWER_SCHEMA: spec('The database was written by a newer EdgeVox version', 500, 1),
  // models
  EVX_ERR_MODEL_MANIFEST: spec('The model manifest is missing or malformed', 500, 1),
  EVX_ERR_MODEL_SOURCE_MISSING: spec('A model file is missing from the models directory', 500, 1),
  EVX_ERR_MODEL_HASH_MISMATCH: spec('A model file does not match its sha256 in the manifest', 500, 1),
  EVX_ERR_MODEL_NOT_ACTIVE: spec('No verified version of a required model is active', 503, 1),
  EVX_ERR_MODEL_LOAD: spec('An ONNX model could not be loaded by onnxruntime', 500, 1),
  EVX_ERR_MODEL_CONTRACT: spec('An ONNX model does not have the inputs/outputs/metadata its family requires', 500, 1),
  // inference
  EVX_ERR_PROVIDER_UNAVAILABLE: spec('No configured onnxruntime execution provider could be loaded', 500, 1),
  EVX_ERR_INFERENCE_FAILED: spec('An inference call failed', 500, 1, true),
  // audio input
  EVX_ERR_AUDIO_FORMAT: spec('The audio is not in a supported format', 400, 1),
  EVX_ERR_AUDIO_TRUNCATED: spec('The audio file is truncated or its header is inconsistent', 400, 1),
  EVX_ERR_STREAM_CLOSED: spec('The recognition stream is already closed', 409, 1),
  // speech recognition (asr/, audio/, vad/)
  EVX_ERR_ASR_PHRASE: spec('A hotword or keyword phrase cannot be tokenized with the model vocabulary', 400, 2),
  EVX_ERR_ASR_MODEL_DIR: spec('The ASR model directory lacks an encoder, decoder, joiner or tokens file', 500, 2),
  EVX_ERR_ASR_HANZI_DATA: spec(
    'The pinyin-to-character data (sunpinyin lm_sc.t3g language model or pydict_sc.bin lexicon) is missing, truncated or corrupt',
    500,
    2,
  ),
  // ASR worker pool (appliance/asr/pool)
  EVX_ERR_ASR_WORKER_EXITED: spec(
    'A speech recognition worker thread stopped; its streams lost buffered audio and continue on a restarted worker',
    500,
    1,
    true,
  ),
  EVX_ERR_ASR_WORKER_HUNG: spec(
    'A speech recognition worker thread stopped answering; it was ended, its streams lost buffered audio and continue on a restarted worker',
    500,
    1,
    true,
  ),
  EVX_ERR_ASR_FLUSH_TIMEOUT: spec(
    "A speech recognition worker did not answer a stream's flush in time; the stream is closed without its last words",
    504,
    1,
  ),
  // HTTP API
  EVX_ERR_NOT_FOUND: spec('The requested resource does not exist', 404, 1),
  EVX_ERR_BAD_REQUEST: spec('The request is malformed or fails validation', 400, 1),
  EVX_ERR_NOT_READY: spec('The appliance is not ready', 503, 1, true),
  EVX_ERR_SHUTTING_DOWN: spec('The appliance is shutting down', 503, 1, true),
  EVX_ERR_INTERNAL: spec('An unexpected internal error', 500, 1),
  // knowledge base for agent assist (appliance/assist)
  EVX_ERR_KB_ENCODING: spec('A knowledge upload is not UTF-8 text (invalid byte sequence or NUL characters)', 400, 1),
  EVX_ERR_KB_TOO_LARGE: spec('A knowledge upload exceeds the size limit (2 MiB per upload)', 413, 1),
  EVX_ERR_KB_CSV: spec(
    'A knowledge CSV upload is malformed (unclosed quote, stray quote, ragged row, missing question/answer header)',
    400,
    1,
  ),
  EVX_ERR_KB_ARTICLE: spec('A knowledge article is invalid (no title or text, too long, bad id, language, tags or intents)', 400, 1),
  EVX_ERR_ASSIST_CARD_NOT_FOUND: spec('No such knowledge card was shown on this call (feedback names a card the agent was pushed)', 404, 1),
  // intent and emotion models
  EVX_ERR_EMOTION_AUDIO_TOO_SHORT: spec('The utterance is too short or silent for emotion analysis', 400, 1),
  EVX_ERR_INTENT_SIDECAR: spec('The intent model sidecar JSON is missing, malformed or does not match the ONNX model', 500, 1),
  // SIP / RTP media termination (appliance/sip, appliance/sdp, appliance/rtp, appliance/telephony)
  EVX_ERR_SIP_PARSE: spec('A SIP message is malformed (start line, header, framing)', 400, 1),
  EVX_ERR_SIP_TOO_LARGE: spec('A SIP message exceeds a configured size or count limit', 413, 1),
  EVX_ERR_SIP_TRANSPORT: spec('A SIP transport (UDP/TCP socket) failed to bind, send or connect', 503, 1, true),
  EVX_ERR_SIP_TRANSACTION_TIMEOUT: spec('A SIP transaction got no final response in time (Timer B/F)', 504, 1, true),
  EVX_ERR_SIP_REQUEST_FAILED: spec('A SIP request sent by the appliance was answered with a failure response', 502, 1, true),
  EVX_ERR_SIP_CLOSED: spec('The SIP server or call is already closed', 409, 1),
  EVX_ERR_SIP_CALL_NOT_FOUND: spec('No active call has the given id', 404, 1),
  EVX_ERR_SDP_PARSE: spec('An SDP body is malformed', 400, 1),
  EVX_ERR_SDP_NO_COMMON_CODEC: spec('The SDP offer has no audio codec the appliance supports', 400, 1),
  EVX_ERR_SDP_ADDRESS: spec(
    'The SDP names a media address the appliance does not send to (a host name, a multicast or broadcast address)',
    400,
    1,
  ),
  EVX_ERR_SDP_SRTP: spec(
    'The SDP offer and the media-encryption policy do not agree (SRTP required, disabled, or no usable crypto)',
    400,
    1,
  ),
  EVX_ERR_SIPREC_METADATA: spec('A SIPREC body (multipart or rs-metadata XML) is malformed', 400, 1),
  EVX_ERR_RTP_PARSE: spec('An RTP or RTCP packet is malformed', 400, 1),
  EVX_ERR_RTP_PORTS_EXHAUSTED: spec('No free RTP port pair is left in the configured range', 503, 1, true),
  EVX_ERR_CODEC_UNSUPPORTED: spec('The audio codec is not supported', 400, 1),
  EVX_ERR_SRTP_KEY: spec(
    'An SRTP master key or salt does not have the length its crypto suite requires, or a key has protected as many packets as it may',
    500,
    1,
  ),
  // conversations: web chat and e-mail cases (appliance/conversations)
  EVX_ERR_CHAT_NOT_FOUND: spec("No such conversation, or it is not this visitor's or agent's", 404, 1),
  EVX_ERR_CHAT_CLOSED: spec('The conversation is closed; start a new one', 409, 1),
  EVX_ERR_CHAT_PROTOCOL: spec('A chat socket message is malformed, too large or not allowed in this state', 400, 1),
  EVX_ERR_CHAT_ORIGIN: spec('The chat socket was opened from an origin the site does not allow (chat.allowedOrigins)', 403, 1),
  EVX_ERR_CHAT_RATE_LIMITED: spec('Too many chat messages or sessions from this visitor or address; wait and retry', 429, 1, true),
  EVX_ERR_CHAT_UPLOAD_REFUSED: spec('File uploads in chat are not enabled on this box', 415, 1),
  EVX_ERR_CHAT_FILE_TYPE: spec('The file is not of a type chat.uploads.types accepts, or does not start like its type', 415, 1),
  EVX_ERR_CHAT_AGENT_FULL: spec('The agent already holds the most chats allowed (chat.maxChatsPerAgent)', 409, 1),
  EVX_ERR_CHAT_TAKEN: spec('Another agent took the chat first', 409, 1),
  // customers across channels (appliance/customers)
  EVX_ERR_CUSTOMER_IDENTITY: spec(
    "A site's identity token is malformed, not signed with chat.identitySecret, expired, or none is configured",
    401,
    1,
  ),
  EVX_ERR_CUSTOMER_NOT_FOUND: spec('No such customer, conversation or merge', 404, 1),
  EVX_ERR_CUSTOMER_MERGE: spec(
    'The merge cannot be made or undone: same customer, already undone, or a later merge moved its items (undo that first)',
    409,
    1,
  ),
  EVX_ERR_EMAIL_CASE_NOT_FOUND: spec('No such e-mail case', 404, 1),
  EVX_ERR_EMAIL_NO_ADDRESS: spec('The e-mail case has no address to reply to (its mail named no sender)', 409, 1),
  EVX_ERR_EMAIL_RELAY_OFF: spec('Replies need an SMTP relay (email.relay.host) and it is not configured', 503, 1),
  EVX_ERR_EMAIL_SEND: spec('The SMTP relay did not take the reply (refused, unreachable or timed out); nothing was stored', 502, 1, true),
  // WebRTC media plane (appliance/webrtc, native/mediasoup)
  EVX_ERR_WEBRTC_WORKER_MISSING: spec('The mediasoup worker binary is not built (run make setup or native/mediasoup/build.sh)', 500, 2),
  EVX_ERR_WEBRTC_WORKER_DIED: spec('A mediasoup worker process died; its calls were closed', 503, 1, true),
  EVX_ERR_WEBRTC_MEDIA: spec('A mediasoup request (router, transport, producer, consumer) failed', 500, 1),
  EVX_ERR_WEBRTC_CLOSED: spec('The media plane, call or transport is already closed', 409, 1),
  EVX_ERR_WEBRTC_AUTH: spec('The WebRTC signalling token is missing, invalid or expired', 401, 1),
  EVX_ERR_WEBRTC_SIGNALLING: spec('A WebRTC signalling message is malformed or not allowed in this state', 400, 1),
  EVX_ERR_WEBRTC_NEGOTIATION: spec('The WebRTC peer could not negotiate or connect (SDP, ICE, DTLS)', 502, 1, true),
  // web console: auth, TLS, backups, self-test (appliance/auth, appliance/console)
  EVX_ERR_AUTH_REQUIRED: spec('The request needs a console session or an API token', 401, 1),
  EVX_ERR_AUTH_FAILED: spec('Wrong username or password, or an invalid or expired token', 401, 1),
  EVX_ERR_AUTH_LOCKED: spec('The account is locked after repeated bad passwords; wait and retry', 423, 1, true),
  EVX_ERR_AUTH_RATE_LIMITED: spec('Too many login attempts from this client; wait and retry', 429, 1, true),
  EVX_ERR_FORBIDDEN: spec('The signed-in role may not do this', 403, 1),
  EVX_ERR_CSRF: spec('A state-changing request lacks the session-bound CSRF token (x-csrf-token header)', 403, 1),
  EVX_ERR_SETUP_DONE: spec('First-boot setup is already complete', 409, 1),
  EVX_ERR_BACKUP_INVALID: spec('A backup file is malformed, from an unknown format, or the passphrase is wrong', 400, 1),
  EVX_ERR_TLS_CERT: spec('A TLS certificate or key is malformed, expired or does not match', 400, 1),
  EVX_ERR_SELF_TEST: spec('The self-test call could not be placed or produced no transcript', 502, 1, true),
  // routing, caller profiles, alerts (appliance/routing, appliance/profiles, appliance/alerts)
  EVX_ERR_ROUTING_CONFIG: spec('The routing configuration is inconsistent (unknown group, duplicate id, intent in two groups)', 400, 1),
  EVX_ERR_ROUTING_TRANSFER: spec('The call could not be transferred to the chosen agent (REFER refused or no SIP call)', 502, 1, true),
  EVX_ERR_AGENT_STATE: spec(
    'The agent cannot change to that state now (on a call or ringing, or a state only calls set); its current state is in the details',
    409,
    1,
  ),
  EVX_ERR_ALERT_STATE: spec(
    'The alert cannot make this transition from its current state (acknowledge needs open; resolve and assign need open or acknowledged); its state is in the details',
    409,
    1,
  ),
  EVX_ERR_CALLBACK_STATE: spec('The callback request is no longer pending (cancelled or done); its state is in the details', 409, 1),
  EVX_ERR_FORECAST_SPECIAL_DAY_EXISTS: spec(
    'A forecast special day is already set for that date and skill group (change or delete that one); its id is in the details',
    409,
    1,
  ),
  EVX_ERR_SUPERVISION_STATE: spec(
    'The call cannot be supervised now (already supervised, the supervisor is busy or is its agent, or has no registered phone); why is in the details',
    409,
    1,
  ),
  EVX_ERR_OUTBOUND_REFUSED: spec(
    'A call out through a SIP trunk was refused before anything was sent (no trunk calls out, invalid number, not in the allow-list, hourly or concurrent cap); the reason is in the details',
    403,
    1,
  ),
  EVX_ERR_TRANSFER_TARGET: spec(
    'A transfer or agent SIP URI is malformed or points outside the networks and hosts callers may be sent to (sip.transferTargets)',
    400,
    1,
  ),
  // privacy, QA, aggregates sync, collector (appliance/privacy, qa, aggregates, sync, collector)
  EVX_ERR_SECRET: spec('A sealed secret cannot be opened (wrong key or name, tampered) or the store key file is invalid', 500, 1),
  EVX_ERR_QA_RULES: spec('A QA rule set is invalid (unknown rule kind, bad weight, duplicate id)', 400, 1),
  EVX_ERR_QA_SEMANTIC_UNAVAILABLE: spec(
    'The sentence-embedding model for semantic QA rules is not available (failed to load, worker ended); those rules fall back to exact phrases',
    503,
    1,
    true,
  ),
  EVX_ERR_SYNC_KEY: spec(
    'No signing key for upstream sync (upstream.enrollmentKey or the site Ed25519 key), or the collector key file is invalid',
    500,
    2,
  ),
  EVX_ERR_SYNC_UPLOAD: spec('An upload of aggregates to the upstream endpoint failed (network, timeout, 5xx)', 502, 1, true),
  EVX_ERR_SYNC_REJECTED: spec(
    'The upstream endpoint rejected a payload (signature or schema); it is kept and reported, not retried as is',
    502,
    1,
  ),
  EVX_ERR_SYNC_SIGNATURE: spec('A payload signature is missing or does not verify for its site', 401, 1),
  EVX_ERR_SYNC_PRIVACY_BUDGET: spec(
    'An aggregates window was withheld: with it, the windows of the budget period would spend more than sync.epsilonBudget',
    503,
    1,
  ),
  EVX_ERR_SYNC_PAYLOAD: spec('A sync payload does not match the aggregates schema', 400, 1),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The base class for every deliberate error of the appliance. */
export class EdgeVoxError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly exitCode: number;
  readonly retryable: boolean;
  /** Structured, PII-free details (a key name, a file name, a limit); safe to return over the API. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const s = ERROR_CODES[code];
    this.name = 'EdgeVoxError';
    this.code = code;
    this.httpStatus = s.httpStatus;
    this.exitCode = s.exitCode;
    this.retryable = s.retryable;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }
}

/** Shorthand used across modules: `throw evxError('EVX_ERR_AUDIO_FORMAT', '...')`. */
export function evxError(
  code: ErrorCode,
  message: string,
  options: { cause?: unknown; details?: Record<string, unknown> } = {},
): EdgeVoxError {
  return new EdgeVoxError(code, message, options);
}

export function isEdgeVoxError(err: unknown, code?: ErrorCode): err is EdgeVoxError {
  return err instanceof EdgeVoxError && (code === undefined || err.code === code);
}
