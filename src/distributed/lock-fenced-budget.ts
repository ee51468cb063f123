import type { RunBudget } from '../context/run-budget';
import type { StoreRunBudget } from '../durable/store-run-budget';
import type { JobLockWatch } from './job-lock-watch';

/**
 * A worker's run budget, fenced by its job lock: every `ctx.run` call reads the budget before
 * it is sent, so a worker that lost its job's lock (its event loop was blocked past
 * `lockDuration`) has its further calls refused with `WorkerLostError` at once, before the
 * timer that aborts its signal had a chance to run. Other workers charge the run at the same
 * time, so each call of a run with a budget is first checked against the store's total
 * ({@link refresh}: one round trip a call).
 */
export class LockFencedBudget implements RunBudget {
  constructor(
    private readonly inner: StoreRunBudget,
    private readonly lock: JobLockWatch,
  ) {}

  get budgetMicrocents(): number | null {
    if (!this.lock.check()) throw this.lock.error;
    return this.inner.budgetMicrocents;
  }

  get spentMicrocents(): number {
    return this.inner.spentMicrocents;
  }

  charge(microcents: number): void {
    this.inner.charge(microcents);
  }

  /** Other workers charge the run at the same time: each call is checked against the store's total. */
  refresh(): Promise<void> {
    return this.inner.readStoreTotal();
  }
}
