import { ChatResponse, StepUsage } from 'fastroai';

const COUNTERS = [
  'inputTokens',
  'outputTokens',
  'cacheReadTokens',
  'cacheWriteTokens',
  'inputAudioTokens',
  'outputAudioTokens',
  'cacheAudioReadTokens',
  'requestCount',
  'toolCallCount',
  'costMicrocents',
  'processingTimeMs',
] as const;

describe('StepUsage', () => {
  it.each([
    ['costMicrocents', Number.NaN, /^StepUsage costMicrocents must be an integer >= 0, got NaN$/],
    ['inputTokens', -1, /^StepUsage inputTokens must be an integer >= 0, got -1$/],
    ['costMicrocents', '500', /^StepUsage costMicrocents must be an integer >= 0, got '500' \(a string\)$/],
    ['requestCount', 0.5, /got 0\.5$/],
    ['processingTimeMs', Infinity, /^StepUsage processingTimeMs must be a number >= 0, got Infinity$/],
  ])('refuses %s = %p, naming the field', (field, value, message) => {
    expect(() => new StepUsage({ [field]: value } as never)).toThrow(message);
  });

  it('accepts a fractional processingTimeMs', () => {
    expect(new StepUsage({ processingTimeMs: 1.25 }).processingTimeMs).toBe(1.25);
  });

  it('defaults every counter to 0 and model to undefined', () => {
    const usage = new StepUsage();
    for (const counter of COUNTERS) expect(usage[counter]).toBe(0);
    expect(usage.model).toBeUndefined();
  });

  it('keeps the fields it is given', () => {
    const usage = new StepUsage({ inputTokens: 12, costMicrocents: 345, model: 'gpt-4o' });
    expect(usage).toMatchObject({ inputTokens: 12, costMicrocents: 345, model: 'gpt-4o', outputTokens: 0 });
  });

  it('adds every counter into a new object, leaving both operands unchanged', () => {
    const fieldsA = Object.fromEntries(COUNTERS.map((counter, i) => [counter, i + 1]));
    const fieldsB = Object.fromEntries(COUNTERS.map((counter, i) => [counter, 100 * (i + 1)]));
    const a = new StepUsage(fieldsA);
    const b = new StepUsage(fieldsB);
    const sum = a.add(b);
    expect(sum).toBeInstanceOf(StepUsage);
    expect(sum).not.toBe(a);
    for (const [i, counter] of COUNTERS.entries()) expect(sum[counter]).toBe(101 * (i + 1));
    expect(a.inputTokens).toBe(1);
    expect(b.inputTokens).toBe(100);
  });

  it("keeps this model when set, else takes the other's", () => {
    const withModel = new StepUsage({ model: 'first' });
    const other = new StepUsage({ model: 'second' });
    const none = new StepUsage();
    expect(withModel.add(other).model).toBe('first');
    expect(none.add(other).model).toBe('second');
    expect(none.add(none).model).toBeUndefined();
  });

  it('sums integer microcents exactly, without float drift', () => {
    let total = new StepUsage();
    for (let i = 0; i < 1_000; i++) total = total.add(new StepUsage({ costMicrocents: 100_001 }));
    expect(total.costMicrocents).toBe(100_001_000);
    expect(Number.isInteger(total.costMicrocents)).toBe(true);
  });

  it('reads the usage of a ChatResponse', () => {
    const response = new ChatResponse({
      output: 'x',
      content: 'x',
      model: 'claude',
      inputTokens: 10,
      outputTokens: 20,
      cacheReadTokens: 3,
      cacheWriteTokens: 4,
      inputAudioTokens: 5,
      outputAudioTokens: 6,
      cacheAudioReadTokens: 7,
      toolCallCount: 2,
      costMicrocents: 999,
      processingTimeMs: 12.5,
    });
    expect(StepUsage.fromChatResponse(response)).toEqual(
      new StepUsage({
        model: 'claude',
        inputTokens: 10,
        outputTokens: 20,
        cacheReadTokens: 3,
        cacheWriteTokens: 4,
        inputAudioTokens: 5,
        outputAudioTokens: 6,
        cacheAudioReadTokens: 7,
        requestCount: 1,
        toolCallCount: 2,
        costMicrocents: 999,
        processingTimeMs: 12.5,
      }),
    );
  });

  it('counts one request for a ChatResponse that does not say otherwise', () => {
    const usage = StepUsage.fromChatResponse(new ChatResponse({ output: 'x', content: 'x' }));
    expect(usage.requestCount).toBe(1);
    expect(StepUsage.fromChatResponse(new ChatResponse({ output: 'x', content: 'x', requestCount: 3 })).requestCount).toBe(3);
  });
});
