import type { PipelineUsage } from './pipeline-usage';
import { STEP_USAGE_COUNTERS, StepUsage, type StepUsageFields } from './step-usage';

/** A run's usage totals as one step's usage: what a step that ran a nested pipeline was billed through it. */
export function stepUsageOfRun(usage: PipelineUsage): StepUsage {
  const fields: Partial<StepUsageFields> = {};
  for (const counter of STEP_USAGE_COUNTERS) {
    fields[counter] = usage[`total${counter[0].toUpperCase()}${counter.slice(1)}` as keyof PipelineUsage] as number;
  }
  return new StepUsage(fields);
}
