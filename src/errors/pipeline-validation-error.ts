import { FastroAIError } from './fastroai-error';
import { hasMarker } from './has-marker';

const marker = Symbol.for('fastroai.error.PipelineValidationError');

/** A pipeline definition, a step or a config is invalid. Raised at construction, before any step runs. */
export class PipelineValidationError extends FastroAIError {
  private readonly [marker] = true;
  override readonly name = 'PipelineValidationError';
  override readonly code = 'fastroai:pipeline-validation';
  /**
   * More than the message says, when there is more (the known step ids and the nearest one, the
   * class a `@DependsOn` was written on): the message keeps API.md's exact wording, and this
   * also ends the first line of the error's `stack`. Not enumerable.
   */
  declare readonly hint?: string;

  static override isInstance(error: unknown): error is PipelineValidationError {
    return hasMarker(error, marker);
  }
}
