import { systemClock, type Clock } from '../clock/clock';
import { FastroAIError } from '../errors/fastroai-error';
import { StoreUnavailableError } from '../errors/store-unavailable-error';
import { retryStoreCall } from '../store/retry-store-call';
import type { RunStore } from '../store/run-store';

/** The name a store goes by in messages. */
export function storeNameOf(store: RunStore): string {
  return store.name ?? store.constructor?.name ?? 'run store';
}

/**
 * The engine's call into a store: whatever store it is (a user's own included), a failure is
 * retried a bounded number of times (4 attempts, waits of 50, 100, 200 ms), then the run
 * rejects with `StoreUnavailableError` naming the store and the run; so does a call with no
 * answer within {@link STORE_CALL_DEADLINE_MS}. The store's own verdicts
 * (fastroai errors: RunLockedError, RunLeaseLostError, …, and a StoreUnavailableError it raised
 * after its own retries) pass through at once.
 */
export function callStore<T>(store: RunStore, runId: string, call: () => Promise<T>, clock: Clock = systemClock): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // A store that never answers (a user's own, without timeouts of its own) fails the call.
    const deadline = clock.setTimeout(() => {
      reject(new StoreUnavailableError(storeNameOf(store), runId, new Error(`no answer within ${STORE_CALL_DEADLINE_MS / 1000} s`)));
    }, STORE_CALL_DEADLINE_MS);
    const settle =
      <V>(done: (value: V) => void) =>
      (value: V) => {
        clock.clearTimeout(deadline);
        done(value);
      };
    callStoreThen(store, runId, call, settle(resolve), settle(reject));
  });
}

/**
 * How long {@link callStore} waits for a store's answer, its retries included. The stores of
 * fastroai answer sooner, by their own timeouts (a Redis command, a PostgreSQL query, SQLite's
 * busy timeout), retries included.
 */
export const STORE_CALL_DEADLINE_MS = 60_000;

/**
 * {@link callStore} with its outcome handed to `onValue` or `onError` instead of a promise:
 * a promise less is a microtask less.
 */
export function callStoreThen<T>(store: RunStore, runId: string, call: () => Promise<T>, onValue: (value: T) => void, onError: (error: unknown) => void): void {
  new StoreCall(store, runId, call, onValue, onError).start();
}

/**
 * One store call made again and again ({@link callStoreThen}'s, reusable): the path of every
 * step record, which makes it once per run and then allocates nothing per call but the call's
 * own promise and its reaction. The first attempt goes straight to the store (a chain writes
 * once per step: no retry machinery unless it fails); a failure other than a store's verdict
 * enters the bounded retries. Start it again only once it answered.
 */
export class StoreCall<T> {
  constructor(
    private readonly store: RunStore,
    private readonly runId: string,
    private readonly call: () => Promise<T>,
    private readonly onValue: (value: T) => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    let first: Promise<T>;
    try {
      first = Promise.resolve(this.call());
    } catch (error) {
      first = Promise.reject(error);
    }
    first.then(this.onValue, this.firstFailed);
  }

  private readonly firstFailed = (error: unknown): void => {
    if (FastroAIError.isInstance(error)) {
      this.onError(error);
      return;
    }
    const policy = { storeName: storeNameOf(this.store), attempts: 3, firstDelayMs: 100, isTransient: (thrown: unknown) => !FastroAIError.isInstance(thrown) };
    new Promise((resolve) => setTimeout(resolve, 50)).then(() => retryStoreCall(policy, this.runId, this.call)).then(this.onValue, this.onError);
  };
}
