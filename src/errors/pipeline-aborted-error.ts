import { FastroAIError } from './fastroai-error';
import { hasMarker } from './has-marker';
import type { PipelineUsage } from '../usage/pipeline-usage';

const marker = Symbol.for('fastroai.error.PipelineAbortedError');

/** The run was cancelled through its `signal` (or by unsubscribing from `run()`). */
export class PipelineAbortedError extends FastroAIError {
  private readonly [marker] = true;
  override readonly name = 'PipelineAbortedError';
  override readonly code = 'fastroai:pipeline-aborted';
  readonly pipeline: string;
  /**
   * What the run's steps were billed before it was aborted, the running ones' calls so far
   * included. Undefined when no step made a `ctx.run` call (or the run never started).
   */
  runUsage?: PipelineUsage;

  constructor(pipeline: string, reason?: unknown) {
    super(`Pipeline '${pipeline}' was aborted`, { cause: reason });
    this.pipeline = pipeline;
  }

  static override isInstance(error: unknown): error is PipelineAbortedError {
    return hasMarker(error, marker);
  }
}
