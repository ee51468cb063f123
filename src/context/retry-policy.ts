import { MAX_TIMER_SECONDS } from '../config/max-timer-seconds';
import { CostBudgetExceededError } from '../errors/cost-budget-exceeded-error';
import { DispatchSkippedError } from '../errors/dispatch-skipped-error';

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
 * capped at the longest wait a Node timer can hold (a longer one would fire at once).
 */
export function backoffSeconds(retryDelay: number, attempt: number): number {
  return Math.min(retryDelay * 2 ** (attempt - 1), MAX_TIMER_SECONDS);
}
