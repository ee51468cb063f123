import { FastroAIError } from './fastroai-error';
import { describeThrown, isReadableError } from './describe-thrown';
import { hasMarker } from './has-marker';
import { messageWithinStep } from './message-within-step';

const marker = Symbol.for('fastroai.error.StepExecutionError');

/**
 * A step failed. `originalError` is what the step threw, wrapped in an `Error` when it was
 * not one (a string, `undefined`, …); the thrown value itself is kept in `cause`.
 */
export class StepExecutionError extends FastroAIError {
  private readonly [marker] = true;
  override readonly name = 'StepExecutionError';
  override readonly code = 'fastroai:step-execution';
  readonly stepId: string;
  readonly originalError: Error;

  constructor(stepId: string, originalError: unknown) {
    const error = toError(originalError);
    // An error about this same step (a timeout, a budget) does not name the step twice.
    super(`Step '${stepId}' failed: ${messageWithinStep(error, stepId)}`, { cause: originalError });
    this.stepId = stepId;
    this.originalError = error;
  }

  static override isInstance(error: unknown): error is StepExecutionError {
    return hasMarker(error, marker);
  }
}

/**
 * `value` if it is an Error, else an Error that describes the non-Error value that was thrown
 * (kept as `cause`). Total: an Error whose `message` cannot be read, or a revoked Proxy, is
 * described, never rethrown.
 */
export function toError(value: unknown): Error {
  if (isReadableError(value)) return value;
  return new Error(describeThrown(value), { cause: value });
}
