import type { RunStore, StepRecord } from './run-store';

/** A step record's key within its run. */
export interface StepRecordKey {
  stepId: string;
  generation: number;
}

/**
 * Internal (not in API.md): a store that reads many step records of one run in one call. The
 * stores of this package have it; a distributed caller reads the steps a burst of completions
 * woke up with it (one round trip, or one read transaction), and falls back to `getStepRecord`
 * per key, or `getRun`, for a store without it.
 */
export interface StepRecordsReader {
  /** The records of `keys` in `runId`, in the order of `keys`, undefined where there is none (nor the run). */
  getStepRecords(runId: string, keys: readonly StepRecordKey[]): Promise<Array<StepRecord | undefined>>;
}

/** The store reads many records at once ({@link StepRecordsReader}). */
export function readsStepRecords(store: RunStore): store is RunStore & StepRecordsReader {
  return typeof (store as Partial<StepRecordsReader>).getStepRecords === 'function';
}
