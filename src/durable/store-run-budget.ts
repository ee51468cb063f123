import { LocalRunBudget } from '../context/run-budget';
import type { RunStore } from '../store/run-store';
import { callStore } from './call-store';

/**
 * A run budget that also charges the store (`addRunCost`, atomic), so the run's total is kept
 * across processes: a resume starts from it, and the total the store answers (which includes
 * other processes' charges) raises what this process knows. Charges are sent in order, one
 * at a time; a store that fails ends the run (`onStoreFailed`).
 */
export class StoreRunBudget extends LocalRunBudget {
  private sending: Promise<void> = Promise.resolve();

  constructor(
    budgetMicrocents: number | null,
    spentMicrocents: number,
    private readonly store: RunStore,
    private readonly runId: string,
    private readonly onStoreFailed: (error: unknown) => void,
  ) {
    super(budgetMicrocents, spentMicrocents);
  }

  override charge(microcents: number): void {
    super.charge(microcents);
    if (microcents <= 0) return;
    this.sending = this.sending.then(() =>
      callStore(this.store, this.runId, () => this.store.addRunCost(this.runId, microcents)).then(
        (total) => {
          if (total > this.spentMicrocents) this.spentMicrocents = total;
        },
        (error: unknown) => this.onStoreFailed(error),
      ),
    );
  }

  /**
   * Reads the run's total in the store (a charge of 0, after this budget's own charges), so the
   * check before the next call sees what other processes spent meanwhile. Rejects when the
   * store fails; the charges after it are sent all the same.
   */
  readStoreTotal(): Promise<void> {
    const read = this.sending
      .then(() => callStore(this.store, this.runId, () => this.store.addRunCost(this.runId, 0)))
      .then((total) => {
        if (total > this.spentMicrocents) this.spentMicrocents = total;
      });
    this.sending = read.catch(() => undefined);
    return read;
  }

  /** Resolves once every charge so far reached the store. */
  settled(): Promise<void> {
    return this.sending;
  }
}
