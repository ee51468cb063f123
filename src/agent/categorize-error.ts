import {
  APICallError,
  InvalidArgumentError,
  InvalidPromptError,
  JSONParseError,
  LoadAPIKeyError,
  LoadSettingError,
  NoObjectGeneratedError,
  NoSuchModelError,
  RetryError,
  TypeValidationError,
  UnsupportedFunctionalityError,
} from 'ai';
import { CostBudgetExceededError } from '../errors/cost-budget-exceeded-error';
import { ErrorCategory } from '../errors/error-category';
import { StepTimeoutError } from '../errors/step-timeout-error';
import { AgentTimeoutError } from './agent-timeout-error';

/** Error codes of Node's sockets and undici's fetch that mean the network, not the request, failed. */
const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ESOCKETTIMEDOUT',
]);

/**
 * Names of errors that mean the network, not the request, failed: `TimeoutError` (a timed-out
 * signal), and the connection errors of the OpenAI and Anthropic SDKs (no status, often no code),
 * for agents of your own built on them.
 */
const NETWORK_ERROR_NAMES: ReadonlySet<string> = new Set(['TimeoutError', 'APIConnectionError', 'APIConnectionTimeoutError']);

/** undici's own messages for a request that never got (all of) its answer: `fetch failed`, `terminated`. */
const NETWORK_TYPE_ERROR_MESSAGES: ReadonlySet<string> = new Set(['fetch failed', 'terminated']);

/** Provider error codes (OpenAI's `insufficient_quota`, …) that mean the account ran out, not a momentary limit. */
const QUOTA_ERROR_CODES: ReadonlySet<string> = new Set(['insufficient_quota', 'billing_hard_limit_reached', 'quota_exceeded']);

/** How deep `cause` chains are followed (a cycle must not loop forever). */
const MAX_CAUSE_DEPTH = 5;

/**
 * The {@link ErrorCategory} of a failed model call, which decides whether `ctx.run` retries it.
 *
 * - `TRANSIENT` (worth retrying): network errors (a socket or DNS `code` such as `ECONNRESET`
 *   on the error or its causes, undici's `fetch failed` / `terminated`, the OpenAI and Anthropic
 *   SDKs' `APIConnectionError`), timeouts (`AgentTimeoutError`, `StepTimeoutError`, a
 *   `TimeoutError`, `APIConnectionTimeoutError`), HTTP 408, 409, 429 and 5xx, or an AI SDK
 *   `APICallError` that says `isRetryable`.
 * - `PERMANENT` (the same request fails again): other HTTP 4xx (400, 401 "Incorrect API key",
 *   403, 404, 422, …), a missing API key or setting (`LoadAPIKeyError`, `LoadSettingError`), an
 *   answer that fails its schema (`NoObjectGeneratedError`, `TypeValidationError`,
 *   `JSONParseError`), and requests the SDK refuses to build (`InvalidArgumentError`,
 *   `InvalidPromptError`, `UnsupportedFunctionalityError`, `NoSuchModelError`).
 * - `RESOURCE_EXHAUSTION` (money or quota ran out; waiting seconds does not help): a 429 whose
 *   body names an exhausted quota (OpenAI's `insufficient_quota`), and `CostBudgetExceededError`.
 * - `UNKNOWN`: anything else, e.g. a plain `Error` from a hand-written agent (`ctx.run` retries
 *   only `TRANSIENT` errors: give your own a `status` or a network `code` to have it retried).
 *
 * The AI SDK's errors are recognized with their `isInstance` helpers (they work across copies of
 * the SDK); other errors by an HTTP `status`/`statusCode` field or a network `code`, on the
 * error or its `cause` chain. An SDK `RetryError` (its own retries, with `maxRetries`) is
 * categorized by its last error.
 */
export function categorizeError(error: unknown): ErrorCategory {
  return categorizeAt(error, 0);
}

function categorizeAt(error: unknown, depth: number): ErrorCategory {
  if (typeof error !== 'object' || error === null || depth > MAX_CAUSE_DEPTH) return ErrorCategory.UNKNOWN;
  if (RetryError.isInstance(error)) return categorizeAt(error.lastError, depth + 1);
  if (CostBudgetExceededError.isInstance(error)) return ErrorCategory.RESOURCE_EXHAUSTION;
  if (AgentTimeoutError.isInstance(error) || StepTimeoutError.isInstance(error)) return ErrorCategory.TRANSIENT;
  if (
    LoadAPIKeyError.isInstance(error) ||
    LoadSettingError.isInstance(error) ||
    NoObjectGeneratedError.isInstance(error) ||
    TypeValidationError.isInstance(error) ||
    JSONParseError.isInstance(error) ||
    InvalidArgumentError.isInstance(error) ||
    InvalidPromptError.isInstance(error) ||
    UnsupportedFunctionalityError.isInstance(error) ||
    NoSuchModelError.isInstance(error)
  ) {
    return ErrorCategory.PERMANENT;
  }
  if (APICallError.isInstance(error)) {
    const byStatus = error.statusCode === undefined ? undefined : categorizeStatus(error.statusCode, error.responseBody ?? error.data);
    if (byStatus !== undefined) return byStatus;
    // No status: the request never got an answer (the SDK's "Cannot connect to API").
    return error.isRetryable ? ErrorCategory.TRANSIENT : categorizeAt(error.cause, depth + 1);
  }
  const fields = error as { status?: unknown; statusCode?: unknown; code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
  const status = typeof fields.statusCode === 'number' ? fields.statusCode : typeof fields.status === 'number' ? fields.status : undefined;
  if (status !== undefined) {
    const byStatus = categorizeStatus(status, error);
    if (byStatus !== undefined) return byStatus;
  }
  if (typeof fields.code === 'string' && NETWORK_ERROR_CODES.has(fields.code)) return ErrorCategory.TRANSIENT;
  if (typeof fields.name === 'string' && NETWORK_ERROR_NAMES.has(fields.name)) return ErrorCategory.TRANSIENT;
  const byCause = categorizeAt(fields.cause, depth + 1);
  // A bare `fetch failed` (its cause without a code) is still a request that got no answer. By
  // name, not `instanceof`: fetch's errors come from Node's own realm (another one under jest).
  if (byCause === ErrorCategory.UNKNOWN && fields.name === 'TypeError' && typeof fields.message === 'string' && NETWORK_TYPE_ERROR_MESSAGES.has(fields.message)) {
    return ErrorCategory.TRANSIENT;
  }
  return byCause;
}

/** The category of an HTTP status; `undefined` when the status says nothing (2xx, 3xx, 1xx). */
function categorizeStatus(status: number, body: unknown): ErrorCategory | undefined {
  if (status === 429) return namesExhaustedQuota(body) ? ErrorCategory.RESOURCE_EXHAUSTION : ErrorCategory.TRANSIENT;
  if (status === 408 || status === 409 || status >= 500) return ErrorCategory.TRANSIENT;
  if (status >= 400) return ErrorCategory.PERMANENT;
  return undefined;
}

/** True when a 429's body names an exhausted quota rather than a rate limit (`{ error: { code: 'insufficient_quota' } }`). */
function namesExhaustedQuota(body: unknown): boolean {
  if (typeof body === 'string') {
    for (const code of QUOTA_ERROR_CODES) if (body.includes(code)) return true;
    return false;
  }
  if (typeof body !== 'object' || body === null) return false;
  const inner = (body as { error?: unknown }).error;
  const fields = (typeof inner === 'object' && inner !== null ? inner : body) as { code?: unknown; type?: unknown };
  return (typeof fields.code === 'string' && QUOTA_ERROR_CODES.has(fields.code)) || (typeof fields.type === 'string' && QUOTA_ERROR_CODES.has(fields.type));
}
