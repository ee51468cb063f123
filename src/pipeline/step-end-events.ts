import type { StepExecutionError } from '../errors/step-execution-error';
import type { StepGraph } from '../graph/step-graph';
import type { StepUsage } from '../usage/step-usage';
import type { StepCompletedEvent, StepFailedEvent } from './pipeline-event';
import type { RunStepTable } from './run-step-table';

/**
 * The `step.completed` event of step `index`, from the step table: its output, usage, duration
 * and (a step a remote runner's worker ran) worker.
 *
 * @param restored true for a step restored from a store's record (a resume): the event says so
 */
export function stepCompletedEvent(graph: StepGraph, table: RunStepTable, index: number, restored: boolean): StepCompletedEvent {
  const stepId = graph.ids[index];
  const event: StepCompletedEvent = {
    type: 'step.completed',
    stepId,
    level: graph.levelOf[index],
    output: table.outputs[index],
    usage: table.usageOf(stepId),
    durationMs: table.endMs[index] - table.startMs[index],
  };
  if (restored) event.restored = true;
  const workerId = table.workerIds?.[index];
  if (workerId !== undefined) event.workerId = workerId;
  return event;
}

/** The `step.failed` event of step `index`, with the usage its attempts reported. */
export function stepFailedEvent(graph: StepGraph, index: number, error: StepExecutionError, usage: StepUsage): StepFailedEvent {
  return { type: 'step.failed', stepId: graph.ids[index], level: graph.levelOf[index], error, usage };
}
