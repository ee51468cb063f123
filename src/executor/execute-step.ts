import { LazyAbort } from '../context/lazy-abort';
import { backoffSeconds, isRetryableAtStepLevel } from '../context/retry-policy';
import { StepContext } from '../context/step-context';
import { StepTimeoutError } from '../errors/step-timeout-error';
import { NOOP_TRACER } from '../tracing/noop-tracer';
import type { StepUsage } from '../usage/step-usage';
import type { StepOutcome, StepRunScope } from './step-run-scope';

/**
 * Runs one step of a run to its end: each attempt in a fresh `StepContext` (with the usage of
 * earlier attempts carried over), inside a `step.<id>` span, bounded by the step's `timeout`
 * (the attempt's signal aborts and `StepTimeoutError` is raised), retried with exponential
 * backoff unless the error is final. Never rejects: failures are outcomes.
 *
 * This is "run this step"; deciding what is ready is the scheduler's job.
 */
export function executeStep(scope: StepRunScope, index: number): Promise<StepOutcome> {
  return runAttempt(scope, index, 1, undefined);
}

function runAttempt(scope: StepRunScope, index: number, attempt: number, usage: StepUsage | undefined): Promise<StepOutcome> {
  const abort = new LazyAbort();
  scope.attemptStarted(index, attempt, abort);
  const config = scope.configAt(index);
  const stepId = scope.graph.ids[index];
  const ctx = new StepContext(
    { stepId, inputs: scope.inputs, deps: scope.deps, stepOutputs: scope.outputs, tracer: scope.tracer, config },
    { graph: scope.graph, index, runBudget: scope.runBudget, abort, usage },
  );
  const step = scope.stepAt(index);
  let pending: Promise<unknown>;
  if (scope.tracer === NOOP_TRACER) {
    try {
      pending = Promise.resolve(step.execute(ctx));
    } catch (error) {
      pending = Promise.reject(error);
    }
  } else {
    pending = scope.tracer.span(`step.${stepId}`, async () => step.execute(ctx), { stepId, attempt });
  }
  const timeoutSeconds = config.timeout;
  if (timeoutSeconds !== null && timeoutSeconds > 0 && timeoutSeconds !== Infinity) {
    pending = withDeadline(pending, abort, timeoutSeconds, stepId, attempt);
  }
  return pending.then(
    (output): StepOutcome => ({ ok: true, output, error: undefined, usage: ctx.accumulatedUsage, attempts: attempt }),
    (error: unknown) => retryOrFail(scope, index, attempt, error, ctx.accumulatedUsage),
  );
}

function retryOrFail(
  scope: StepRunScope,
  index: number,
  attempt: number,
  error: unknown,
  usage: StepUsage | undefined,
): StepOutcome | Promise<StepOutcome> {
  const config = scope.configAt(index);
  const failed: StepOutcome = { ok: false, output: undefined, error, usage, attempts: attempt };
  if (attempt > config.retries || scope.isAborted || !isRetryableAtStepLevel(error)) return failed;
  const delaySeconds = backoffSeconds(config.retryDelay, attempt);
  scope.attemptRetrying(index, attempt, error, delaySeconds);
  return scope
    .waitBeforeRetry(delaySeconds * 1000)
    .then((goOn) => (goOn ? runAttempt(scope, index, attempt + 1, usage) : failed));
}

/** Rejects with `StepTimeoutError` (and aborts the attempt) when `promise` takes longer than `timeoutSeconds`. */
function withDeadline<T>(promise: Promise<T>, abort: LazyAbort, timeoutSeconds: number, stepId: string, attempt: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new StepTimeoutError(stepId, timeoutSeconds, attempt);
      abort.abort(error);
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
