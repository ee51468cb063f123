import type { StepContext } from '../context/step-context';
import type { StepLike } from '../steps/base-step';
import { reportHookFailure } from '../tracing/report-hook-failure';
import type { Tracer } from '../tracing/tracer';

/**
 * Runs one step attempt inside the tracer's `step.<id>` span, and settles like the attempt,
 * whatever the span does (API.md §10): the body runs at most once (a span that calls `fn`
 * twice gets the same promise back), never after the attempt ended (a span that awaited past
 * the step's deadline or the run's end), and a span that throws or settles without calling
 * `fn` is reported once and the body runs untraced. The span's own result is ignored.
 */
export function executeInSpan(tracer: Tracer, step: StepLike, ctx: StepContext<unknown>, attempt: number, isRunOver: () => boolean): Promise<unknown> {
  const name = `step.${ctx.stepId}`;
  return new Promise<unknown>((resolve, reject) => {
    let outcome: Promise<unknown> | undefined;
    const body = (): Promise<unknown> => {
      if (outcome !== undefined) return outcome;
      if (ctx.isAttemptAborted || isRunOver()) {
        outcome = Promise.reject(new Error(`step '${ctx.stepId}' attempt ${attempt} ended before the tracer started it`));
      } else {
        try {
          outcome = Promise.resolve(step.execute(ctx));
        } catch (error) {
          outcome = Promise.reject(error);
        }
      }
      outcome.then(resolve, reject);
      return outcome;
    };
    let span: unknown;
    try {
      span = tracer.span(name, body, { stepId: ctx.stepId, attempt });
    } catch (error) {
      reportHookFailure(tracer, `tracer span '${name}'`, error);
      body();
      return;
    }
    const runUntraced = (error?: unknown) => {
      if (outcome !== undefined) return;
      reportHookFailure(tracer, `tracer span '${name}'`, error ?? new Error('the span settled without calling its function'));
      body();
    };
    Promise.resolve(span).then(() => runUntraced(), runUntraced);
  });
}
