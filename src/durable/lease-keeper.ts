import { systemClock, type Clock, type TimerHandle } from '../clock/clock';
import { RunLeaseLostError } from '../errors/run-lease-lost-error';
import { StoreUnavailableError } from '../errors/store-unavailable-error';
import type { RunStore } from '../store/run-store';
import { storeNameOf } from './call-store';

/** How long a run's lease lasts unless renewed (ms). @default 30 s (API.md §12) */
export const DEFAULT_LEASE_MS = 30_000;

/**
 * Keeps a run's lease while the run goes on: renews it every third of the lease, and reports
 * it lost when the store says another owner took it (a newer epoch), or when renewals kept
 * failing until the lease ran out. A lost lease stops the run (`RunLeaseLostError`).
 */
export class LeaseKeeper {
  private timer: TimerHandle | undefined;
  private leaseUntil: number;
  private stopped = false;
  /** A renewal the store has not answered yet. */
  private renewing: Promise<void> | undefined;

  constructor(
    private readonly store: RunStore,
    private readonly runId: string,
    private readonly owner: string,
    private readonly epoch: number,
    private readonly leaseMs: number,
    private readonly onLost: (error: Error) => void,
    private readonly clock: Clock = systemClock,
  ) {
    this.leaseUntil = clock.now() + leaseMs;
  }

  start(): void {
    this.schedule();
  }

  /**
   * Stops renewing. Resolves once a renewal already sent has been answered, so nothing this
   * keeper sent can land after the run ended (and move the lease a resume waits for).
   */
  stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    return this.renewing ?? Promise.resolve();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.renewing = this.renew().finally(() => (this.renewing = undefined));
    }, Math.max(1, Math.floor(this.leaseMs / 3)));
    // The lease alone never keeps a process alive: the run's own work does.
    (this.timer as { unref?: () => void }).unref?.();
  }

  private async renew(): Promise<void> {
    if (this.stopped) return;
    const askedAt = this.clock.now();
    let kept: boolean;
    try {
      kept = await this.store.renewLease(this.runId, this.owner, this.epoch, this.leaseMs);
    } catch (error) {
      if (this.stopped) return;
      if (this.clock.now() >= this.leaseUntil) {
        this.stopped = true;
        this.onLost(new StoreUnavailableError(storeNameOf(this.store), this.runId, error));
        return;
      }
      this.schedule();
      return;
    }
    if (this.stopped) return;
    if (!kept) {
      this.stopped = true;
      this.onLost(new RunLeaseLostError(this.runId, this.epoch));
      return;
    }
    this.leaseUntil = askedAt + this.leaseMs;
    this.schedule();
  }
}
