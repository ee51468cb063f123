import type { StepOutcome, StepTask, StepTaskDurability } from '../executor/run-step-task';

/** A step handed to the queue, until the store has its record (or its job failed). */
export interface WaitingStep {
  readonly jobId: string;
  readonly task: StepTask;
  readonly durable: StepTaskDurability;
  readonly enqueuedAt: number;
  readonly resolve: (outcome: StepOutcome) => void;
  /** The job is in the queue (added, or found there: adopted). */
  added: boolean;
  /** `step.started` was reported to the run. */
  started: boolean;
  ended: boolean;
  /** A store read for it is in flight; `again`: read once more when it answers. */
  reading: boolean;
  again: boolean;
  /** Stops watching the run's signal. */
  unlisten?: () => void;
}
