import type { StepContext } from '../context/step-context';
import { StepTimeoutError } from '../errors/step-timeout-error';

/** The deadline of one step attempt: `race` bounds the attempt's promise, `cancel` clears the timer. */
export interface AttemptDeadline {
  race(pending: Promise<unknown>): Promise<unknown>;
  cancel(): void;
}

/**
 * Starts the deadline of an attempt: after `timeoutSeconds` it aborts the attempt (`ctx.signal`)
 * and rejects the promise `race` returned, which otherwise settles like the attempt. The run
 * cancels every live deadline when it ends first, so no timer outlives a run.
 */
export function startAttemptDeadline(ctx: StepContext<unknown>, timeoutSeconds: number, attempt: number): AttemptDeadline {
  // The timer's callback runs in a later macrotask, after `execute` returned and the race was
  // set up, so `rejectAttempt` is always the real one when it fires.
  let rejectAttempt: (error: unknown) => void = () => undefined;
  const timer = setTimeout(() => {
    const error = new StepTimeoutError(ctx.stepId, timeoutSeconds, attempt);
    ctx.abortAttempt(error);
    rejectAttempt(error);
  }, timeoutSeconds * 1000);
  return {
    cancel: () => clearTimeout(timer),
    race: (pending) =>
      new Promise<unknown>((resolve, reject) => {
        rejectAttempt = reject;
        pending.then(
          (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          (error: unknown) => {
            clearTimeout(timer);
            reject(error);
          },
        );
      }),
  };
}
