import { usageFieldsOf } from '../durable/durable-run';
import { EMPTY_STEP_USAGE } from '../usage/step-usage';
import type { StepRecord } from './run-store';

/** The error code of a {@link supersededRecord}. */
const SUPERSEDED = 'SUPERSEDED';

/**
 * A failed record that takes a step's generation away from a job of an earlier caller of the
 * run, which read outputs the run no longer has (a resume reran a step it read; see
 * QueueRunner.adopt): the job's late write is refused (first write wins), and the step runs at
 * the next generation. It was billed nothing, and ran no attempt.
 */
export function supersededRecord(stepId: string, generation: number, jobId: string, now: number): StepRecord {
  return {
    stepId,
    generation,
    status: 'failed',
    usage: usageFieldsOf(EMPTY_STEP_USAGE),
    attempts: 0,
    startedAt: now,
    endedAt: now,
    error: { name: 'FastroAIError', code: SUPERSEDED, message: `superseded: a resume of the run reran a step whose output job '${jobId}' read` },
  };
}

/** True for a {@link supersededRecord}: history, not the step's state (the step runs, or ran, at a later generation). */
export function isSuperseded(record: StepRecord): boolean {
  return record.status === 'failed' && record.error?.code === SUPERSEDED;
}
