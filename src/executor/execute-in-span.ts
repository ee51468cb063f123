import type { StepContext } from '../context/step-context';
import type { StepLike } from '../steps/base-step';
import { runInSpan } from '../tracing/run-in-span';
import type { Tracer } from '../tracing/tracer';

/**
 * Runs one step attempt inside the tracer's `step.<id>` span, and settles like the attempt,
 * whatever the span does ({@link runInSpan}: the body runs at most once, a span that throws or
 * settles without calling it is reported and the body runs untraced, the span's own result is
 * ignored), and never after the attempt ended: a span that awaited past the step's deadline or
 * the run's end does not start the body, and the span ends when the attempt does (its deadline,
 * the run's end), with that error, even if the step's own promise settles later or never.
 */
export function executeInSpan(tracer: Tracer, step: StepLike, ctx: StepContext<unknown>, attempt: number, isRunOver: () => boolean): Promise<unknown> {
  return runInSpan(
    tracer,
    `step.${ctx.stepId}`,
    () => {
      if (ctx.isAttemptAborted || isRunOver()) {
        return Promise.reject(new Error(`step '${ctx.stepId}' attempt ${attempt} ended before the tracer started it`));
      }
      // The span ends with the attempt, not with the step's promise: a step that ignores its
      // signal past its deadline (or the run's end) would end its span late, or never.
      return ctx.attemptScope.race(Promise.resolve(step.execute(ctx)));
    },
    { stepId: ctx.stepId, attempt },
  );
}
