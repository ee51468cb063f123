import { FastroAIError } from './fastroai-error';
import { hasMarker } from './has-marker';
import { setMessageWithinStep } from './message-within-step';

const marker = Symbol.for('fastroai.error.StepTimeoutError');

/**
 * One attempt of a step (or of a `ctx.run` call) took longer than its `timeout`; its signal was aborted.
 *
 * Its message names the step (`Step 'call' timed out after 5s (attempt 2)`); wrapped in the
 * step's `StepExecutionError` it does not repeat it: `Step 'call' failed: timed out after 5s (attempt 2)`,
 * `Step 'call' failed: Agent call timed out after 5s (attempt 1)`.
 */
export class StepTimeoutError extends FastroAIError {
  private readonly [marker] = true;
  override readonly name = 'StepTimeoutError';
  override readonly code = 'fastroai:step-timeout';
  readonly stepId: string;
  readonly timeoutSeconds: number;
  /** 1-based, as in the progress events. */
  readonly attempt: number;

  constructor(stepId: string, timeoutSeconds: number, attempt: number, what = 'Step') {
    super(`${what} '${stepId}' timed out after ${timeoutSeconds}s (attempt ${attempt})`);
    // `what` is 'Step' or 'Agent call in step': inside "Step 'x' failed: …" the step goes.
    const subject = what === 'Step' ? '' : `${what.replace(/ in step$/, '')} `;
    setMessageWithinStep(this, `${subject}timed out after ${timeoutSeconds}s (attempt ${attempt})`);
    this.stepId = stepId;
    this.timeoutSeconds = timeoutSeconds;
    this.attempt = attempt;
  }

  static override isInstance(error: unknown): error is StepTimeoutError {
    return hasMarker(error, marker);
  }
}
