import { reportHookFailure } from './report-hook-failure';

/**
 * Runs one call into a tracer or logger (`logMetric`, `logger.info`, a span backend, …) so that
 * it can never change what the caller does: a throw is reported once per `owner` with
 * `console.warn` and ignored (API.md §10). Returns the call's value, or `fallback` when it threw.
 *
 * @param owner the tracer or logger the call belongs to (one warning each)
 * @param what names the call in the warning (`'SimpleTracer logger.debug'`)
 *
 * @example
 * callSafely(tracer, 'tracer.logMetric', () => tracer.logMetric(traceId, 'input_tokens', 12));
 */
export function callSafely<T>(owner: object, what: string, call: () => T, fallback?: T): T | undefined {
  try {
    return ignoreRejection(owner, what, call());
  } catch (error) {
    reportTracerFailure(owner, what, error);
    return fallback;
  }
}

/**
 * `value`, with a rejection observed and reported (once per `owner`) when it is a promise: an
 * `async` logger, tracer method or event handler whose promise the caller does not await must
 * not become an unhandled rejection, which ends a Node process.
 */
export function ignoreRejection<T>(owner: object, what: string, value: T): T {
  if (typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function') {
    Promise.resolve(value).catch((error: unknown) => reportHookFailure(owner, what, error));
  }
  return value;
}

/**
 * Reports a tracer's or logger's failure with `console.warn`, once per `owner`; later failures
 * of the same owner are ignored silently. Never throws.
 */
export function reportTracerFailure(owner: object, what: string, error: unknown): void {
  reportHookFailure(owner, what, error);
}
