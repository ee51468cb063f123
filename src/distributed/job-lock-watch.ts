import { WorkerLostError } from '../errors/worker-lost-error';

/** What a lock watch needs of a BullMQ job. */
export interface LockedJob {
  /**
   * When BullMQ moved the job to active (epoch ms): the client's `Date.now()` taken before it
   * sent the script that also set the lock (`prepareJobForProcessing.lua`: `SET lock PX
   * lockDuration` next to `HMSET processedOn`), so the lock lasts until at least
   * `processedOn + lockDuration` on this clock. Unset: the watch's construction time is used.
   */
  readonly processedOn?: number | null;
  extendLock(token: string, duration: number): Promise<number>;
}

/**
 * Whether this worker still holds a job's lock, as far as it can tell without asking Redis:
 * the lock is valid until `lockDuration` after it was taken (the job's `processedOn`) or last
 * renewed (BullMQ renews it every `lockDuration / 2`; {@link renewed} takes the time the
 * renewal was SENT), minus a safety margin. A worker whose event loop was blocked past that
 * point has lost it (another worker may run the job by now): `check()` says so synchronously,
 * and a timer notices it too.
 *
 * `confirm()`, right before the step's record is written, guarantees that the record is written
 * by the holder of a lock valid for at least `lockDuration / 2` more: when the lock is known valid
 * that long already (a step shorter than `lockDuration / 2` minus the margin), it answers without
 * Redis; otherwise it extends the lock (a Redis round trip) and answers what Redis says.
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
    const takenAt = typeof job.processedOn === 'number' && job.processedOn > 0 ? job.processedOn : Date.now();
    this.validUntil = takenAt + lockDuration - this.marginMs;
    this.timer = setInterval(() => this.check(), Math.max(50, lockDuration / 4));
    this.timer.unref();
  }

  /** The error of a lost lock, once lost. */
  get error(): WorkerLostError | undefined {
    return this.lostError;
  }

  /**
   * BullMQ renewed the lock with a request sent at `sentAtMs` (epoch ms on this clock): the lock
   * lasts until at least `sentAtMs + lockDuration`. A caller that only knows when the answer came
   * passes that time instead, and relies on the margin to cover the round trip.
   */
  renewed(sentAtMs: number): void {
    if (this.lostError === undefined) this.validUntil = Math.max(this.validUntil, sentAtMs + this.lockDuration - this.marginMs);
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

  /**
   * True when this worker holds the lock for at least `lockDuration / 2` more: at once when it is
   * known valid that long, else after extending it in Redis. False (and lost) when it does not.
   */
  async confirm(): Promise<boolean> {
    if (!this.check()) return false;
    const sentAt = Date.now();
    if (this.validUntil - sentAt >= this.lockDuration / 2) return true;
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
    this.renewed(sentAt);
    return this.check();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
