import { runStepTask, type StepOutcome, type StepTask } from './run-step-task';

/**
 * Runs a run's steps somewhere: the run keeps the scheduler, and hands each ready step to its
 * runner as a {@link StepTask} (plain data), then goes on with the {@link StepOutcome}. Without
 * a runner a run executes its steps in its own process on its fastest path; a runner is for
 * running them elsewhere (a queue of worker processes, API.md §13).
 *
 * @example
 * const inProcess: StepRunner = { runStep: runStepTask };
 * await pipeline.execute(input, deps, { runner: inProcess });
 */
export interface StepRunner {
  /** Runs one step task to its end (its own retries and timeouts included). */
  runStep(task: StepTask): Promise<StepOutcome>;
  /**
   * True when the runner reports each step's first `step.started` itself (through
   * `task.onAttempt`, when the step really starts somewhere), instead of the run at launch.
   */
  readonly reportsStepStarts?: boolean;
  /**
   * True when the runner's steps travel through the run's store (workers read their inputs and
   * record their outputs there): a run without a store is refused before it starts.
   */
  readonly requiresStore?: boolean;
}

/** A runner that runs each task in this process, with the same executor as a run without one. */
export const IN_PROCESS_RUNNER: StepRunner = { runStep: runStepTask };
