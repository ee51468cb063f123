import { ChatResponse, StepUsage } from 'fastroai';
import { readResponseUsage } from '../../src/usage/read-response-usage';

describe('readResponseUsage', () => {
  it('reads a well-formed response as its StepUsage', () => {
    const response = new ChatResponse({ output: 'x', content: 'x', inputTokens: 10, outputTokens: 2, costMicrocents: 70, processingTimeMs: 1.5, model: 'gpt-4o' });
    const { usage, problem } = readResponseUsage(response, 'agent.run resolved');
    expect(problem).toBeUndefined();
    expect(usage).toEqual(StepUsage.fromChatResponse(response));
  });

  it('counts the valid fields of a malformed response and names its first bad field', () => {
    const response = new ChatResponse({ output: 'x', content: 'x', inputTokens: 10 });
    (response as unknown as Record<string, unknown>).outputTokens = -3;
    (response as unknown as Record<string, unknown>).requestCount = Number.NaN;
    const { usage, problem } = readResponseUsage(response, 'agent.run resolved');
    expect(problem?.message).toBe('agent.run resolved a ChatResponse whose outputTokens is -3 (expected an integer >= 0)');
    expect(usage).toMatchObject({ inputTokens: 10, outputTokens: 0, requestCount: 1 });
  });

  it("takes a plain object that leaves counters out as a ChatResponse does: 0, requestCount 1 (any object may be an agent's response)", () => {
    const { usage, problem } = readResponseUsage({ output: 'x', content: 'x', costMicrocents: 100 }, 'agent.run resolved');
    expect(problem).toBeUndefined();
    expect(usage).toMatchObject({ costMicrocents: 100, inputTokens: 0, outputTokens: 0, requestCount: 1, toolCallCount: 0, processingTimeMs: 0 });
    // Present but wrong is still refused.
    expect(readResponseUsage({ output: 'x', content: 'x', inputTokens: null }, 'agent.run resolved').problem?.message).toBe(
      'agent.run resolved a ChatResponse whose inputTokens is null (expected an integer >= 0)',
    );
  });

  it('refuses a model that is not a string', () => {
    const response = new ChatResponse({ output: 'x', content: 'x', model: 42 as never });
    expect(readResponseUsage(response, 'agent.run resolved').problem?.message).toBe('agent.run resolved a ChatResponse whose model is 42 (expected a string)');
  });

  it('refuses a value that is not an object, counting the request', () => {
    const { usage, problem } = readResponseUsage('text', 'agent.run resolved');
    expect(problem?.message).toBe("agent.run resolved 'text'; expected a ChatResponse");
    expect(usage.requestCount).toBe(1);
  });
});
