import { createOpenAI } from '@ai-sdk/openai';
import { tool, type ModelMessage } from 'ai';
import { z } from 'zod';
import { AgentTimeoutError, CostCalculator, FastroAgent, reportedUsageOf, type Tracer } from 'fastroai';
import { useOpenAIServer } from '../support/use-openai-server';

const useServer = useOpenAIServer();


describe('FastroAgent against an OpenAI-compatible server', () => {
  it('has the documented defaults', () => {
    const agent = new FastroAgent();
    expect(agent.modelName).toBe('openai:gpt-4o');
    expect(agent.systemPrompt).toBe('You are a helpful AI assistant.');
    expect(agent.temperature).toBe(0.7);
    expect(agent.maxTokens).toBe(4096);
    expect(agent.maxRetries).toBe(0);
  });

  it("sends 'openai:<model>' to /v1/chat/completions with the key, system prompt and settings", async () => {
    useServer().enqueue({ kind: 'json', content: 'Paris.' });
    const agent = new FastroAgent({ model: 'openai:gpt-4o-mini', systemPrompt: 'Answer briefly.', temperature: 0.2, maxTokens: 100 });
    await agent.run('Capital of France?');
    const [request] = useServer().requests;
    expect(request.path).toBe('/v1/chat/completions');
    expect(request.headers.authorization).toBe('Bearer sk-test-key');
    expect(request.body).toMatchObject({
      model: 'gpt-4o-mini',
      temperature: 0.2,
      max_tokens: 100,
      messages: [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: 'Capital of France?' },
      ],
    });
  });

  it('fills the ChatResponse from the answer: text, tokens with cached ones, model, cost, time, trace id', async () => {
    useServer().enqueue({
      kind: 'json',
      content: 'Hello there',
      model: 'gpt-4o-2024-08-06',
      usage: { promptTokens: 1_000, completionTokens: 100, cachedTokens: 400 },
    });
    const response = await new FastroAgent().run('Hi');
    expect(response.output).toBe('Hello there');
    expect(response.content).toBe('Hello there');
    expect(response.model).toBe('gpt-4o-2024-08-06');
    expect(response.inputTokens).toBe(1_000);
    expect(response.outputTokens).toBe(100);
    expect(response.totalTokens).toBe(1_100);
    expect(response.cacheReadTokens).toBe(400);
    expect(response.requestCount).toBe(1);
    expect(response.toolCallCount).toBe(0);
    // gpt-4o: 600 uncached * 2.5 + 400 cached * 1.25 + 100 output * 10 microcents.
    expect(response.costMicrocents).toBe(1_500 + 500 + 1_000);
    expect(response.costDollars).toBe(0.003);
    expect(response.processingTimeMs).toBeGreaterThanOrEqual(0);
    expect(response.traceId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('prices with the given calculator', async () => {
    useServer().enqueue({ kind: 'json', content: 'x', usage: { promptTokens: 1_000_000, completionTokens: 0 } });
    const costCalculator = new CostCalculator({ pricingOverrides: { 'gpt-4o': { inputPerMtok: 1, outputPerMtok: 1 } } });
    const response = await new FastroAgent({ costCalculator }).run('x');
    expect(response.costMicrocents).toBe(1_000_000);
  });

  it('runs the tool loop and sums usage, requests and tool calls over all its steps', async () => {
    useServer().enqueue(
      { kind: 'json', toolCalls: [{ id: 'call_1', name: 'weather', arguments: { city: 'Paris' } }], usage: { promptTokens: 100, completionTokens: 20 } },
      { kind: 'json', content: 'Sunny in Paris.', usage: { promptTokens: 150, completionTokens: 10, cachedTokens: 100 } },
    );
    const weather = tool({
      description: 'Current weather of a city',
      inputSchema: z.object({ city: z.string() }),
      execute: async ({ city }) => `sunny in ${city}`,
    });
    const response = await new FastroAgent({ tools: { weather } }).run('Weather in Paris?');
    expect(response.output).toBe('Sunny in Paris.');
    expect(response.requestCount).toBe(2);
    expect(response.inputTokens).toBe(250);
    expect(response.outputTokens).toBe(30);
    expect(response.cacheReadTokens).toBe(100);
    expect(response.toolCalls).toEqual([{ toolCallId: 'call_1', toolName: 'weather', input: { city: 'Paris' } }]);
    expect(response.toolCallCount).toBe(1);
    // Each request priced on its own, then summed: (100*2.5 + 20*10) + (50*2.5 + 100*1.25 + 10*10).
    expect(response.costMicrocents).toBe(450 + 350);
    expect(useServer().requests).toHaveLength(2);
    expect(useServer().requests[0].body.tools[0].function.name).toBe('weather');
    expect(useServer().requests[1].body.messages.at(-1)).toEqual({ role: 'tool', tool_call_id: 'call_1', content: 'sunny in Paris' });
  });

  it('gives a typed, validated output for a zod outputType, asking for a JSON schema answer', async () => {
    useServer().enqueue({ kind: 'json', content: '{"category":"billing","confidence":0.9}' });
    const agent = new FastroAgent({
      outputType: z.object({ category: z.enum(['billing', 'bug']), confidence: z.number() }),
    });
    const response = await agent.run('My card was charged twice');
    const category: 'billing' | 'bug' = response.output.category;
    expect(category).toBe('billing');
    expect(response.output).toEqual({ category: 'billing', confidence: 0.9 });
    expect(useServer().requests[0].body.response_format).toMatchObject({ type: 'json_schema', json_schema: { strict: true } });
  });

  it('rejects an answer that does not fit the outputType, carrying the usage it reported', async () => {
    useServer().enqueue({ kind: 'json', content: '{"category":"weather"}', usage: { promptTokens: 70, completionTokens: 9 } });
    const agent = new FastroAgent({ outputType: z.object({ category: z.enum(['billing', 'bug']) }) });
    const error = await agent.run('?').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    const usage = reportedUsageOf(error);
    expect(usage).toBeDefined();
    expect(usage!.inputTokens).toBe(70);
    expect(usage!.outputTokens).toBe(9);
    expect(usage!.requestCount).toBe(1);
    expect(usage!.costMicrocents).toBe(70 * 2.5 + 9 * 10);
  });

  it('sends the message history before the message', async () => {
    useServer().enqueue({ kind: 'json', content: 'Your name is Ada.' });
    const history: ModelMessage[] = [
      { role: 'user', content: 'My name is Ada.' },
      { role: 'assistant', content: 'Nice to meet you, Ada.' },
    ];
    await new FastroAgent().run('What is my name?', { messageHistory: history });
    expect(useServer().requests[0].body.messages).toEqual([
      { role: 'system', content: 'You are a helpful AI assistant.' },
      { role: 'user', content: 'My name is Ada.' },
      { role: 'assistant', content: 'Nice to meet you, Ada.' },
      { role: 'user', content: 'What is my name?' },
    ]);
  });

  it('does not retry a failed request itself: retries belong to ctx.run', async () => {
    useServer().enqueue({ kind: 'error', status: 500 }, { kind: 'json', content: 'late' });
    await expect(new FastroAgent().run('x')).rejects.toThrow();
    expect(useServer().requests).toHaveLength(1);
  });

  it('lets the SDK retry when maxRetries is set explicitly', async () => {
    useServer().enqueue({ kind: 'error', status: 429, headers: { 'retry-after-ms': '10' } }, { kind: 'json', content: 'ok' });
    const response = await new FastroAgent({ maxRetries: 1 }).run('x');
    expect(response.output).toBe('ok');
    expect(useServer().requests).toHaveLength(2);
  });

  it('reports every request of a failed call on its error: the SDK retries (maxRetries) and a missing key', async () => {
    useServer().enqueue({ kind: 'error', status: 500, headers: { 'retry-after-ms': '1' } }, { kind: 'error', status: 500, headers: { 'retry-after-ms': '1' } });
    const error = await new FastroAgent({ maxRetries: 1 }).run('x').catch((caught: unknown) => caught);
    expect(useServer().requests).toHaveLength(2);
    expect(reportedUsageOf(error)?.requestCount).toBe(2);
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      const missing = await new FastroAgent().run('x').catch((caught: unknown) => caught);
      expect((missing as Error).message).toMatch(/API key is missing/);
      expect(reportedUsageOf(missing)?.requestCount).toBe(0);
    } finally {
      process.env.OPENAI_API_KEY = saved;
    }
    expect(useServer().requests).toHaveLength(2);
  });

  it('aborts the HTTP request when the signal aborts: the server sees the connection close', async () => {
    useServer().enqueue({ kind: 'hang' });
    const controller = new AbortController();
    const call = new FastroAgent().run('x', { signal: controller.signal });
    await waitFor(() => useServer().requests.length === 1);
    controller.abort(new Error('cancelled by the test'));
    await expect(call).rejects.toThrow();
    await useServer().requests[0].closed;
    expect(useServer().requests[0].isClosed()).toBe(true);
  });

  it('aborts a call that outlives its own timeout with AgentTimeoutError', async () => {
    useServer().enqueue({ kind: 'hang' });
    const error = await new FastroAgent({ timeout: 0.2 }).run('x').catch((caught: unknown) => caught);
    expect(AgentTimeoutError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'fastroai:agent-timeout', timeoutSeconds: 0.2, model: 'openai:gpt-4o' });
    await useServer().requests[0].closed;
  });

  it('opens a fastroai.agent.run span and logs tokens and cost on it', async () => {
    useServer().enqueue({ kind: 'json', content: 'ok', usage: { promptTokens: 40, completionTokens: 4 } });
    const events: string[] = [];
    const tracer: Tracer = {
      async span(name, fn, attributes) {
        events.push(`span ${name} ${JSON.stringify(attributes)}`);
        return fn('trace-123');
      },
      logMetric: (traceId, name, value) => events.push(`metric ${traceId} ${name}=${String(value)}`),
      logError: () => undefined,
    };
    const response = await new FastroAgent().run('x', { tracer, messageHistory: [{ role: 'user', content: 'earlier' }] });
    expect(response.traceId).toBe('trace-123');
    expect(events).toEqual([
      'span fastroai.agent.run {"model":"openai:gpt-4o","message_history_length":1}',
      'metric trace-123 input_tokens=40',
      'metric trace-123 output_tokens=4',
      `metric trace-123 cost_microcents=${40 * 2.5 + 4 * 10}`,
    ]);
  });

  it('takes any AI SDK LanguageModel object', async () => {
    useServer().enqueue({ kind: 'json', content: 'from an object' });
    const provider = createOpenAI({ baseURL: useServer().baseURL, apiKey: 'sk-object' });
    const agent = new FastroAgent({ model: provider.chat('gpt-4o-mini') });
    expect(agent.modelName).toBe('openai:gpt-4o-mini');
    expect((await agent.run('x')).output).toBe('from an object');
    expect(useServer().requests[0].headers.authorization).toBe('Bearer sk-object');
  });

  it('exposes the dispatch hooks it was given, and no others', () => {
    const onBeforeDispatch = async () => undefined;
    expect(new FastroAgent({ onBeforeDispatch }).onBeforeDispatch).toBe(onBeforeDispatch);
    expect(new FastroAgent().onBeforeDispatch).toBeUndefined();
    expect(new FastroAgent().onAfterDispatch).toBeUndefined();
  });
});

describe('FastroAgent model strings', () => {
  it('names the optional package to install for another provider', () => {
    expect(() => new FastroAgent({ model: 'anthropic:claude-sonnet-4-5' })).toThrow(/npm install @ai-sdk\/anthropic/);
    expect(() => new FastroAgent({ model: 'google:gemini-2.0-flash' })).toThrow(/@ai-sdk\/google/);
  });

  it('rejects an unknown provider, listing the known ones', () => {
    expect(() => new FastroAgent({ model: 'nosuch:model' })).toThrow(/Unknown model provider 'nosuch'.*openai, anthropic/);
  });

  it('treats a bare model name as an OpenAI model', () => {
    expect(new FastroAgent({ model: 'gpt-4o-mini' }).modelName).toBe('openai:gpt-4o-mini');
  });

  it('validates its numeric options', () => {
    expect(() => new FastroAgent({ maxRetries: -1 })).toThrow(/maxRetries/);
    expect(() => new FastroAgent({ maxTokens: 0 })).toThrow(/maxTokens/);
    expect(() => new FastroAgent({ timeout: -1 })).toThrow(/timeout/);
  });

  it('refuses a timeout above 2^31-1 ms, which Node would fire at once', () => {
    expect(() => new FastroAgent({ timeout: 1e7 })).toThrow(/^FastroAgent timeout must be at most 2147483.647 seconds \(about 24\.8 days/);
    expect(new FastroAgent({ timeout: 2_147_483 }).timeout).toBe(2_147_483);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
