import type { RunStore } from './run-store';

/** Called with records a store wrote first (any process's writes), a batch of one run at a time; as JSON gives them: check before use. */
export type PushedRecordsListener = (runId: string, records: readonly unknown[]) => void;

/** A listener's registration with a {@link RecordPusher}. */
export interface RecordWatch {
  /** Stops calling the listener. */
  close(): void;
}

/**
 * Internal (not in API.md): a store that pushes each record it writes first (the record a
 * `recordSteps` answers `recorded` for, as the store holds it for good) to whoever watches,
 * as part of the write (RedisRunStore: a PUBLISH in the script that writes them). Best effort:
 * a watcher that was not connected misses pushes and reads the records instead. A distributed
 * caller settles steps from the pushes without reading their records; workers take a record
 * that readies a step into their view of the run.
 */
export interface RecordPusher {
  /** Calls `listener` with the records pushed from now on; resolves once it listens. */
  watchRecords(listener: PushedRecordsListener): Promise<RecordWatch>;
}

/** The store pushes the records it writes ({@link RecordPusher}). */
export function pushesRecords(store: RunStore): store is RunStore & RecordPusher {
  return typeof (store as Partial<RecordPusher>).watchRecords === 'function';
}
