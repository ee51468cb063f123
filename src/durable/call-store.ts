import { FastroAIError } from '../errors/fastroai-error';
import { StoreUnavailableError } from '../errors/store-unavailable-error';
import type { RunStore } from '../store/run-store';

/** Waits between attempts of a failing store call (ms): 3 retries, about 0.7 s in all. */
export const STORE_RETRY_DELAYS_MS: readonly number[] = [50, 200, 450];

/** The name a store goes by in messages. */
export function storeNameOf(store: RunStore): string {
  return store.name ?? store.constructor?.name ?? 'run store';
}

/**
 * Calls the store, retrying a failure a bounded number of times (a dropped connection, a busy
 * database), then rejects with `StoreUnavailableError` naming the store and the run. The
 * store's own verdicts (fastroai errors: RunLockedError, RunLeaseLostError, …, and a
 * StoreUnavailableError the store raised itself after its own retries) pass through at once.
 */
export async function callStore<T>(
  store: RunStore,
  runId: string,
  call: () => Promise<T>,
  delaysMs: readonly number[] = STORE_RETRY_DELAYS_MS,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (FastroAIError.isInstance(error)) throw error;
      if (attempt >= delaysMs.length) throw new StoreUnavailableError(storeNameOf(store), runId, error);
      await new Promise((resolve) => setTimeout(resolve, delaysMs[attempt]));
    }
  }
}
