import type { DurableRun } from '../durable/durable-run';
import { StepExecutionError } from '../errors/step-execution-error';
import type { StepGraph } from '../graph/step-graph';
import type { StepRecord } from '../store/run-store';
import type { StepUsage } from '../usage/step-usage';
import type { RunStepTable } from './run-step-table';

/**
 * Writes step `index`'s record from the step table (a batch per tick: the run's `stepRecorded`
 * follows). An output the store cannot hold fails its step instead (never retried): nothing is
 * half-recorded, and the failure waits for its record in `table.pendingFailures`.
 *
 * @param error the step's failure (`status: 'failed'`), waiting in `table.pendingFailures` already
 */
export function recordStep(
  durable: DurableRun,
  graph: StepGraph,
  table: RunStepTable,
  index: number,
  status: 'completed' | 'failed',
  output: unknown,
  usage: StepUsage,
  error: StepExecutionError | undefined,
): void {
  let record: StepRecord;
  try {
    record = durable.stepRecord(index, status, output, usage, error, table);
  } catch (notStorable) {
    table.outputs[index] = undefined;
    const failure = new StepExecutionError(graph.ids[index], notStorable, usage);
    (table.pendingFailures ??= [])[index] = failure;
    record = durable.stepRecord(index, 'failed', undefined, usage, failure, table);
  }
  durable.record(index, record);
}
