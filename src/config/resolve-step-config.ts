import { GIVEN_FIELDS, STEP_CONFIG_FIELDS, StepConfig, type StepConfigOptions } from './step-config';

/**
 * Merges configs from least to most specific: the first is the base (all of its fields
 * count), each later one overrides only the fields it was given explicitly.
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
  for (const override of overrides) {
    if (override === undefined) continue;
    const given = override[GIVEN_FIELDS];
    for (const field of STEP_CONFIG_FIELDS) {
      if (given.has(field)) (merged as Record<string, unknown>)[field] = override[field];
    }
  }
  return new StepConfig(merged);
}
