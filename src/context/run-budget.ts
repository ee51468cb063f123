/** The run-wide cost accumulator that every step of one run shares, for `runCostBudget`. */
export interface RunBudget {
  /** Integer microcents, or null for no run budget. */
  readonly budgetMicrocents: number | null;
  /** Integer microcents spent so far by all steps of the run. */
  spentMicrocents: number;
}
