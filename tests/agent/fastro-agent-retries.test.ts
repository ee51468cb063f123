import { tool } from 'ai';
import { z } from 'zod';
import {
  FastroAgent,
  Pipeline,
  PipelineConfig,
  StepExecutionError,
  StepUsage,
  step,
  type CallRetryingEvent,
  type PipelineEvent,
  type StepConfigOptions,
  type StepFailedEvent,
} from 'fastroai';
import { useOpenAIServer } from '../support/use-openai-server';

const useServer = useOpenAIServer();

/** Runs `pipeline` through `run()`, collecting every event, and the error the stream ended with. */
function collect(pipeline: Pipeline<any, any, any>, options: { signal?: AbortSignal; onEvent?: (event: PipelineEvent) => void } = {}) {
  const events: PipelineEvent[] = [];
  return new Promise<{ events: PipelineEvent[]; error: unknown }>((resolve) => {
    pipeline.run({}, undefined, { signal: options.signal }).subscribe({
      next: (event) => {
        events.push(event);
        options.onEvent?.(event);
      },
      error: (error: unknown) => resolve({ events, error }),
      complete: () => resolve({ events, error: undefined }),
    });
  });
}

/** A one-step pipeline whose step calls `agent` through ctx.run with `config`. */
function askWith(agent: FastroAgent<any>, config: StepConfigOptions) {
  return new Pipeline({ name: 'ask', steps: { ask: agent.asStep('Question?', config) } });
}

const types = (events: PipelineEvent[]) => events.map((event) => event.type);
const callRetries = (events: PipelineEvent[]) => events.filter((event): event is CallRetryingEvent => event.type === 'call.retrying');

describe('ctx.run with FastroAgent: retries are visible and counted', () => {
  it('emits call.retrying for each retried request and counts all 3 requests after two HTTP 500s', async () => {
    useServer().enqueue({ kind: 'error', status: 500, message: 'boom 1' }, { kind: 'error', status: 500, message: 'boom 2' }, { kind: 'json', content: 'ok' });
    const { events, error } = await collect(askWith(new FastroAgent(), { retries: 2, retryDelay: 0.01 }));
    expect(error).toBeUndefined();
    expect(useServer().requests).toHaveLength(3);
    expect(types(events)).toEqual(['pipeline.started', 'step.started', 'call.retrying', 'call.retrying', 'step.completed', 'level.completed', 'pipeline.completed']);
    const [first, second] = callRetries(events);
    expect(first).toMatchObject({ stepId: 'ask', attempt: 1, delaySeconds: 0.01 });
    expect(first.error.message).toMatch(/boom 1/);
    expect(second).toMatchObject({ stepId: 'ask', attempt: 2, delaySeconds: 0.02 });
    const completed = events.find((event) => event.type === 'pipeline.completed');
    expect(completed?.type === 'pipeline.completed' && completed.result.usage?.totalRequestCount).toBe(3);
  });

  it('counts every request of a call that failed after a paid tool-loop request (the failed request included)', async () => {
    useServer().enqueue(
      { kind: 'json', toolCalls: [{ id: 'call_1', name: 'lookup', arguments: { q: 'x' } }], usage: { promptTokens: 100, completionTokens: 20 } },
      { kind: 'error', status: 503 },
    );
    const lookup = tool({ description: 'look up', inputSchema: z.object({ q: z.string() }), execute: async () => 'found' });
    const agent = new FastroAgent({ tools: { lookup } });
    const { events, error } = await collect(askWith(agent, { retries: 0 }));
    expect(StepExecutionError.isInstance(error)).toBe(true);
    const failed = events.find((event): event is StepFailedEvent => event.type === 'step.failed')!;
    expect(failed.usage).toMatchObject({ requestCount: 2, inputTokens: 100, outputTokens: 20, costMicrocents: 100 * 2.5 + 20 * 10 });
    expect(useServer().requests).toHaveLength(2);
  });
});

describe('ctx.run with FastroAgent: permanent errors fail at once', () => {
  it.each([
    ['401 "Incorrect API key"', { kind: 'error' as const, status: 401, message: 'Incorrect API key provided: sk-bad' }, /Incorrect API key/],
    ['403', { kind: 'error' as const, status: 403, message: 'forbidden' }, /forbidden/],
    ['400', { kind: 'error' as const, status: 400, message: 'bad request' }, /bad request/],
    [
      '429 insufficient_quota',
      { kind: 'error' as const, status: 429, message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' },
      /exceeded your current quota/,
    ],
  ])('sends a request that failed with %s once, and never retries the step', async (_name, answer, message) => {
    useServer().fallback = () => answer;
    let attempts = 0;
    const agent = new FastroAgent();
    const pipeline = new Pipeline({
      name: 'permanent',
      steps: {
        ask: step({ retries: 2, retryDelay: 0.01 }, async (ctx) => {
          attempts++;
          return (await ctx.run(agent, 'Q')).output;
        }),
      },
    });
    const { events, error } = await collect(pipeline);
    expect(StepExecutionError.isInstance(error)).toBe(true);
    expect((error as StepExecutionError).originalError.message).toMatch(message);
    expect(useServer().requests).toHaveLength(1);
    expect(attempts).toBe(1);
    expect(types(events)).not.toContain('call.retrying');
    expect(types(events)).not.toContain('step.retrying');
    expect((error as StepExecutionError).usage.requestCount).toBe(1);
  });

  it('does not retry a missing API key, and counts no request (none was sent)', async () => {
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY; // the provider reads it when the request is made
    let outcome: { events: PipelineEvent[]; error: unknown };
    try {
      outcome = await collect(askWith(new FastroAgent(), { retries: 2, retryDelay: 0.5 }));
    } finally {
      process.env.OPENAI_API_KEY = saved;
    }
    const { events, error } = outcome;
    expect(StepExecutionError.isInstance(error)).toBe(true);
    expect((error as StepExecutionError).originalError.message).toMatch(/API key is missing/);
    expect(types(events)).not.toContain('call.retrying');
    expect(useServer().requests).toHaveLength(0);
    expect((error as StepExecutionError).usage.requestCount).toBe(0);
  });

  it('does not retry an answer that fails its zod schema, and bills it on the StepExecutionError', async () => {
    useServer().fallback = () => ({ kind: 'json', content: '{"answer":"not a number"}', usage: { promptTokens: 100, completionTokens: 10 } });
    const agent = new FastroAgent({ outputType: z.object({ answer: z.number() }) });
    const { events, error } = await collect(askWith(agent, { retries: 2, retryDelay: 0.01 }));
    expect(StepExecutionError.isInstance(error)).toBe(true);
    expect(useServer().requests).toHaveLength(1);
    expect(types(events)).not.toContain('call.retrying');
    expect((error as StepExecutionError).usage).toMatchObject({ requestCount: 1, inputTokens: 100, outputTokens: 10, costMicrocents: 100 * 2.5 + 10 * 10 });
  });

  it('still retries a plain 429 rate limit (transient)', async () => {
    useServer().enqueue({ kind: 'error', status: 429, message: 'Rate limit reached' }, { kind: 'json', content: 'ok' });
    const { events, error } = await collect(askWith(new FastroAgent(), { retries: 1, retryDelay: 0.01 }));
    expect(error).toBeUndefined();
    expect(callRetries(events)).toHaveLength(1);
    expect(useServer().requests).toHaveLength(2);
  });
});

describe('ctx.run with FastroAgent: Retry-After', () => {
  it('waits what a 429 retry-after (seconds) asks when longer than the backoff', async () => {
    useServer().enqueue({ kind: 'error', status: 429, headers: { 'retry-after': '1' } }, { kind: 'json', content: 'ok' });
    const { events, error } = await collect(askWith(new FastroAgent(), { retries: 1, retryDelay: 0.01 }));
    expect(error).toBeUndefined();
    expect(callRetries(events)[0].delaySeconds).toBe(1);
  });

  it('reads retry-after-ms, and keeps the backoff when it is longer than the header', async () => {
    useServer().enqueue(
      { kind: 'error', status: 503, headers: { 'retry-after-ms': '150' } },
      { kind: 'error', status: 503, headers: { 'retry-after-ms': '1' } },
      { kind: 'json', content: 'ok' },
    );
    const { events, error } = await collect(askWith(new FastroAgent(), { retries: 2, retryDelay: 0.05 }));
    expect(error).toBeUndefined();
    expect(callRetries(events).map((event) => event.delaySeconds)).toEqual([0.15, 0.1]);
  });

  it('caps a Retry-After at 60 s', async () => {
    useServer().enqueue({ kind: 'error', status: 429, headers: { 'retry-after': '3600' } });
    const controller = new AbortController();
    const { events, error } = await collect(askWith(new FastroAgent(), { retries: 1, retryDelay: 0.01 }), {
      signal: controller.signal,
      // The wait is not the point: stop the run as soon as the retry is announced.
      onEvent: (event) => event.type === 'call.retrying' && controller.abort(),
    });
    expect(error).toBeDefined();
    expect(callRetries(events)[0].delaySeconds).toBe(60);
    expect(useServer().requests).toHaveLength(1);
  });
});

describe("a failed step's cost is not lost", () => {
  it('puts what every attempt was billed on step.failed and on the StepExecutionError', async () => {
    useServer().fallback = () => ({ kind: 'json', content: 'unusable', usage: { promptTokens: 100, completionTokens: 10 } });
    const agent = new FastroAgent();
    const pipeline = new Pipeline({
      name: 'paid-failure',
      steps: {
        ask: step({ retries: 2, retryDelay: 0.01 }, async (ctx) => {
          const response = await ctx.run(agent, 'Q');
          throw new Error(`cannot use '${response.output}'`);
        }),
      },
    });
    const { events, error } = await collect(pipeline);
    const perCall = 100 * 2.5 + 10 * 10;
    const failed = events.find((event): event is StepFailedEvent => event.type === 'step.failed')!;
    expect(failed.usage).toBeInstanceOf(StepUsage);
    expect(failed.usage).toMatchObject({ requestCount: 3, inputTokens: 300, outputTokens: 30, costMicrocents: 3 * perCall });
    expect(StepExecutionError.isInstance(error)).toBe(true);
    expect((error as StepExecutionError).usage).toMatchObject({ requestCount: 3, costMicrocents: 3 * perCall });
    expect(failed.error).toBe(error);
  });

  it('counts the request of a step attempt abandoned at its deadline, then retried at step level', async () => {
    useServer().enqueue({ kind: 'hang' }, { kind: 'json', content: 'second', usage: { promptTokens: 10, completionTokens: 1 } });
    const pipeline = new Pipeline({ name: 'deadline', steps: { ask: new FastroAgent().asStep('Q', { timeout: 0.2, retries: 1, retryDelay: 0.01 }) } });
    const result = await pipeline.execute({});
    expect(result.output).toBe('second');
    expect(useServer().requests).toHaveLength(2);
    expect(result.usage?.steps.ask).toMatchObject({ requestCount: 2, inputTokens: 10 });
  });

  it("counts a failed step's attempts, failed requests included, in the result's usage under onError 'continue'", async () => {
    useServer().enqueue({ kind: 'json', content: 'ok', usage: { promptTokens: 100, completionTokens: 10 } });
    useServer().fallback = () => ({ kind: 'error', status: 500 });
    const agent = new FastroAgent();
    const pipeline = new Pipeline({
      name: 'continue',
      steps: {
        good: agent.asStep('first'),
        bad: agent.asStep('second', { retries: 1, retryDelay: 0.01 }),
      },
      dependencies: { bad: ['good'] },
      config: new PipelineConfig({ onError: 'continue' }),
    });
    const result = await pipeline.execute({});
    expect(Object.keys(result.errors)).toEqual(['bad']);
    expect((result.errors.bad as StepExecutionError).usage.requestCount).toBe(2);
    expect(result.usage?.steps.bad.requestCount).toBe(2);
    expect(result.usage?.totalRequestCount).toBe(3);
    expect(result.usage?.totalCostMicrocents).toBe(100 * 2.5 + 10 * 10);
  });
});
