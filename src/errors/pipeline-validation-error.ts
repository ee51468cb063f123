import { FastroAIError } from './fastroai-error';
import { hasMarker } from './has-marker';

const marker = Symbol.for('fastroai.error.PipelineValidationError');

/** A pipeline definition, a step or a config is invalid. Raised at construction, before any step runs. */
export class PipelineValidationError extends FastroAIError {
  private readonly [marker] = true;
  override readonly name = 'PipelineValidationError';
  override readonly code = 'fastroai:pipeline-validation';

  static override isInstance(error: unknown): error is PipelineValidationError {
    return hasMarker(error, marker);
  }
}
