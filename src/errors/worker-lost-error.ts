import { FastroAIError } from './fastroai-error';
import { hasMarker } from './has-marker';

const marker = Symbol.for('fastroai.error.WorkerLostError');

/** A distributed step's worker died (its job stalled) more often than the queue allows. */
export class WorkerLostError extends FastroAIError {
  private readonly [marker] = true;
  override readonly name = 'WorkerLostError';
  override readonly code = 'fastroai:worker-lost';
  readonly stepId: string;

  constructor(stepId: string, detail?: string) {
    super(`Step '${stepId}' lost its worker${detail === undefined ? '' : `: ${detail}`}`);
    this.stepId = stepId;
  }

  static override isInstance(error: unknown): error is WorkerLostError {
    return hasMarker(error, marker);
  }
}
