import { StepUsage } from './step-usage';

/** Usage of a whole run: totals over its steps, and each step's own usage. */
export class PipelineUsage {
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
