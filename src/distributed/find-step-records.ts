import { callStore } from '../durable/call-store';
import type { RunStore, StepRecord } from '../store/run-store';

/** A step record's key within its run. */
export interface StepRecordKey {
  stepId: string;
  generation: number;
}

/** Up to this many records are read one by one (`getStepRecord`); more, or a store without it, with one `getRun`. */
const SINGLE_READS_AT_MOST = 16;

/**
 * The records of the given steps of one run that the store holds, by `stepId@generation`,
 * retried as every engine call is: with the store's optional `getStepRecord` for a few (O(1)
 * each), else with one `getRun` (O(steps of the run)).
 */
export async function findStepRecords(store: RunStore, runId: string, keys: readonly StepRecordKey[]): Promise<Map<string, StepRecord>> {
  const found = new Map<string, StepRecord>();
  const getStepRecord = store.getStepRecord;
  if (getStepRecord !== undefined && keys.length <= SINGLE_READS_AT_MOST) {
    const records = await Promise.all(keys.map((key) => callStore(store, runId, () => getStepRecord.call(store, runId, key.stepId, key.generation))));
    records.forEach((record, i) => {
      if (record !== undefined) found.set(recordKeyOf(keys[i].stepId, keys[i].generation), record);
    });
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
