import { GIVEN_FIELDS, STEP_CONFIG_FIELDS, StepConfig, type StepConfigOptions } from './step-config';

/** A StepConfig's defaults (what `new StepConfig()` holds). */
const STEP_CONFIG_DEFAULTS: Readonly<Required<StepConfigOptions>> = { timeout: null, retries: 0, retryDelay: 1, costBudget: null };

/** The plain step config each pipeline config resolves to when nothing overrides it, shared by its steps. */
const baseStepConfigs = new WeakMap<StepConfig, StepConfig>();

/**
 * Merges configs from least to most specific: the first is the base (all of its fields
 * count), each later one overrides only the fields it was given explicitly (or assigned a
 * value other than the default since it was made).
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
      // Given to the constructor, or assigned since (a value other than the default).
      if (given.has(field) || override[field] !== STEP_CONFIG_DEFAULTS[field]) {
        (merged as Record<string, unknown>)[field] = override[field];
        overridden = true;
      }
    }
  }
  // The constructor checks the merged values: a field assigned after construction is checked here.
  if (overridden) return Object.freeze(new StepConfig(merged));
  let shared = baseStepConfigs.get(base);
  if (shared === undefined) baseStepConfigs.set(base, (shared = Object.freeze(new StepConfig(merged))));
  return shared;
}
