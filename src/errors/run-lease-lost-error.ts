import { FastroAIError } from './fastroai-error';
import { hasMarker } from './has-marker';

const marker = Symbol.for('fastroai.error.RunLeaseLostError');

/** The run's lease was taken by another process (its fencing epoch moved on): this process stops. */
export class RunLeaseLostError extends FastroAIError {
  private readonly [marker] = true;
  override readonly name = 'RunLeaseLostError';
  override readonly code = 'fastroai:run-lease-lost';
  readonly runId: string;
  readonly epoch: number;

  constructor(runId: string, epoch: number) {
    super(`Run '${runId}' lost its lease: epoch ${epoch} is no longer current (another process claimed the run)`);
    this.runId = runId;
    this.epoch = epoch;
  }

  static override isInstance(error: unknown): error is RunLeaseLostError {
    return hasMarker(error, marker);
  }
}
