import type { RunStore, StepRecord } from '../src/store/run-store';

/** A store wrapped to count its `recordSteps` calls, and optionally to die after some records. */
export interface CountingStore {
  store: RunStore;
  /** `recordSteps` calls so far (store round trips for step records). */
  readonly recordCalls: number;
  /** The record batches passed to `recordSteps`, in order, when `keepRecords` was set. */
  readonly batches: StepRecord[][];
  /** Resolves when the store stopped answering (`crashAfterRecords` reached). */
  readonly crashed: Promise<void>;
}

/**
 * `store` behind a proxy that counts `recordSteps` calls. With `crashAfterRecords`, once that
 * many step records were acknowledged, every later call of any method never settles: to the
 * run, its process froze (a crash as the store sees it: nothing more is written, the lease is
 * no longer renewed).
 */
export function countingStore(store: RunStore, options: { keepRecords?: boolean; crashAfterRecords?: number } = {}): CountingStore {
  let recordCalls = 0;
  let records = 0;
  const batches: StepRecord[][] = [];
  let dead = false;
  let onCrash: () => void = () => undefined;
  const crashed = new Promise<void>((resolve) => {
    onCrash = resolve;
  });
  const never = new Promise<never>(() => undefined);
  const limit = options.crashAfterRecords ?? Infinity;
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (dead) return never;
        if (property === 'recordSteps') {
          const batch = args[2] as StepRecord[];
          if (records + batch.length > limit) {
            dead = true;
            onCrash();
            return never;
          }
          recordCalls++;
          records += batch.length;
          if (options.keepRecords) batches.push(batch);
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    store: proxy,
    get recordCalls() {
      return recordCalls;
    },
    get batches() {
      return batches;
    },
    crashed,
  };
}
