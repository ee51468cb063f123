import { FastroAIError } from './fastroai-error';
import { hasMarker } from './has-marker';

const marker = Symbol.for('fastroai.error.RunExistsError');

/** A new run was given a `runId` that the store already has: resume it instead. */
export class RunExistsError extends FastroAIError {
  private readonly [marker] = true;
  override readonly name = 'RunExistsError';
  override readonly code = 'fastroai:run-exists';
  readonly runId: string;

  constructor(runId: string, storeName?: string) {
    super(
      `Run '${runId}' already exists${storeName === undefined ? '' : ` in store ${storeName}`}: use pipeline.resume('${runId}') to continue it`,
    );
    this.runId = runId;
  }

  static override isInstance(error: unknown): error is RunExistsError {
    return hasMarker(error, marker);
  }
}
