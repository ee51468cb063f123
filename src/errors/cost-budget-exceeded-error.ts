import { FastroAIError } from './fastroai-error';
import { hasMarker } from './has-marker';

const marker = Symbol.for('fastroai.error.CostBudgetExceededError');

/**
 * A `ctx.run` call was refused because the step's (or the run's) accumulated cost already
 * reached its budget. Never retried.
 */
export class CostBudgetExceededError extends FastroAIError {
  private readonly [marker] = true;
  override readonly name = 'CostBudgetExceededError';
  override readonly code = 'fastroai:cost-budget-exceeded';
  readonly budgetMicrocents: number;
  readonly actualMicrocents: number;
  readonly stepId: string | undefined;

  /**
   * @param budget the budget in integer microcents
   * @param actual the accumulated cost in integer microcents
   * @param stepId the step whose call was refused
   * @param scope `'step'` for a step's `costBudget`, `'run'` for the pipeline's `runCostBudget`
   */
  constructor(budget: number, actual: number, stepId?: string, scope: 'step' | 'run' = 'step') {
    const where = stepId === undefined ? '' : ` in step '${stepId}'`;
    const detail = `${scope === 'run' ? 'run' : 'step'} cost ${actual} microcents >= budget ${budget} microcents`;
    super(`Cost budget exceeded${where}: ${detail}`);
    this.budgetMicrocents = budget;
    this.actualMicrocents = actual;
    this.stepId = stepId;
  }

  static override isInstance(error: unknown): error is CostBudgetExceededError {
    return hasMarker(error, marker);
  }
}
