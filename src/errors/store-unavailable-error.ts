import { FastroAIError } from './fastroai-error';
import { describeThrown } from './describe-thrown';
import { hasMarker } from './has-marker';

const marker = Symbol.for('fastroai.error.StoreUnavailableError');

/** The run store kept failing after bounded retries; the store's own error is the `cause`. */
export class StoreUnavailableError extends FastroAIError {
  private readonly [marker] = true;
  override readonly name = 'StoreUnavailableError';
  override readonly code = 'fastroai:store-unavailable';
  readonly storeName: string;
  readonly runId: string | undefined;

  constructor(storeName: string, runId: string | undefined, cause: unknown) {
    // Not `instanceof Error`: a native driver's error may come from another realm (jest, vm).
    const reason = describeThrown(cause);
    super(`Run store ${storeName} is unavailable${runId === undefined ? '' : ` for run '${runId}'`}: ${reason}`, { cause });
    this.storeName = storeName;
    this.runId = runId;
  }

  static override isInstance(error: unknown): error is StoreUnavailableError {
    return hasMarker(error, marker);
  }
}
