import type { StepOutcome, StepTask, StepTaskDurability } from '../executor/run-step-task';
import type { StepJobData } from './step-job-data';

/** A step handed to the queue, until the store has its record (or its job failed). */
export interface WaitingStep {
  /** Its job's id (`runId-stepId-generation`): it changes with the generation. */
  jobId: string;
  readonly task: StepTask;
  /** The task's, at the generation the step runs at (a later one than the task's when moved: see QueueRunner.adopt). */
  durable: StepTaskDurability;
  /** Its job's data as this caller adds it (at the run's epoch as this caller holds it). */
  data: StepJobData;
  /**
   * Set while a resume adopts its job (QueueRunner.adopt): messages about the job are not taken
   * then; `missed` once one came (the record is read when the job is added).
   */
  adopting: 'adopting' | 'missed' | undefined;
  /** A failure of its job heard while it was being adopted (see `adopting`). */
  missedFailure?: { jobId: string; reason: string };
  readonly enqueuedAt: number;
  readonly resolve: (outcome: StepOutcome) => void;
  /** The job is in the queue (added, or found there: adopted). */
  added: boolean;
  /**
   * How far the run was told the step's attempts got: 0 nothing yet, `2n` after attempt n's
   * `step.started`, `2n + 1` after its `step.retrying` ({@link progressPosition}). A worker that
   * takes a step over from a dead one starts again at attempt 1: what it reports behind this
   * position is not reported again.
   */
  progress: number;
  ended: boolean;
  /** A store read for it is in flight; `again`: read once more when it answers. */
  reading: boolean;
  again: boolean;
  /** Stops watching the run's signals. */
  unlisten?: () => void;
  /** The run stopped starting steps before the job was in the queue: it is taken back once it is (QueueRunner.withdraw). */
  withdrawOnceAdded?: boolean;
  /** Its job was removed (taken back): the step ends withdrawn, or from its record; a reconciliation that finds the job gone does not fail it. */
  withdrawing?: boolean;
}

/** Where a progress event of attempt `attempt` stands in a step's sequence: `step.started` 2n, `step.retrying` 2n + 1. */
export function progressPosition(type: 'step.started' | 'step.retrying', attempt: number): number {
  return type === 'step.started' ? 2 * attempt : 2 * attempt + 1;
}
