import { GIVEN_FIELDS, STEP_CONFIG_FIELDS, StepConfig, type StepConfigOptions } from './step-config';

/** The plain step config each pipeline config resolves to when nothing overrides it, shared by its steps. */
const baseStepConfigs = new WeakMap<StepConfig, StepConfig>();

/**
 * Merges configs from least to most specific: the first is the base (all of its fields
 * count), each later one overrides only the fields it was given explicitly.
 *
 * The result is frozen (a step reads `ctx.config`, it does not change it), and steps that
 * override nothing share one per base: a 100,000-step pipeline holds one config, not 100,000.
 *
 * @example
 * resolveStepConfig(pipelineConfig, step.config, stepConfigs[id])
 */
export function resolveStepConfig(base: StepConfig, ...overrides: Array<StepConfig | undefined>): StepConfig {
  const merged: Required<StepConfigOptions> = {
    timeout: base.timeout,
    retries: base.retries,
    retryDelay: base.retryDelay,
    costBudget: base.costBudget,
  };
  let overridden = false;
  for (const override of overrides) {
    if (override === undefined) continue;
    const given = override[GIVEN_FIELDS];
    for (const field of STEP_CONFIG_FIELDS) {
      if (given.has(field)) {
        (merged as Record<string, unknown>)[field] = override[field];
        overridden = true;
      }
    }
  }
  if (overridden) return Object.freeze(new StepConfig(merged));
  let shared = baseStepConfigs.get(base);
  if (shared === undefined) baseStepConfigs.set(base, (shared = Object.freeze(new StepConfig(merged))));
  return shared;
}
