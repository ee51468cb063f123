import { ConversationState } from '../conversation/conversation-state';
import type { DurableRun } from '../durable/durable-run';
import type { StepGraph } from '../graph/step-graph';
import { StepState, type DependencyScheduler } from '../scheduler/dependency-scheduler';
import type { PipelineEvent } from './pipeline-event';
import type { RunStepTable } from './run-step-table';
import { stepCompletedEvent } from './step-end-events';
import { reportFailure } from './announce-step-failure';
import { recordedStepError } from './recorded-step-error';

/** What restoring a resumed run's recorded steps needs from the run. */
export interface RestoringRun {
  readonly graph: StepGraph;
  readonly table: RunStepTable;
  readonly scheduler: DependencyScheduler;
  readonly emit: ((event: PipelineEvent) => void) | undefined;
  /** True once the run ended (an event handler may cancel it): nothing more is announced. */
  readonly finished: boolean;
  /** The result's `errors` and `skipped`: a resume of a completed run restores its failures there. */
  readonly errors: Record<string, Error>;
  readonly skipped: number[];
  abortRun(error: unknown): void;
}

/**
 * Restores what an earlier run recorded (a resume): each restored step counts as completed
 * for the scheduler, its output, usage and timings come from its record, and `step.completed`
 * is emitted for it with `restored: true`, in declaration order (call it right after
 * `pipeline.started`). A resume of a completed run (which runs nothing) restores its failures
 * after them: each in `errors` with its stored error, announced (`step.failed`), its dependents
 * skipped again (`step.skipped`). Records that cannot be restored abort the run.
 *
 * @returns the restored `ConversationState` output that ended last (the run's, until a step returns a newer one)
 */
export function restoreRecordedSteps(run: RestoringRun, durable: DurableRun): ConversationState<unknown> | undefined {
  try {
    durable.restoreInto(run.table, (index) => run.scheduler.restore(index));
  } catch (error) {
    run.abortRun(error);
    return undefined;
  }
  const { graph, table } = run;
  const restored = table.restored;
  let conversationState: ConversationState<unknown> | undefined;
  let latestEndMs = -Infinity;
  if (restored !== undefined) {
    for (let index = 0; index < restored.length && !run.finished; index++) {
      if (restored[index] !== 1) continue;
      const output = table.outputs[index];
      // The one that ended last, as in a live run (each step's state replaces the one before).
      if (output instanceof ConversationState && (conversationState === undefined || table.endMs[index] >= latestEndMs)) {
        conversationState = output;
        latestEndMs = table.endMs[index];
      }
      run.emit?.(stepCompletedEvent(graph, table, index, true));
    }
  }
  durable.restoreFailuresInto(table, (index, record) => {
    if (run.finished || run.scheduler.state[index] !== StepState.Waiting) return;
    const error = recordedStepError(record, table.usageOf(graph.ids[index]));
    reportFailure(run, index, error, run.scheduler.restoreFailure(index));
  });
  return conversationState;
}
