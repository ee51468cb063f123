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

/** A store's push as it travels (`{"runId":…,"records":[…]}`), or undefined when the text is not one (anyone may publish on the channel). */
export function parseRecordPush(text: string): { runId: string; records: unknown[] } | undefined {
  try {
    const push = JSON.parse(text) as { runId?: unknown; records?: unknown } | null;
    if (typeof push !== 'object' || push === null || typeof push.runId !== 'string' || !Array.isArray(push.records)) return undefined;
    return { runId: push.runId, records: push.records };
  } catch {
    return undefined;
  }
}

/** Calls each listener with a push; one that throws does not keep the others from it (nor breaks the connection's reply handling). */
export function tellListeners(listeners: Iterable<PushedRecordsListener>, text: string): void {
  const push = parseRecordPush(text);
  if (push === undefined) return;
  for (const listener of listeners) {
    try {
      listener(push.runId, push.records);
    } catch {
      // the listener's own failure
    }
  }
}
