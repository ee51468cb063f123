import { FastroAIError } from './fastroai-error';
import { hasMarker } from './has-marker';

const marker = Symbol.for('fastroai.error.RunNotFoundError');

/** `resume` (or a store's `claimRun`) was given a run id the store does not have. */
export class RunNotFoundError extends FastroAIError {
  private readonly [marker] = true;
  override readonly name = 'RunNotFoundError';
  override readonly code = 'fastroai:run-not-found';
  readonly runId: string;

  constructor(runId: string, storeName?: string) {
    super(`Run '${runId}' not found${storeName === undefined ? '' : ` in store ${storeName}`}`);
    this.runId = runId;
  }

  static override isInstance(error: unknown): error is RunNotFoundError {
    return hasMarker(error, marker);
  }
}
