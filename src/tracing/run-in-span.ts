import { reportTracerFailure } from './call-safely';
import type { Tracer } from './tracer';

/**
 * How long a tracer's span may hold its function before calling it, in ms, when it did not call
 * it at once: then the function runs outside the span (a span that never calls it and never
 * settles would hang the step, or the run).
 */
export const SPAN_GRACE_MS = 1_000;

/**
 * Runs `fn` inside `tracer.span(name, …)` so that the tracer can neither change the outcome nor
 * make `fn` run twice (API.md §10):
 *
 * - `fn` runs exactly once, and its own result (value or error) is the result, as soon as it
 *   settles: a span that resolves to something else, rejects after `fn` succeeded, or never
 *   settles after `fn` did, changes nothing;
 * - a span that throws synchronously, settles without calling `fn`, or holds it for
 *   {@link SPAN_GRACE_MS}, is reported and `fn` runs outside it (with the trace id `''`);
 * - a span that calls `fn` twice gets the first call's promise again.
 *
 * Failures are reported once per tracer with `console.warn` (see {@link reportTracerFailure}).
 */
export function runInSpan<T>(
  tracer: Tracer,
  name: string,
  fn: (traceId: string) => Promise<T>,
  attributes?: Record<string, unknown>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let outcome: Promise<T> | undefined;
    let grace: NodeJS.Timeout | undefined;
    const runOnce = (traceId: unknown): Promise<T> => {
      if (outcome === undefined) {
        if (grace !== undefined) clearTimeout(grace);
        try {
          outcome = Promise.resolve(fn(typeof traceId === 'string' ? traceId : ''));
        } catch (error) {
          outcome = Promise.reject(error);
        }
        outcome.then(resolve, reject);
      }
      return outcome;
    };
    const runOutside = (problem: unknown) => {
      reportTracerFailure(tracer, `tracer.span('${name}')`, problem);
      void runOnce('');
    };
    let span: unknown;
    try {
      span = tracer.span(name, runOnce, attributes);
    } catch (error) {
      if (outcome === undefined) runOutside(error);
      else reportTracerFailure(tracer, `tracer.span('${name}')`, error);
      return;
    }
    // Tracers call it at once (a timer only for one that did not); kept alive, as the step is.
    if (outcome === undefined) grace = setTimeout(() => outcome === undefined && runOutside(new Error(`the span did not call its function within ${SPAN_GRACE_MS} ms`)), SPAN_GRACE_MS);
    Promise.resolve(span).then(
      () => {
        if (outcome === undefined) runOutside(new Error('the span settled without calling its function'));
      },
      (error: unknown) => {
        if (outcome === undefined) runOutside(error);
        else {
          // A rejection that is fn's own is the outcome already; any other is the tracer's.
          outcome.then(
            () => reportTracerFailure(tracer, `tracer.span('${name}')`, error),
            () => undefined,
          );
        }
      },
    );
  });
}
