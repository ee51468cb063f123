import type { Clock } from '../clock/clock';
import type { DurableRun } from '../durable/durable-run';
import type { StepRunner } from '../executor/step-runner';
import type { Tracer } from '../tracing/tracer';
import type { PipelineEvent } from './pipeline-event';

/** Options of one run (`PipelineRun`), as `execute`, `run` and `resume` pass them. */
export interface PipelineRunOptions {
  tracer?: Tracer;
  signal?: AbortSignal;
  runId?: string;
  /** Receives every progress event; absent for `execute()` without `onEvent`. */
  emit?: (event: PipelineEvent) => void;
  /** Records the run in a store (created or claimed before the run starts; see `openDurableRun`). */
  durable?: DurableRun;
  /** Runs the steps elsewhere (API.md §13); absent: in this process, on the fastest path. */
  runner?: StepRunner;
  /** Where the run reads time and sets timers (timeouts, backoffs, timings). @default the system clock */
  clock?: Clock;
}
