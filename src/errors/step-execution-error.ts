import { FastroAIError } from './fastroai-error';
import { describeThrown, isReadableError } from './describe-thrown';
import { hasMarker } from './has-marker';
import { StepUsage } from '../usage/step-usage';
import type { PipelineUsage } from '../usage/pipeline-usage';

const marker = Symbol.for('fastroai.error.StepExecutionError');

/**
 * A step failed. `originalError` is what the step threw, wrapped in an `Error` when it was
 * not one (a string, `undefined`, …); the thrown value itself is kept in `cause`.
 *
 * `usage` is everything the failed step was billed over all its attempts, failed ones included
 * (an empty `StepUsage` when it made no `ctx.run` call), so a failed run's cost is never lost.
 */
export class StepExecutionError extends FastroAIError {
  private readonly [marker] = true;
  override readonly name = 'StepExecutionError';
  override readonly code = 'fastroai:step-execution';
  readonly stepId: string;
  readonly originalError: Error;
  /** What the step's attempts were billed, failed ones included. */
  readonly usage: StepUsage;
  /**
   * Set on the error a run rejects with: what all the run's steps were billed, those still
   * running when it ended included (their calls so far). Undefined when no step made a `ctx.run` call.
   */
  runUsage?: PipelineUsage;

  /**
   * @param usage what the step's attempts were billed. @default an empty `StepUsage`
   */
  constructor(stepId: string, originalError: unknown, usage?: StepUsage) {
    const error = toError(originalError);
    super(`Step '${stepId}' failed: ${error.message}`, { cause: originalError });
    this.stepId = stepId;
    this.originalError = error;
    this.usage = usage ?? new StepUsage();
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
