import type { StepConfig } from '../config/step-config';
import type { LazyAbort } from '../context/lazy-abort';
import type { RunBudget } from '../context/run-budget';
import type { StepGraph } from '../graph/step-graph';
import type { StepLike } from '../steps/base-step';
import type { Tracer } from '../tracing/tracer';
import type { StepUsage } from '../usage/step-usage';

/**
 * What an executor needs from the run to execute one of its steps: the run's shared state,
 * and callbacks for what the executor reports. One object per run, not per step: the
 * per-step path allocates as little as it can.
 */
export interface StepRunScope {
  readonly graph: StepGraph;
  readonly inputs: Record<string, unknown>;
  readonly deps: unknown;
  readonly tracer: Tracer;
  /** The run's outputs so far; a step sees its transitive dependencies' among them. */
  readonly outputs: Record<string, unknown>;
  readonly runBudget: RunBudget;
  /** True once the run failed, stopped starting steps because of a failure, or was cancelled. */
  readonly isAborted: boolean;
  stepAt(index: number): StepLike;
  configAt(index: number): StepConfig;
  /** An attempt began; `abort` aborts its signal (the run calls it on failure or cancellation). */
  attemptStarted(index: number, attempt: number, abort: LazyAbort): void;
  /** Attempt `attempt` failed and will be retried after `delaySeconds`. */
  attemptRetrying(index: number, attempt: number, error: unknown, delaySeconds: number): void;
  /** Waits `ms` before a retry; resolves false when the run was aborted meanwhile. */
  waitBeforeRetry(ms: number): Promise<boolean>;
}

/** How one step ended, after all of its attempts. */
export interface StepOutcome {
  readonly ok: boolean;
  /** The output when `ok`. */
  readonly output: unknown;
  /** What the last attempt threw when not `ok`. */
  readonly error: unknown;
  /** Usage of all attempts' `ctx.run` calls; undefined when the step made none. */
  readonly usage: StepUsage | undefined;
  readonly attempts: number;
}
