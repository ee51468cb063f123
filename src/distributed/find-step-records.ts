import { callStore } from '../durable/call-store';
import type { RunStore, StepRecord } from '../store/run-store';
import { readsStepRecords, type StepRecordKey } from '../store/step-records-reader';

export type { StepRecordKey } from '../store/step-records-reader';

/** Records read by one `getStepRecords` call at most (one statement or script each). */
const RECORDS_PER_CALL = 1_000;

/** `getStepRecord` calls in flight at most for one lookup (a pool of a few connections serves them anyway). */
const SINGLE_READS_IN_FLIGHT = 64;

/**
 * The records of the given steps of one run that the store holds, by `stepId@generation`,
 * retried as every engine call is: with the internal `getStepRecords` of this package's stores
 * (one call per {@link RECORDS_PER_CALL} keys), else the store's optional `getStepRecord` (O(1)
 * each, at most {@link SINGLE_READS_IN_FLIGHT} at a time), else one `getRun` (O(steps of the run)).
 */
export async function findStepRecords(store: RunStore, runId: string, keys: readonly StepRecordKey[]): Promise<Map<string, StepRecord>> {
  const found = new Map<string, StepRecord>();
  if (readsStepRecords(store)) {
    for (let first = 0; first < keys.length; first += RECORDS_PER_CALL) {
      const chunk = keys.slice(first, first + RECORDS_PER_CALL);
      const records = await callStore(store, runId, () => store.getStepRecords(runId, chunk));
      records.forEach((record, i) => {
        if (record !== undefined) found.set(recordKeyOf(chunk[i].stepId, chunk[i].generation), record);
      });
    }
    return found;
  }
  const getStepRecord = store.getStepRecord;
  if (getStepRecord !== undefined) {
    for (let first = 0; first < keys.length; first += SINGLE_READS_IN_FLIGHT) {
      const chunk = keys.slice(first, first + SINGLE_READS_IN_FLIGHT);
      const records = await Promise.all(chunk.map((key) => callStore(store, runId, () => getStepRecord.call(store, runId, key.stepId, key.generation))));
      records.forEach((record, i) => {
        if (record !== undefined) found.set(recordKeyOf(chunk[i].stepId, chunk[i].generation), record);
      });
    }
    return found;
  }
  const wanted = new Set(keys.map((key) => recordKeyOf(key.stepId, key.generation)));
  const stored = await callStore(store, runId, () => store.getRun(runId));
  for (const record of stored?.steps ?? []) {
    const key = recordKeyOf(record.stepId, record.generation);
    if (wanted.has(key) && !found.has(key)) found.set(key, record);
  }
  return found;
}

/** `stepId@generation`. */
export function recordKeyOf(stepId: string, generation: number): string {
  return `${stepId}@${generation}`;
}
