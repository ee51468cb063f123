import { FastroAIError } from '../errors/fastroai-error';
import { retryStoreCall } from '../store/retry-store-call';
import type { RunStore } from '../store/run-store';

/** The name a store goes by in messages. */
export function storeNameOf(store: RunStore): string {
  return store.name ?? store.constructor?.name ?? 'run store';
}

/**
 * The engine's call into a store: whatever store it is (a user's own included), a failure is
 * retried a bounded number of times (4 attempts, waits of 50, 100, 200 ms), then the run
 * rejects with `StoreUnavailableError` naming the store and the run. The store's own verdicts
 * (fastroai errors: RunLockedError, RunLeaseLostError, …, and a StoreUnavailableError it raised
 * after its own retries) pass through at once.
 */
export function callStore<T>(store: RunStore, runId: string, call: () => Promise<T>): Promise<T> {
  return retryStoreCall({ storeName: storeNameOf(store), firstDelayMs: 50, isTransient: (error) => !FastroAIError.isInstance(error) }, runId, call);
}
