import type { RunRecord, StepRecord } from './run-store';

/** A copy of a run record that shares nothing mutable with it (encoded values are strings). */
export function copyRunRecord(run: RunRecord): RunRecord {
  const copy = { ...run };
  if (run.error !== undefined) copy.error = { ...run.error };
  return copy;
}

/** A copy of a step record that shares nothing mutable with it. */
export function copyStepRecord(record: StepRecord): StepRecord {
  const copy = { ...record, usage: { ...record.usage } };
  if (record.error !== undefined) copy.error = { ...record.error };
  return copy;
}
