import type { StepConfig } from '../config/step-config';
import type { StepRunView } from '../context/step-context';
import type { StepLike } from '../steps/base-step';
import type { StepUsage } from '../usage/step-usage';

/**
 * What an executor needs from the run to execute one of its steps, and where it reports.
 * One object per run, not per step: the per-step path allocates as little as it can, so
 * results come back through callbacks rather than outcome objects and extra promises.
 */
export interface StepRunScope extends StepRunView {
  /** True once the run failed or was cancelled: no retry starts after that. */
  readonly isAborted: boolean;
  /** True once a failure drains the run (a store, onError 'fail'): its running steps finish their attempt, and no retry starts. */
  readonly retriesStopped?: boolean;
  stepAt(index: number): StepLike;
  configAt(index: number): StepConfig;
  /** Attempt `attempt` (2 and up: the run starts attempt 1 itself) began. */
  attemptStarted(index: number, attempt: number): void;
  /** Attempt `attempt` failed and will be retried after `delaySeconds`. */
  attemptRetrying(index: number, attempt: number, error: unknown, delaySeconds: number): void;
  /** Waits `ms` before a retry; resolves false when the run was aborted meanwhile. */
  waitBeforeRetry(ms: number): Promise<boolean>;
  /** The step finished with `output`; `usage` is undefined when it made no `ctx.run` call. */
  stepCompleted(index: number, output: unknown, usage: StepUsage | undefined, attempts: number): void;
  /**
   * An attempt ended synchronously (`execute` returned a value or threw, no promise). Called
   * from inside `executeStep`; the run handles it without allocating a promise, and without
   * re-entering what launched the step: a completion when `ok`, else the retry-or-fail
   * decision ({@link retryOrFail}) with `outcome` as the error.
   */
  attemptEndedSoon(index: number, ok: boolean, outcome: unknown, usage: StepUsage | undefined, attempt: number): void;
  /** The step failed for good with `error` (what its last attempt threw). */
  stepFailed(index: number, error: unknown, usage: StepUsage | undefined, attempts: number): void;
}
