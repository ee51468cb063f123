/**
 * The budget port of one run, for `runCostBudget`: every step of the run reads what was spent
 * before each `ctx.run` call and charges what each call was billed. In one process it is a
 * counter; with a store, charges also go to the store (`addRunCost`), so a run resumed in
 * another process, or run by several workers, keeps one total.
 */
export interface RunBudget {
  /** Integer microcents, or null for no run budget. */
  readonly budgetMicrocents: number | null;
  /** Integer microcents spent so far by all steps of the run (as far as this process knows). */
  readonly spentMicrocents: number;
  /** Adds what one model call was billed (integer microcents, failed calls included). */
  charge(microcents: number): void;
  /**
   * Learns what other processes spent (the store's total) before a call is checked: present
   * where several processes charge the run at once (a worker of a distributed run).
   */
  refresh?(): Promise<void>;
}

/** A run budget kept in this process. */
export class LocalRunBudget implements RunBudget {
  spentMicrocents: number;

  constructor(
    readonly budgetMicrocents: number | null,
    spentMicrocents = 0,
  ) {
    this.spentMicrocents = spentMicrocents;
  }

  charge(microcents: number): void {
    this.spentMicrocents += microcents;
  }
}
