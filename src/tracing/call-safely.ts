/** Owners (tracers, loggers) that already had a failure reported: each is reported once. */
const reported = new WeakSet<object>();

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
    return call();
  } catch (error) {
    reportTracerFailure(owner, what, error);
    return fallback;
  }
}

/**
 * Reports a tracer's or logger's failure with `console.warn`, once per `owner`; later failures
 * of the same owner are ignored silently. Never throws.
 */
export function reportTracerFailure(owner: object, what: string, error: unknown): void {
  if (reported.has(owner)) return;
  reported.add(owner);
  try {
    console.warn(`fastroai: ${what} threw (${describe(error)}); tracing errors are ignored, the run goes on. Further errors of this tracer are not reported.`);
  } catch {
    // console.warn itself replaced by something that throws: nothing left to report to.
  }
}

function describe(error: unknown): string {
  try {
    if (error instanceof Error) return `${error.name}: ${error.message}`;
    return String(error);
  } catch {
    return 'an error that cannot be described';
  }
}
