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
  // HTTP API
  EVX_ERR_NOT_FOUND: spec('The requested resource does not exist', 404, 1),
  EVX_ERR_BAD_REQUEST: spec('The request is malformed or fails validation', 400, 1),
  EVX_ERR_NOT_READY: spec('The appliance is not ready', 503, 1, true),
  EVX_ERR_SHUTTING_DOWN: spec('The appliance is shutting down', 503, 1, true),
  EVX_ERR_INTERNAL: spec('An unexpected internal error', 500, 1),
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
