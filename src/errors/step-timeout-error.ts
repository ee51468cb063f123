import { FastroAIError } from './fastroai-error';
import { hasMarker } from './has-marker';

const marker = Symbol.for('fastroai.error.StepTimeoutError');

/**
 * One attempt of a step (or of a `ctx.run` call) took longer than its `timeout`; its signal was aborted.
 *
 * Its message names the step (`Step 'call' timed out after 5s (attempt 2)`); the step's
 * `StepExecutionError` wraps it as API.md §8 says, `Step 'x' failed: <original message>`:
 * `Step 'call' failed: Step 'call' timed out after 5s (attempt 2)`.
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
    this.stepId = stepId;
    this.timeoutSeconds = timeoutSeconds;
    this.attempt = attempt;
  }

  static override isInstance(error: unknown): error is StepTimeoutError {
    return hasMarker(error, marker);
  }
}
