import { backoffSeconds, isRetryableAtStepLevel } from '../context/retry-policy';
import { StepContext } from '../context/step-context';
import { StepTimeoutError } from '../errors/step-timeout-error';
import type { CancelScope } from './cancel-scope';
import { executeInSpan } from './execute-in-span';
import { NOOP_TRACER } from '../tracing/noop-tracer';
import type { StepUsage } from '../usage/step-usage';
import type { StepRunScope } from './step-run-scope';

/**
 * Runs one step of a run to its end and reports to `scope`: each attempt in a fresh
 * `StepContext` (usage of earlier attempts carried over), inside a `step.<id>` span, bounded
 * by the step's `timeout` (the attempt's signal aborts and `StepTimeoutError` is raised),
 * retried with exponential backoff unless the error is final.
 *
 * This is "run this step"; deciding what is ready is the scheduler's job.
 */
export function executeStep(scope: StepRunScope, index: number): void {
  runAttempt(scope, index, 1, undefined);
}

function runAttempt(scope: StepRunScope, index: number, attempt: number, usage: StepUsage | undefined): void {
  const config = scope.configAt(index);
  // The deadline starts before `execute` runs, as the attempt's cancel scope: a `ctx.run` call
  // bounded by the same (or a later) time sets no timer of its own, so the step's deadline wins
  // by value and the failure is the step's, retried at step level (API.md §2).
  const timeoutSeconds = config.timeout;
  const deadline = timeoutSeconds !== null && timeoutSeconds > 0 ? startDeadline(scope, index, timeoutSeconds, attempt) : undefined;
  const ctx = new StepContext<unknown>(scope, index, config, usage, deadline);
  if (attempt > 1) scope.attemptStarted(index, attempt);
  const step = scope.stepAt(index);
  const tracer = scope.tracer;
  let result: unknown;
  try {
    result = tracer === NOOP_TRACER ? step.execute(ctx) : executeInSpan(tracer, step, ctx, attempt, () => scope.isAborted);
  } catch (error) {
    const calls = ctx.endAttempt();
    if (calls === undefined) scope.attemptEndedSoon(index, false, error, ctx.accumulatedUsage, attempt);
    else afterCalls(calls, scope, index, attempt, ctx, false, error);
    return;
  }
  if (!isThenable(result)) {
    // A synchronous step: no promise to wait for (the hot path of cheap steps).
    const calls = ctx.endAttempt();
    if (calls === undefined) scope.attemptEndedSoon(index, true, result, ctx.accumulatedUsage, attempt);
    else afterCalls(calls, scope, index, attempt, ctx, true, result);
    return;
  }
  const pending = Promise.resolve(result);
  awaitAttempt(scope, index, attempt, ctx, deadline === undefined ? pending : deadline.race(pending));
}

// The closures below live in functions of their own: a variable a closure captures is kept in a
// context object that V8 allocates when the enclosing function is entered, on every path. In
// `runAttempt` that was every attempt, a synchronous step's included, with five variables.

/** The attempt's cancel scope, bounded by the step's timeout (`StepTimeoutError` when it passes). */
function startDeadline(scope: StepRunScope, index: number, timeoutSeconds: number, attempt: number): CancelScope {
  return scope.cancelScope.child(timeoutSeconds * 1000, () => new StepTimeoutError(scope.stepIdAt(index), timeoutSeconds, attempt));
}

/** Waits for an asynchronous attempt's promise, then reports the step completed or retries / fails it. */
function awaitAttempt(scope: StepRunScope, index: number, attempt: number, ctx: StepContext<unknown>, pending: Promise<unknown>): void {
  pending.then(
    (output) => {
      const calls = ctx.endAttempt();
      if (calls === undefined) scope.stepCompleted(index, output, ctx.accumulatedUsage, attempt);
      else afterCalls(calls, scope, index, attempt, ctx, true, output);
    },
    (error: unknown) => {
      const calls = ctx.endAttempt();
      if (calls === undefined) retryOrFail(scope, index, attempt, error, ctx.accumulatedUsage);
      else afterCalls(calls, scope, index, attempt, ctx, false, error);
    },
  );
}

/**
 * An attempt that ended with `ctx.run` calls still running: reported once they settled (they
 * were aborted; see `StepContext.endAttempt`), with what they were billed in its usage.
 */
function afterCalls(calls: Promise<void>, scope: StepRunScope, index: number, attempt: number, ctx: StepContext<unknown>, ok: boolean, outcome: unknown): void {
  calls.then(() => {
    if (ok) scope.stepCompleted(index, outcome, ctx.accumulatedUsage, attempt);
    else retryOrFail(scope, index, attempt, outcome, ctx.accumulatedUsage);
  });
}

/** True for a promise or any object with a `then` method (a step may return either). */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  try {
    return typeof (value as { then?: unknown }).then === 'function';
  } catch {
    // A `then` getter that throws: let Promise.resolve adopt it and reject with that error.
    return true;
  }
}

/** After a failed attempt: retries it (after the backoff) when allowed, else reports the step failed. */
export function retryOrFail(scope: StepRunScope, index: number, attempt: number, error: unknown, usage: StepUsage | undefined): void {
  const config = scope.configAt(index);
  if (attempt > config.retries || scope.isAborted || scope.retriesStopped === true || !isRetryableAtStepLevel(error)) {
    scope.stepFailed(index, error, usage, attempt);
    return;
  }
  const delaySeconds = backoffSeconds(config.retryDelay, attempt);
  scope.attemptRetrying(index, attempt, error, delaySeconds);
  scope.waitBeforeRetry(delaySeconds * 1000).then((goOn) => {
    if (goOn && scope.retriesStopped !== true) runAttempt(scope, index, attempt + 1, usage);
    else scope.stepFailed(index, error, usage, attempt);
  });
}
