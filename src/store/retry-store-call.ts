import { StoreUnavailableError } from '../errors/store-unavailable-error';

/** How a store retries a call that failed for a reason outside the caller's control. */
export interface StoreRetryPolicy {
  /** The store's name, for `StoreUnavailableError`. */
  storeName: string;
  /**
   * Attempts in all (the first one included).
   * @default 4
   */
  attempts?: number;
  /**
   * The wait before the second attempt, doubled before each later one.
   * @default 25
   */
  firstDelayMs?: number;
  /** True for a failure worth another attempt (a busy database, a dropped connection). */
  isTransient(error: unknown): boolean;
  /** True for a failure no retry can fix but that still means the store is unavailable (closed). */
  isUnavailable?(error: unknown): boolean;
}

/**
 * Runs a store call, retrying transient failures a bounded number of times with doubling
 * waits; then rejects with `StoreUnavailableError` (the last failure as its `cause`). Any other
 * error (RunLockedError, RunNotFoundError, …) passes through at once.
 */
export async function retryStoreCall<T>(policy: StoreRetryPolicy, runId: string | undefined, call: () => T | Promise<T>): Promise<T> {
  const attempts = policy.attempts ?? 4;
  let delayMs = policy.firstDelayMs ?? 25;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (policy.isUnavailable?.(error) === true) throw new StoreUnavailableError(policy.storeName, runId, error);
      if (!policy.isTransient(error)) throw error;
      if (attempt >= attempts) throw new StoreUnavailableError(policy.storeName, runId, error);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs *= 2;
    }
  }
}
