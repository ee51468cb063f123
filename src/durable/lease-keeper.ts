import { systemClock, type Clock, type TimerHandle } from '../clock/clock';
import { RunLeaseLostError } from '../errors/run-lease-lost-error';
import { StoreUnavailableError } from '../errors/store-unavailable-error';
import type { RunStore } from '../store/run-store';
import { STORE_CALL_DEADLINE_MS, storeNameOf } from './call-store';
import { settledWithin } from '../clock/settled-within';

/** How long a run's lease lasts unless renewed (ms). @default 30 s (API.md §12) */
export const DEFAULT_LEASE_MS = 30_000;

/**
 * Keeps a run's lease while the run goes on: renews it every third of the lease, and reports
 * it lost when the store says another owner took it (a newer epoch), or when renewals kept
 * failing, or one was still unanswered, when the lease ran out. A lost lease stops the run
 * (`RunLeaseLostError`; `StoreUnavailableError` when the store failed or stopped answering).
 * Each third of the lease it also calls `watch` (the run's check on its other store calls),
 * and asks the store whether a cancellation was requested for this epoch (`cancelRequested`,
 * when the store has it and `onCancelRequested` is given): the inspector's way to cancel a run
 * another process holds. A failed ask is asked again at the next renewal.
 */
export class LeaseKeeper {
  private timer: TimerHandle | undefined;
  private leaseUntil: number;
  private stopped = false;
  /** A renewal the store has not answered yet. */
  private renewing: Promise<void> | undefined;
  /** The last renewal failed (the store threw): the lease ends unrenewed unless the next one goes through. */
  private lastRenewalFailed = false;
  /** When the `cancelRequested` ask in flight was sent (the clock's ms); undefined when none is. */
  private cancelAskedAt: number | undefined;
  /** A cancellation was heard (and reported): the store is asked no more. */
  private cancelHeard = false;

  constructor(
    private readonly store: RunStore,
    private readonly runId: string,
    private readonly owner: string,
    private readonly epoch: number,
    private readonly leaseMs: number,
    private readonly onLost: (error: Error) => void,
    private readonly clock: Clock = systemClock,
    private readonly watch?: () => void,
    private readonly onCancelRequested?: (reason: string) => void,
  ) {
    this.leaseUntil = clock.now() + leaseMs;
  }

  start(): void {
    this.schedule();
  }

  /**
   * Stops renewing. Resolves once a renewal already sent has been answered, so nothing this
   * keeper sent can land after the run ended (and move the lease a resume waits for); a store
   * that never answers is waited for as long as any store call ({@link STORE_CALL_DEADLINE_MS}).
   */
  stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const renewing = this.renewing;
    if (renewing === undefined) return Promise.resolve();
    return settledWithin(renewing, STORE_CALL_DEADLINE_MS, this.clock).then(() => undefined);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(this.tick, Math.max(1, Math.floor(this.leaseMs / 3)));
    // The lease alone never keeps a process alive: the run's own work does.
    (this.timer as { unref?: () => void }).unref?.();
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    if (this.stopped) return;
    this.watch?.();
    if (this.stopped) return;
    if (this.clock.now() >= this.leaseUntil && (this.renewing !== undefined || this.lastRenewalFailed)) {
      // The lease ran out unrenewed (a renewal still unanswered, or the last one failed): another
      // process may claim the run now, so this one stops (its steps' signals abort). Its end
      // still waits for a renewal in flight (see stop). A keeper merely late (its event loop was
      // blocked) renews: the store refuses it if another process took the run.
      const why = this.renewing === undefined ? 'could not be renewed' : 'had no answer to its renewal';
      const unrenewed = new Error(`the lease ${why} before it ran out (${formatSeconds(this.leaseMs)})`);
      this.lose(new StoreUnavailableError(storeNameOf(this.store), this.runId, unrenewed));
      return;
    }
    if (this.renewing === undefined) this.renewing = this.renew().finally(() => (this.renewing = undefined));
    if (this.onCancelRequested !== undefined && typeof this.store.cancelRequested === 'function') this.askCancel(this.onCancelRequested);
    this.schedule();
  };

  /**
   * Asks the store whether the run was asked to cancel, unless an ask is in flight (one
   * unanswered for {@link STORE_CALL_DEADLINE_MS} is given up, and asked again); a reason is
   * reported once, and then the store is asked no more.
   */
  private askCancel(onCancelRequested: (reason: string) => void): void {
    const now = this.clock.now();
    if (this.cancelHeard || (this.cancelAskedAt !== undefined && now - this.cancelAskedAt < STORE_CALL_DEADLINE_MS)) return;
    this.cancelAskedAt = now;
    const answered = () => {
      if (this.cancelAskedAt === now) this.cancelAskedAt = undefined;
    };
    new Promise<string | undefined>((resolve) => resolve(this.store.cancelRequested!(this.runId, this.epoch))).then((reason) => {
      answered();
      if (typeof reason !== 'string' || this.cancelHeard || this.stopped) return;
      this.cancelHeard = true;
      try {
        onCancelRequested(reason);
      } catch {
        // The run's cancel does not throw; nothing else could be done with its error here.
      }
    }, answered);
  }

  private lose(error: Error): void {
    this.stopped = true;
    this.onLost(error);
  }

  private async renew(): Promise<void> {
    const askedAt = this.clock.now();
    let kept: boolean;
    try {
      kept = await this.store.renewLease(this.runId, this.owner, this.epoch, this.leaseMs);
    } catch (error) {
      this.lastRenewalFailed = true;
      if (!this.stopped && this.clock.now() >= this.leaseUntil) this.lose(new StoreUnavailableError(storeNameOf(this.store), this.runId, error));
      return;
    }
    this.lastRenewalFailed = false;
    if (this.stopped) return;
    if (!kept) return this.lose(new RunLeaseLostError(this.runId, this.epoch));
    this.leaseUntil = askedAt + this.leaseMs;
  }
}

/** `30 s`, `0.5 s`. */
function formatSeconds(ms: number): string {
  return `${ms / 1000} s`;
}
