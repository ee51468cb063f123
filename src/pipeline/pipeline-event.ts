import type { ConversationState } from '../conversation/conversation-state';
import type { StepUsage } from '../usage/step-usage';
import type { PipelineResult } from './pipeline-result';

/** A run began. `levels` is frozen (shared with the pipeline): copy it before changing it. */
export interface PipelineStartedEvent {
  type: 'pipeline.started';
  pipeline: string;
  runId: string;
  levels: string[][];
}
/** An attempt of a step began (`attempt` is 1-based). */
export interface StepStartedEvent {
  type: 'step.started';
  stepId: string;
  level: number;
  attempt: number;
  /** The worker process that runs the step (distributed runs, API.md §13). */
  workerId?: string;
}
/** Attempt `attempt` of a step failed; the next starts after `delaySeconds`. */
export interface StepRetryingEvent {
  type: 'step.retrying';
  stepId: string;
  attempt: number;
  error: Error;
  delaySeconds: number;
}
/**
 * A `ctx.run` model call of a step failed with a retryable error and is sent again after
 * `delaySeconds` (the backoff, or the server's `Retry-After` when longer). `attempt` is the
 * call attempt that failed (1-based); the failed request still counts in `requestCount`.
 */
export interface CallRetryingEvent {
  type: 'call.retrying';
  stepId: string;
  attempt: number;
  error: Error;
  delaySeconds: number;
}
/** A step finished with an output. */
export interface StepCompletedEvent {
  type: 'step.completed';
  stepId: string;
  level: number;
  output: unknown;
  usage: StepUsage;
  durationMs: number;
  /** Recorded by an earlier run and restored by a resume (API.md §12): not executed again. */
  restored?: true;
  /** The worker process that ran the step (distributed runs, API.md §13). */
  workerId?: string;
}
/**
 * A step failed for good (its retries spent). `error` is a `StepExecutionError`; `usage` is
 * what its attempts were billed, failed ones included.
 */
export interface StepFailedEvent {
  type: 'step.failed';
  stepId: string;
  level: number;
  error: Error;
  usage: StepUsage;
}
/** A step will not run because a dependency failed (`onError: 'continue'`). */
export interface StepSkippedEvent {
  type: 'step.skipped';
  stepId: string;
  reason: string;
}
/**
 * Every step of levels 0..`level` finished (completed, failed or skipped). Emitted in increasing
 * level order. `stepIds` is frozen (shared with the pipeline): copy it before changing it.
 */
export interface LevelCompletedEvent {
  type: 'level.completed';
  level: number;
  stepIds: string[];
}
/** A step returned `INCOMPLETE`: nothing new starts; running steps finish. */
export interface PipelineStoppedEvent {
  type: 'pipeline.stopped';
  conversationState: ConversationState<unknown>;
}
/** The run ended; always the last event of a run that did not fail. */
export interface PipelineCompletedEvent<Output = unknown> {
  type: 'pipeline.completed';
  result: PipelineResult<Output>;
}

/** Everything `pipeline.run()` emits, discriminated on `type`. */
export type PipelineEvent<Output = unknown> =
  | PipelineStartedEvent
  | StepStartedEvent
  | StepRetryingEvent
  | CallRetryingEvent
  | StepCompletedEvent
  | StepFailedEvent
  | StepSkippedEvent
  | LevelCompletedEvent
  | PipelineStoppedEvent
  | PipelineCompletedEvent<Output>;

/** The `type` of every event, a closed union. */
export type PipelineEventType = PipelineEvent['type'];
