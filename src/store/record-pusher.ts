import type { RecordOutcome, RunStore, StepRecord } from './run-store';

/** Called with records a store wrote first (any process's writes), a batch of one run at a time; as JSON gives them: check before use. */
export type PushedRecordsListener = (runId: string, records: readonly unknown[]) => void;

/**
 * Tells whether a listener wants the pushes of run `runId`: those it does not want are not even
 * parsed for it (every watcher of a store hears every push of its keyspace).
 */
export type PushedRunFilter = (runId: string) => boolean;

/** A listener and its filter, as a store keeps them. */
export interface PushWatcher {
  readonly listener: PushedRecordsListener;
  readonly wants: PushedRunFilter | undefined;
}

/** A listener's registration with a {@link RecordPusher}. */
export interface RecordWatch {
  /** Stops calling the listener. */
  close(): void;
}

/**
 * Internal (not in API.md): a store that pushes each record it writes first (the record a
 * `recordSteps` answers `recorded` for, as the store holds it for good) to whoever watches,
 * as part of the write (RedisRunStore: a PUBLISH in the script that writes them;
 * PostgresRunStore: a NOTIFY in the statement, sent at commit). Best effort: a watcher that was
 * not connected misses pushes and reads the records instead. A distributed caller settles steps
 * from the pushes without reading their records; workers take a record that readies a step
 * into their view of the run.
 */
export interface RecordPusher {
  /** Calls `listener` with the records pushed from now on (of the runs `wants`, when given); resolves once it listens. */
  watchRecords(listener: PushedRecordsListener, wants?: PushedRunFilter): Promise<RecordWatch>;
  /**
   * `recordSteps`, telling which records were pushed as they were written (`pushed`: recorded,
   * and pushed): a store that pushes only some (too large ones are read) may offer it. A worker
   * then wakes the callers up for the others only.
   */
  recordStepsPushed?(runId: string, epoch: number, records: StepRecord[]): Promise<PushedRecordOutcome[]>;
}

/** A record's outcome from {@link RecordPusher.recordStepsPushed}: `pushed` is `recorded`, and pushed to the watchers with the write. */
export type PushedRecordOutcome = RecordOutcome | 'pushed';

/** How long a store whose pushes could not be watched is read instead before its pushes are watched again, in ms. */
export const WATCH_RETRY_MS = 5_000;

/** The store pushes the records it writes ({@link RecordPusher}). */
export function pushesRecords(store: RunStore): store is RunStore & RecordPusher {
  return typeof (store as Partial<RecordPusher>).watchRecords === 'function';
}

/** How every push starts: the run id (a JSON string) follows. */
const PUSH_START = '{"runId":';
/** What follows the run id (it cannot occur inside the JSON string: a quote in it is escaped). */
const RECORDS_START = ',"records":[';

/**
 * Calls the watchers that want the run of a push (`{"runId":…,"records":[…]}`) with its records,
 * parsed once, only when one wants them; a text that is not a push is ignored (anyone may publish
 * on the channel). A listener that throws does not keep the others from the push (nor breaks the
 * connection's reply handling).
 */
export function tellWatchers(watchers: Iterable<PushWatcher>, text: string): void {
  const runId = runIdOfPush(text);
  if (runId === undefined) return;
  let records: unknown[] | undefined;
  for (const { listener, wants } of watchers) {
    if (wants !== undefined && !wants(runId)) continue;
    records ??= recordsOfPush(text);
    if (records === undefined) return;
    try {
      listener(runId, records);
    } catch {
      // the listener's own failure
    }
  }
}

function runIdOfPush(text: string): string | undefined {
  if (!text.startsWith(PUSH_START)) return undefined;
  const end = text.indexOf(RECORDS_START, PUSH_START.length);
  if (end < 0) return undefined;
  try {
    const runId: unknown = JSON.parse(text.slice(PUSH_START.length, end));
    return typeof runId === 'string' ? runId : undefined;
  } catch {
    return undefined;
  }
}

function recordsOfPush(text: string): unknown[] | undefined {
  try {
    const push = JSON.parse(text) as { records?: unknown } | null;
    return typeof push === 'object' && push !== null && Array.isArray(push.records) ? push.records : undefined;
  } catch {
    return undefined;
  }
}

/** Adds a watcher to `watchers`: its watch's `close` takes it out, and calls `lastGone` when it was the last. */
export function addWatcher(watchers: Set<PushWatcher>, listener: PushedRecordsListener, wants: PushedRunFilter | undefined, lastGone: () => void): RecordWatch {
  const watcher: PushWatcher = { listener, wants };
  watchers.add(watcher);
  return {
    close: () => {
      if (watchers.delete(watcher) && watchers.size === 0) lastGone();
    },
  };
}
