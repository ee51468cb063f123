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
  // The first attempt goes straight to the store (a chain writes once per step: no retry
  // machinery unless it fails); a failure other than a store's verdict enters the bounded retries.
  let first: Promise<T>;
  try {
    first = Promise.resolve(call());
  } catch (error) {
    first = Promise.reject(error);
  }
  return first.catch((error: unknown) => {
    if (FastroAIError.isInstance(error)) throw error;
    const policy = { storeName: storeNameOf(store), attempts: 3, firstDelayMs: 100, isTransient: (thrown: unknown) => !FastroAIError.isInstance(thrown) };
    return new Promise((resolve) => setTimeout(resolve, 50)).then(() => retryStoreCall(policy, runId, call));
  });
}
