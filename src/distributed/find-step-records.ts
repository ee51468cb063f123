import { callStore } from '../durable/call-store';
import type { RunStore, StepRecord } from '../store/run-store';

/** A step record's key within its run. */
export interface StepRecordKey {
  stepId: string;
  generation: number;
}

/**
 * The records of the given steps of one run that the store holds, by `stepId@generation`: one
 * `getRun` (the store contract has no narrower read), retried as every engine call is.
 */
export async function findStepRecords(store: RunStore, runId: string, keys: readonly StepRecordKey[]): Promise<Map<string, StepRecord>> {
  const wanted = new Set(keys.map((key) => recordKeyOf(key.stepId, key.generation)));
  const found = new Map<string, StepRecord>();
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
