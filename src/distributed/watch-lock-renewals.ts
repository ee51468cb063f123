import type { Worker } from 'bullmq';

/** Where {@link watchLockRenewals} reports. */
export interface LockRenewalListener {
  /** These jobs' locks were renewed by a request sent at `sentAtMs` (epoch ms on this clock). */
  renewed(jobIds: readonly string[], sentAtMs: number): void;
  /** These jobs' locks could not be renewed: they are lost. */
  failed(jobIds: readonly string[]): void;
}

/**
 * Reports a BullMQ worker's lock renewals with the time each renewal was SENT, the lower bound
 * of the renewed locks' expiry (`sentAtMs + lockDuration`). BullMQ's `locksRenewed` event comes
 * after the round trip and carries no time; its lock manager calls the worker's public
 * `extendJobLocks(jobIds, tokens, duration)` (answering the job ids it could not renew), which
 * this wraps on the instance. With a BullMQ that has no such method, the `locksRenewed` event is
 * used with the time it arrives, and the lock watch's margin covers the round trip.
 */
export function watchLockRenewals(worker: Worker<any, any>, listener: LockRenewalListener): void {
  worker.on('lockRenewalFailed', (jobIds: string[]) => listener.failed(jobIds));
  const extendJobLocks = (worker as Partial<Pick<Worker, 'extendJobLocks'>>).extendJobLocks;
  if (typeof extendJobLocks !== 'function') {
    worker.on('locksRenewed', ({ jobIds }: { jobIds: string[] }) => listener.renewed(jobIds, Date.now()));
    return;
  }
  worker.extendJobLocks = async (jobIds: string[], tokens: string[], duration: number): Promise<string[]> => {
    const sentAtMs = Date.now();
    const failed = await extendJobLocks.call(worker, jobIds, tokens, duration);
    const refused = new Set(failed);
    listener.renewed(
      jobIds.filter((jobId) => !refused.has(jobId)),
      sentAtMs,
    );
    return failed;
  };
}
