import { StepUsage } from './step-usage';

/** The total fields of a {@link PipelineUsage}. */
export const PIPELINE_USAGE_TOTALS = [
  'totalInputTokens',
  'totalOutputTokens',
  'totalCacheReadTokens',
  'totalCacheWriteTokens',
  'totalInputAudioTokens',
  'totalOutputAudioTokens',
  'totalCacheAudioReadTokens',
  'totalRequestCount',
  'totalToolCallCount',
  'totalCostMicrocents',
  'totalProcessingTimeMs',
] as const;

/** Fields of a {@link PipelineUsage}: every total and the usage of each step. */
export type PipelineUsageFields = { [K in (typeof PIPELINE_USAGE_TOTALS)[number]]: number } & {
  steps: Record<string, StepUsage>;
};

/** Usage of a whole run: totals over its steps, and each step's own usage. */
export class PipelineUsage implements PipelineUsageFields {
  totalInputTokens = 0;
  totalOutputTokens = 0;
  totalCacheReadTokens = 0;
  totalCacheWriteTokens = 0;
  totalInputAudioTokens = 0;
  totalOutputAudioTokens = 0;
  totalCacheAudioReadTokens = 0;
  totalRequestCount = 0;
  totalToolCallCount = 0;
  /** Integer microcents; exactly the sum of the steps' `costMicrocents`. */
  totalCostMicrocents = 0;
  totalProcessingTimeMs = 0;
  steps: Record<string, StepUsage> = {};

  /**
   * A usage with the given fields, the others 0 (as the original's
   * `PipelineUsage(total_cost_microcents=...)`). The totals are taken as given, not summed from
   * `steps`: {@link PipelineUsage.fromStepUsages} sums.
   *
   * @example
   * new PipelineUsage({ totalCostMicrocents: 1_000_000 }).totalCostDollars; // 1
   */
  constructor(fields: Partial<PipelineUsageFields> = {}) {
    for (const total of PIPELINE_USAGE_TOTALS) {
      const value = fields[total];
      if (value !== undefined) this[total] = value;
    }
    if (fields.steps !== undefined) this.steps = { ...fields.steps };
  }

  /** The total cost in US dollars (for display; compute with microcents). */
  get totalCostDollars(): number {
    return this.totalCostMicrocents / 1_000_000;
  }

  /** Sums step usages into run totals. */
  static fromStepUsages(stepUsages: Record<string, StepUsage>): PipelineUsage {
    const usage = new PipelineUsage();
    let total = new StepUsage();
    for (const [stepId, stepUsage] of Object.entries(stepUsages)) {
      usage.steps[stepId] = stepUsage;
      total = total.add(stepUsage);
    }
    usage.totalInputTokens = total.inputTokens;
    usage.totalOutputTokens = total.outputTokens;
    usage.totalCacheReadTokens = total.cacheReadTokens;
    usage.totalCacheWriteTokens = total.cacheWriteTokens;
    usage.totalInputAudioTokens = total.inputAudioTokens;
    usage.totalOutputAudioTokens = total.outputAudioTokens;
    usage.totalCacheAudioReadTokens = total.cacheAudioReadTokens;
    usage.totalRequestCount = total.requestCount;
    usage.totalToolCallCount = total.toolCallCount;
    usage.totalCostMicrocents = total.costMicrocents;
    usage.totalProcessingTimeMs = total.processingTimeMs;
    return usage;
  }
}
