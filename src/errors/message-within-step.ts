/** The messages errors about one step give when a `StepExecutionError` of that step wraps them. */
const withinStep = new WeakMap<object, string>();

/**
 * Records how an error about step X reads inside `Step 'X' failed: …`, without naming the
 * step again (`timed out after 5s (attempt 2)`), while its own message still names it
 * (`Step 'call' timed out after 5s (attempt 2)`), to read well on its own.
 *
 * @param error an error with a `stepId`
 * @param message its message without the step
 */
export function setMessageWithinStep(error: object, message: string): void {
  withinStep.set(error, message);
}

/**
 * The message of `error` as the reason of a failure of step `stepId`: the short one recorded
 * by {@link setMessageWithinStep} when the error is about that same step, else its own.
 */
export function messageWithinStep(error: Error, stepId: string): string {
  const short = withinStep.get(error);
  return short !== undefined && (error as { stepId?: unknown }).stepId === stepId ? short : error.message;
}

/** The short message {@link setMessageWithinStep} recorded for `error`, if any (kept with a stored error). */
export function recordedMessageWithinStep(error: object): string | undefined {
  return withinStep.get(error);
}
