import { CostBudgetExceededError } from '../errors/cost-budget-exceeded-error';
import { DispatchSkippedError } from '../errors/dispatch-skipped-error';
import { MAX_TIMER_MS } from '../config/max-timer-seconds';


/** The most seconds a `Retry-After` / `retry-after-ms` header may make a retry wait (API.md §2). */
export const MAX_RETRY_AFTER_SECONDS = 60;

/** Errors that already went through `ctx.run`'s retries: the step level must not retry them again. */
const exhausted = new WeakSet<object>();

/** Marks an error as final for the step level (it left `ctx.run` after its retries). */
export function markRetriesExhausted(error: unknown): unknown {
  if (typeof error === 'object' && error !== null) exhausted.add(error);
  return error;
}

/** Errors no level retries: budget refusals and dispatch skips. */
export function isNeverRetried(error: unknown): boolean {
  return CostBudgetExceededError.isInstance(error) || DispatchSkippedError.isInstance(error);
}

/** True when a failed step attempt may be retried at step level. */
export function isRetryableAtStepLevel(error: unknown): boolean {
  if (isNeverRetried(error)) return false;
  return !(typeof error === 'object' && error !== null && exhausted.has(error));
}

/**
 * Seconds to wait after failed attempt `attempt` (1-based): `retryDelay * 2 ** (attempt - 1)`,
 * capped at 2^31-1 ms (a longer timer would fire at once: see {@link MAX_TIMER_MS}).
 */
export function backoffSeconds(retryDelay: number, attempt: number): number {
  return Math.min(retryDelay * 2 ** (attempt - 1), MAX_TIMER_MS / 1000);
}

/**
 * Seconds to wait before retrying a model call: the backoff, or the server's `Retry-After`
 * when that is longer (itself capped at {@link MAX_RETRY_AFTER_SECONDS}).
 *
 * @param retryAfterSeconds what the failed response's headers asked for, if anything
 */
export function callRetryDelaySeconds(retryDelay: number, attempt: number, retryAfterSeconds: number | undefined): number {
  const backoff = backoffSeconds(retryDelay, attempt);
  if (retryAfterSeconds === undefined) return backoff;
  return Math.max(backoff, Math.min(retryAfterSeconds, MAX_RETRY_AFTER_SECONDS));
}
