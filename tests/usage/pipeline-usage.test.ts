import { PipelineUsage, StepUsage } from 'fastroai';

describe('PipelineUsage', () => {
  it('starts at zero with no steps', () => {
    const usage = new PipelineUsage();
    expect(usage.totalCostMicrocents).toBe(0);
    expect(usage.totalInputTokens).toBe(0);
    expect(usage.steps).toEqual({});
    expect(usage.totalCostDollars).toBe(0);
  });

  it('sums every field of its steps exactly and keeps each step usage', () => {
    const extract = new StepUsage({
      inputTokens: 100,
      outputTokens: 10,
      cacheReadTokens: 1,
      cacheWriteTokens: 2,
      inputAudioTokens: 3,
      outputAudioTokens: 4,
      cacheAudioReadTokens: 5,
      requestCount: 1,
      toolCallCount: 6,
      costMicrocents: 1_500,
      processingTimeMs: 20,
    });
    const classify = new StepUsage({
      inputTokens: 200,
      outputTokens: 20,
      cacheReadTokens: 10,
      cacheWriteTokens: 20,
      inputAudioTokens: 30,
      outputAudioTokens: 40,
      cacheAudioReadTokens: 50,
      requestCount: 2,
      toolCallCount: 60,
      costMicrocents: 2_500,
      processingTimeMs: 30,
    });
    const usage = PipelineUsage.fromStepUsages({ extract, classify });
    expect(usage).toMatchObject({
      totalInputTokens: 300,
      totalOutputTokens: 30,
      totalCacheReadTokens: 11,
      totalCacheWriteTokens: 22,
      totalInputAudioTokens: 33,
      totalOutputAudioTokens: 44,
      totalCacheAudioReadTokens: 55,
      totalRequestCount: 3,
      totalToolCallCount: 66,
      totalCostMicrocents: 4_000,
      totalProcessingTimeMs: 50,
    });
    expect(usage.steps.extract).toBe(extract);
    expect(usage.steps.classify).toBe(classify);
  });

  it('takes its fields when constructed, as the original does (API.md §7)', () => {
    expect(new PipelineUsage({ totalCostMicrocents: 1_000_000 }).totalCostDollars).toBe(1);
    const extract = new StepUsage({ inputTokens: 5 });
    const steps = { extract };
    const usage = new PipelineUsage({
      totalInputTokens: 1,
      totalOutputTokens: 2,
      totalCacheReadTokens: 3,
      totalCacheWriteTokens: 4,
      totalInputAudioTokens: 5,
      totalOutputAudioTokens: 6,
      totalCacheAudioReadTokens: 7,
      totalRequestCount: 8,
      totalToolCallCount: 9,
      totalCostMicrocents: 10,
      totalProcessingTimeMs: 11,
      steps,
    });
    expect({ ...usage }).toEqual({
      totalInputTokens: 1,
      totalOutputTokens: 2,
      totalCacheReadTokens: 3,
      totalCacheWriteTokens: 4,
      totalInputAudioTokens: 5,
      totalOutputAudioTokens: 6,
      totalCacheAudioReadTokens: 7,
      totalRequestCount: 8,
      totalToolCallCount: 9,
      totalCostMicrocents: 10,
      totalProcessingTimeMs: 11,
      steps: { extract },
    });
    expect(usage.steps.extract).toBe(extract);
    // The record is its own: adding to the caller's object later does not change the usage.
    (steps as Record<string, StepUsage>).classify = new StepUsage();
    expect(Object.keys(usage.steps)).toEqual(['extract']);
    expect(new PipelineUsage({ totalRequestCount: 2 })).toMatchObject({ totalRequestCount: 2, totalCostMicrocents: 0, steps: {} });
  });

  it('converts the total cost to dollars (1 microcent = 1/1,000,000 dollar)', () => {
    const usage = PipelineUsage.fromStepUsages({ a: new StepUsage({ costMicrocents: 100_000 }), b: new StepUsage({ costMicrocents: 23_456 }) });
    expect(usage.totalCostMicrocents).toBe(123_456);
    expect(usage.totalCostDollars).toBeCloseTo(0.123456, 12);
  });

  it('sums costs that do not add up exactly in floating point dollars without drift', () => {
    const steps: Record<string, StepUsage> = {};
    for (let i = 0; i < 10; i++) steps[`s${i}`] = new StepUsage({ costMicrocents: 100_000 });
    expect(PipelineUsage.fromStepUsages(steps).totalCostMicrocents).toBe(1_000_000);
  });

  it('gives the same totals whatever the order of the steps', () => {
    const a = new StepUsage({ costMicrocents: 7, inputTokens: 1, model: 'm' });
    const b = new StepUsage({ costMicrocents: 11, inputTokens: 2 });
    const forward = PipelineUsage.fromStepUsages({ a, b });
    const backward = PipelineUsage.fromStepUsages({ b, a });
    expect(forward.totalCostMicrocents).toBe(backward.totalCostMicrocents);
    expect(forward.totalInputTokens).toBe(backward.totalInputTokens);
  });
});
