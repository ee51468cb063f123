import { FastroAIError } from './fastroai-error';
import { hasMarker } from './has-marker';

const marker = Symbol.for('fastroai.error.RunLockedError');

/** Another process holds the run's lease: it is running (or crashed less than a lease ago). */
export class RunLockedError extends FastroAIError {
  private readonly [marker] = true;
  override readonly name = 'RunLockedError';
  override readonly code = 'fastroai:run-locked';
  readonly runId: string;
  readonly owner: string;
  /** Until when the lease is live (epoch ms). */
  readonly leaseUntil: number;

  constructor(runId: string, owner: string, leaseUntil: number) {
    super(`Run '${runId}' is locked by ${owner} until ${new Date(leaseUntil).toISOString()}`);
    this.runId = runId;
    this.owner = owner;
    this.leaseUntil = leaseUntil;
  }

  static override isInstance(error: unknown): error is RunLockedError {
    return hasMarker(error, marker);
  }
}
