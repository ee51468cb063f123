import { describeThrown, isReadableError } from '../errors/describe-thrown';

/** Hooks that already warned: each is reported once, then ignored quietly. */
const reported = new WeakSet<object>();

/**
 * Reports that a user-supplied observer (a tracer, a logger, an `onEvent` handler, a disposer)
 * threw: once per `owner`, with `console.warn`. Such code never changes a run's outcome
 * (API.md §10), so the caller ignores the error after reporting it.
 *
 * @param owner what threw (the tracer or handler object, used to warn only once)
 * @param what a short description: `tracer span 'step.a'`, `onEvent handler`
 */
export function reportHookFailure(owner: object, what: string, error: unknown): void {
  if (reported.has(owner)) return;
  reported.add(owner);
  const message = isReadableError(error) ? error.message : describeThrown(error);
  try {
    console.warn(`fastroai: ${what} threw and was ignored (it cannot change the run's outcome): ${message}`);
  } catch {
    // console.warn itself replaced by something that throws: nothing left to report to.
  }
}
