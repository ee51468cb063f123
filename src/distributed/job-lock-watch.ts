import { WorkerLostError } from '../errors/worker-lost-error';

/** What a lock watch needs of a BullMQ job. */
export interface LockedJob {
  extendLock(token: string, duration: number): Promise<number>;
}

/**
 * Whether this worker still holds a job's lock, as far as it can tell without asking Redis:
 * the lock is valid until `lockDuration` after it was taken or last renewed (BullMQ renews it
 * every `lockDuration / 2` and reports `locksRenewed`), minus a safety margin. A worker whose
 * event loop was blocked past that point has lost it (another worker may run the job by now):
 * `check()` says so synchronously, and a timer notices it too. `confirm()` asks Redis (extends
 * the lock), right before the step's record is written: a record is written only by the
 * holder of a lock valid for at least `lockDuration` more.
 */
export class JobLockWatch {
  private validUntil: number;
  private lostError: WorkerLostError | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly marginMs: number;

  constructor(
    private readonly job: LockedJob,
    private readonly token: string,
    private readonly stepId: string,
    private readonly lockDuration: number,
    private readonly onLost: (error: WorkerLostError) => void,
  ) {
    this.marginMs = Math.min(1_000, lockDuration / 5);
    this.validUntil = Date.now() + lockDuration - this.marginMs;
    this.timer = setInterval(() => this.check(), Math.max(50, lockDuration / 4));
    this.timer.unref();
  }

  /** The error of a lost lock, once lost. */
  get error(): WorkerLostError | undefined {
    return this.lostError;
  }

  /** BullMQ renewed the lock just now. */
  renewed(): void {
    if (this.lostError === undefined) this.validUntil = Date.now() + this.lockDuration - this.marginMs;
  }

  /** False once the lock is (or may be) lost; the first time, reports it (`onLost`). */
  check(): boolean {
    if (this.lostError !== undefined) return false;
    const now = Date.now();
    if (now > this.validUntil) this.lost(`its job lock expired ${now - this.validUntil + this.marginMs} ms ago (was the event loop blocked?)`);
    return this.lostError === undefined;
  }

  /** The lock could not be renewed (BullMQ's `lockRenewalFailed`), or Redis says it is another worker's. */
  lost(detail: string): void {
    if (this.lostError !== undefined) return;
    this.lostError = new WorkerLostError(this.stepId, `${detail}; another worker may run it, and this worker's record is refused`);
    clearInterval(this.timer);
    this.onLost(this.lostError);
  }

  /** Asks Redis: extends the lock when this worker still holds it; false (and lost) when not. */
  async confirm(): Promise<boolean> {
    if (!this.check()) return false;
    const sentAt = Date.now();
    let extended = 0;
    try {
      extended = await this.job.extendLock(this.token, this.lockDuration);
    } catch {
      extended = 0;
    }
    if (!extended) {
      this.lost('Redis no longer holds its job lock for this worker');
      return false;
    }
    this.validUntil = sentAt + this.lockDuration - this.marginMs;
    return this.check();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
