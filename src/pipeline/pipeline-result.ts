import type { ConversationState } from '../conversation/conversation-state';
import type { PipelineUsage } from '../usage/pipeline-usage';

/** When a step ran, in milliseconds since its run started, and how many attempts it took. */
export interface StepTiming {
  startMs: number;
  endMs: number;
  attempts: number;
  /** The worker process that ran the step (distributed runs, API.md §13). */
  workerId?: string;
}

/** What a run produced. */
export interface PipelineResult<Output = unknown> {
  /** The run's id (also on `pipeline.started`). */
  runId: string;
  /** The output step's output; undefined if the run stopped early or that step did not run. */
  output: Output | undefined;
  /** Every completed step's output, by id. */
  stepOutputs: Record<string, unknown>;
  /** Set if any step returned a `ConversationState` (the `INCOMPLETE` one when the run stopped). */
  conversationState: ConversationState<unknown> | undefined;
  /** Undefined when no step made a `ctx.run` call. */
  usage: PipelineUsage | undefined;
  /** True when a step returned `INCOMPLETE`. */
  stoppedEarly: boolean;
  /** Failures under `onError: 'continue'`, and failures after an `INCOMPLETE` stop; `{}` otherwise. */
  errors: Record<string, Error>;
  /** Steps not run because a dependency failed, in declaration order. */
  skipped: string[];
  /** Per step that ran: start and end (ms since the run started) and attempts. */
  timings: Record<string, StepTiming>;
}
