import { backoffSeconds, isRetryableAtStepLevel } from '../context/retry-policy';
import { StepContext } from '../context/step-context';
import { StepTimeoutError } from '../errors/step-timeout-error';
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
  const ctx = StepContext.forRun(scope, index, config, usage);
  scope.attemptStarted(index, attempt, ctx);
  const step = scope.stepAt(index);
  const tracer = scope.tracer;
  let pending: Promise<unknown>;
  try {
    pending =
      tracer === NOOP_TRACER
        ? Promise.resolve(step.execute(ctx))
        : tracer.span(`step.${ctx.stepId}`, async () => step.execute(ctx), { stepId: ctx.stepId, attempt });
  } catch (error) {
    pending = Promise.reject(error);
  }
  const timeoutSeconds = config.timeout;
  if (timeoutSeconds !== null && timeoutSeconds > 0 && timeoutSeconds !== Infinity) {
    pending = withDeadline(pending, ctx, timeoutSeconds, attempt);
  }
  pending.then(
    (output) => scope.stepCompleted(index, output, ctx.accumulatedUsage, attempt),
    (error: unknown) => retryOrFail(scope, index, attempt, error, ctx.accumulatedUsage),
  );
}

function retryOrFail(scope: StepRunScope, index: number, attempt: number, error: unknown, usage: StepUsage | undefined): void {
  const config = scope.configAt(index);
  if (attempt > config.retries || scope.isAborted || !isRetryableAtStepLevel(error)) {
    scope.stepFailed(index, error, usage, attempt);
    return;
  }
  const delaySeconds = backoffSeconds(config.retryDelay, attempt);
  scope.attemptRetrying(index, attempt, error, delaySeconds);
  scope.waitBeforeRetry(delaySeconds * 1000).then((goOn) => {
    if (goOn) runAttempt(scope, index, attempt + 1, usage);
    else scope.stepFailed(index, error, usage, attempt);
  });
}

/** Rejects with `StepTimeoutError` (and aborts the attempt) when `promise` takes longer than `timeoutSeconds`. */
function withDeadline<T>(promise: Promise<T>, ctx: StepContext<unknown>, timeoutSeconds: number, attempt: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new StepTimeoutError(ctx.stepId, timeoutSeconds, attempt);
      ctx.abortAttempt(error);
      reject(error);
    }, timeoutSeconds * 1000);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
