import type { StepExecutionError } from '../errors/step-execution-error';
import type { StepGraph } from '../graph/step-graph';
import type { DependencyScheduler } from '../scheduler/dependency-scheduler';
import type { IndexQueue } from '../scheduler/index-queue';
import type { PipelineDefinition } from './pipeline-definition';
import type { PipelineEvent } from './pipeline-event';
import type { RunStepTable } from './run-step-table';
import { stepFailedEvent } from './step-end-events';

/** What a step's failure reads from its run, and the failure state it updates there. */
export interface FailingRun {
  readonly definition: PipelineDefinition;
  readonly graph: StepGraph;
  readonly table: RunStepTable;
  readonly scheduler: DependencyScheduler;
  /** Where the scheduler puts the steps it admits after a failure (the run launches them). */
  readonly startQueue: IndexQueue;
  readonly emit: ((event: PipelineEvent) => void) | undefined;
  /** A step returned an INCOMPLETE conversation state: failures no longer end the run. */
  readonly stoppedEarly: boolean;
  /** Failures that did not end the run, by step id (the result's `errors`). */
  readonly errors: Record<string, Error>;
  /** Steps skipped because a dependency failed (the result's `skipped`). */
  readonly skipped: number[];
  /** The failure that ends the run once its running steps drained (set here, by the first one). */
  drainedFailure: StepExecutionError | undefined;
  /** Nothing new starts from now on; running steps may finish (the scheduler stops, runners may take back tasks not started). */
  stopStarting(): void;
  /** What the executor sees of the run: a drain stops its retries. */
  readonly scope: { retriesStopped: boolean };
}

/** True while a failure ends the run: `onError: 'fail'`, no INCOMPLETE stop, no failure draining already. */
export function failureEndsRun(run: FailingRun): boolean {
  return !run.stoppedEarly && run.drainedFailure === undefined && run.definition.config.onError === 'fail';
}

/**
 * Announces a step that failed for good (settled, and recorded with a store) and applies its
 * failure to the scheduler; the run then launches what was admitted (`advance`). Under
 * `onError: 'continue'` (or after an INCOMPLETE stop) its dependents are skipped and the rest
 * goes on; under `'fail'` (with a store, not failing fast) nothing new starts, running steps
 * drain (their attempt ends, no retry starts) and are recorded, and the run rejects with this
 * failure once they have. A sibling failing while the run drains is recorded and announced
 * (`step.failed`); the run's error stays the first one.
 */
export function announceStepFailure(run: FailingRun, index: number, error: StepExecutionError): void {
  const { graph, scheduler } = run;
  const id = graph.ids[index];
  if (failureEndsRun(run)) {
    run.drainedFailure = error;
    run.stopStarting();
    // Nothing new starts, a retry neither: a running step ends with its attempt (recorded; a resume runs it if it failed).
    run.scope.retriesStopped = true;
    run.emit?.(stepFailedEvent(graph, index, error, run.table.usageOf(id)));
    scheduler.fail(index);
    return;
  }
  if (run.drainedFailure !== undefined) {
    // Recorded and announced; the run's error stays the first failure.
    run.emit?.(stepFailedEvent(graph, index, error, run.table.usageOf(id)));
    scheduler.fail(index);
    return;
  }
  reportFailure(run, index, error, scheduler.fail(index));
  scheduler.next(run.startQueue);
}

/**
 * A failure that does not end the run: in the result's `errors`, announced (`step.failed`), and
 * its dependents `skipped` (announced too). Also how a resume of a completed run restores one.
 */
export function reportFailure(run: Pick<FailingRun, 'graph' | 'table' | 'emit' | 'errors' | 'skipped'>, index: number, error: StepExecutionError, skipped: readonly number[]): void {
  const { graph } = run;
  const id = graph.ids[index];
  run.errors[id] = error;
  run.emit?.(stepFailedEvent(graph, index, error, run.table.usageOf(id)));
  for (const skippedIndex of skipped) {
    run.skipped.push(skippedIndex);
    run.emit?.({ type: 'step.skipped', stepId: graph.ids[skippedIndex], reason: `dependency '${id}' failed` });
  }
}
