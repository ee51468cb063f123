import { StoreUnavailableError } from '../errors/store-unavailable-error';

/** How a store retries a call that failed for a reason outside the caller's control. */
export interface TransientRetryPolicy {
  /** The store's name, for {@link StoreUnavailableError}. */
  storeName: string;
  /** Retries after the first attempt. */
  retries: number;
  /** The wait before retry `n` (1-based), in ms. */
  delayMs: (retry: number) => number;
  /** True for a failure worth retrying (a dropped connection); anything else is rethrown at once. */
  isTransient: (error: unknown) => boolean;
}

/**
 * Runs `attempt` and retries it, a bounded number of times, while it fails transiently; then
 * rejects with {@link StoreUnavailableError} naming the store and the run, the last failure as
 * its `cause`. A failure that is not transient (a refused write, a bad query) is rethrown as is.
 * `attempt` receives its 1-based number, so a write can tell a retry from a first try.
 */
export async function retryTransient<T>(policy: TransientRetryPolicy, runId: string | undefined, attempt: (attemptNumber: number) => Promise<T>): Promise<T> {
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      if (!policy.isTransient(error)) throw error;
      if (attemptNumber > policy.retries) throw new StoreUnavailableError(policy.storeName, runId, error);
      await new Promise<void>((resolve) => setTimeout(resolve, policy.delayMs(attemptNumber)));
    }
  }
}
