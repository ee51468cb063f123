import { tool } from 'ai';
import { z } from 'zod';
import {
  ChatResponse,
  FastroAgent,
  Pipeline,
  PipelineAbortedError,
  PipelineConfig,
  StepExecutionError,
  attachReportedUsage,
  step,
  type AgentRunOptions,
  type RunnableAgent,
} from 'fastroai';
import { createVirtualClock } from 'fastroai/testing';
import { flush, rejectionOf, sleep } from '../support/async-helpers';
import type { ScriptedAnswer } from '../support/openai-server';
import { useOpenAIServer } from '../support/use-openai-server';

/**
 * A billed call is always counted: a call cut off by a timeout or a cancellation keeps what the
 * agent finished before it (a tool loop's first requests), and a call a step left running when
 * its attempt ended (a hedge, `Promise.all` that rejected early, a call not awaited) is aborted
 * and waited for, so its usage is the step's.
 */

const useServer = useOpenAIServer();

/** A tool loop: a tool call billed 1,000 in / 500 out (7,500 microcents on gpt-4o), then a request that hangs. */
function toolLoopThatHangs() {
  useServer().enqueue(
    { kind: 'json', content: null, toolCalls: [{ id: 't1', name: 'lookup', arguments: { q: 'x' } }], usage: { promptTokens: 1000, completionTokens: 500 } },
    { kind: 'hang' },
  );
  return new FastroAgent({
    model: 'openai:gpt-4o',
    tools: { lookup: tool({ description: 'look up', inputSchema: z.object({ q: z.string() }), execute: async () => 'found' }) },
  });
}

/** An agent billed `costMicrocents` that answers after `ms`, whether or not its signal aborted meanwhile. */
function slowAgent(ms: number, costMicrocents: number) {
  const seen: { aborted?: boolean } = {};
  const agent: RunnableAgent<string> = {
    async run(_message: string, options?: AgentRunOptions) {
      await sleep(ms);
      seen.aborted = options?.signal?.aborted;
      return new ChatResponse({ output: 'slow', content: 'slow', model: 'm', inputTokens: 1000, costMicrocents });
    },
  };
  return { agent, seen };
}

const fastAgent: RunnableAgent<string> = {
  run: async () => new ChatResponse({ output: 'fast', content: 'fast', model: 'm', inputTokens: 10, costMicrocents: 50 }),
};

describe('a call cut off keeps what the agent was billed before it', () => {
  it('a step timeout in the middle of a tool loop: the finished request counts in the step error’s usage and the run’s', async () => {
    const agent = toolLoopThatHangs();
    const pipeline = new Pipeline({ name: 'loop', steps: { ask: step({ timeout: 0.5 }, async (ctx) => (await ctx.run(agent, 'hi')).output) } });
    const error = await rejectionOf(pipeline.execute({}));
    expect(StepExecutionError.isInstance(error)).toBe(true);
    expect(useServer().requests).toHaveLength(2);
    expect((error as StepExecutionError).usage).toMatchObject({ requestCount: 2, inputTokens: 1000, outputTokens: 500, costMicrocents: 7500 });
    expect((error as StepExecutionError).runUsage?.totalCostMicrocents).toBe(7500);
  });

  it('a run cancelled in the middle of a tool loop: the finished request counts in runUsage', async () => {
    const agent = toolLoopThatHangs();
    const pipeline = new Pipeline({ name: 'loop', steps: { ask: step(async (ctx) => (await ctx.run(agent, 'hi')).output) } });
    const controller = new AbortController();
    const running = pipeline.execute({}, undefined, { signal: controller.signal });
    while (useServer().requests.length < 2) await sleep(5); // the tool call answered, the next request out
    controller.abort(new Error('the user left'));
    const error = await rejectionOf(running);
    expect(PipelineAbortedError.isInstance(error)).toBe(true);
    expect((error as PipelineAbortedError).runUsage).toMatchObject({ totalRequestCount: 2, totalInputTokens: 1000, totalCostMicrocents: 7500 });
  });
});

describe('calls cut off together', () => {
  it('two FastroAgent calls cut off by the same step timeout each keep their own usage (the shared abort reason carries none)', async () => {
    const lookup = tool({ description: 'look up', inputSchema: z.object({ q: z.string() }), execute: async () => 'found' });
    // A's first request is a tool call (billed), then it hangs; B hangs at once.
    const answer = (request: { body: { messages?: unknown } }): ScriptedAnswer => {
      const messages = request.body.messages as Array<{ role: string; content: unknown }>;
      const last = messages[messages.length - 1];
      if (last.role === 'user' && String(last.content) === 'A') {
        return { kind: 'json', content: null, toolCalls: [{ id: 't1', name: 'lookup', arguments: { q: 'x' } }], usage: { promptTokens: 1000, completionTokens: 500 } };
      }
      return { kind: 'hang' };
    };
    for (const order of [['A', 'B'], ['B', 'A']]) {
      useServer().reset();
      useServer().fallback = answer;
      const pipeline = new Pipeline({
        name: 'both',
        steps: { ask: step({ timeout: 0.3 }, async (ctx) => Promise.all(order.map((message) => ctx.run(new FastroAgent({ model: 'openai:gpt-4o', tools: { lookup } }), message)))) },
      });
      const error = (await rejectionOf(pipeline.execute({}))) as StepExecutionError;
      expect(useServer().requests).toHaveLength(3);
      expect(error.usage).toMatchObject({ requestCount: 3, inputTokens: 1000, outputTokens: 500, costMicrocents: 7500 });
    }
  });
});

describe('a call its step left running', () => {
  it('a hedge (Promise.race): the slower call is aborted when the step returns, and what it was billed counts', async () => {
    const slow = slowAgent(100, 5000);
    const pipeline = new Pipeline({ name: 'hedge', steps: { ask: step(async (ctx) => (await Promise.race([ctx.run(fastAgent, 'q'), ctx.run(slow.agent, 'q')])).output) } });
    const result = await pipeline.execute({});
    expect(result.output).toBe('fast');
    expect(slow.seen.aborted).toBe(true);
    expect(result.usage).toMatchObject({ totalRequestCount: 2, totalCostMicrocents: 5050 });
  });

  it('Promise.all with a call that fails: the other is aborted, and its cost is in the failed step’s usage', async () => {
    const slow = slowAgent(100, 5000);
    const denied: RunnableAgent<string> = { run: async () => Promise.reject(Object.assign(new Error('401 Incorrect API key'), { status: 401 })) };
    const pipeline = new Pipeline({
      name: 'all',
      config: new PipelineConfig({ onError: 'continue' }),
      steps: { ask: step(async (ctx) => Promise.all([ctx.run(denied, 'q'), ctx.run(slow.agent, 'q')])) },
    });
    const result = await pipeline.execute({});
    expect(slow.seen.aborted).toBe(true);
    expect((result.errors.ask as StepExecutionError).usage).toMatchObject({ requestCount: 2, costMicrocents: 5000 });
    expect(result.usage?.totalCostMicrocents).toBe(5000);
  });

  it('a call not awaited: aborted when the step returns, its failure crashes nothing, and the usage it reported counts', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      let sent = 0;
      const leftBehind: RunnableAgent<string> = {
        run: (_message, options) =>
          new Promise((_, reject) => {
            sent++;
            options!.signal!.addEventListener('abort', () => {
              const billed = new ChatResponse({ output: '', content: '', model: 'm', inputTokens: 300, costMicrocents: 300 });
              reject(attachReportedUsage(new Error('aborted mid-answer'), billed));
            });
          }),
      };
      const pipeline = new Pipeline({
        name: 'forgot',
        outputStep: 'ask',
        steps: {
          ask: step(async (ctx) => {
            void ctx.run(leftBehind, 'q'); // never awaited
            await sleep(10);
            return 'done';
          }),
          // A call started as its step returns is never sent.
          quick: step((ctx) => {
            void ctx.run(leftBehind, 'q');
            return 'quick';
          }),
        },
      });
      const result = await pipeline.execute({});
      await sleep(20);
      expect(result.output).toBe('done');
      expect(result.usage).toMatchObject({ totalRequestCount: 1, totalInputTokens: 300, totalCostMicrocents: 300 });
      expect(result.usage?.steps.quick).toMatchObject({ requestCount: 0, costMicrocents: 0 });
      expect(sent).toBe(1);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('dispatch hooks of calls cut off', () => {
  it('an onBeforeDispatch cut off while it waited for a permit gets its onAfterDispatch when it goes through later: no permit leaks', async () => {
    let permits = 1;
    const waiters: Array<() => void> = [];
    let before = 0;
    let after = 0;
    const limited: RunnableAgent<string> = {
      async onBeforeDispatch() {
        before++;
        if (permits > 0) permits--;
        else await new Promise<void>((resolve) => waiters.push(resolve));
      },
      async onAfterDispatch() {
        after++;
        const next = waiters.shift();
        if (next !== undefined) next();
        else permits++;
      },
      run: async () => {
        await sleep(30);
        return new ChatResponse({ output: 'ok', content: 'ok', model: 'm', costMicrocents: 10 });
      },
    };
    const denied: RunnableAgent<string> = { run: async () => Promise.reject(Object.assign(new Error('401 Incorrect API key'), { status: 401 })) };
    const failing = new Pipeline({
      name: 'limited',
      config: new PipelineConfig({ onError: 'continue' }),
      steps: { a: step(async (ctx) => Promise.all([ctx.run(limited, '1'), ctx.run(limited, '2'), ctx.run(denied, 'x')])) },
    });
    await failing.execute({});
    await sleep(100); // the first call's permit is given back: the second, cut off, takes it, then is paired
    expect([before, after, permits, waiters.length]).toEqual([2, 2, 1, 0]);
    const next = new Pipeline({ name: 'next', steps: { b: step({ timeout: 1 }, async (ctx) => (await ctx.run(limited, 'next')).output) } });
    expect((await next.execute({})).output).toBe('ok');
  });
});

describe('a step that returns its call', () => {
  it('ends with no call left running: the call, which answered, is not aborted afterwards', async () => {
    const signals: AbortSignal[] = [];
    const agent: RunnableAgent<string> = {
      run: async (_message, options) => {
        signals.push(options!.signal!);
        return new ChatResponse({ output: 'ok', content: 'ok', model: 'm', costMicrocents: 1 });
      },
    };
    const pipeline = new Pipeline({ name: 'direct', steps: { ask: step((ctx) => ctx.run(agent, 'q').then((response) => response.output)) } });
    expect((await pipeline.execute({})).output).toBe('ok');
    expect(signals.map((signal) => signal.aborted)).toEqual([false]);
  });
});

describe('on virtual time', () => {
  it('the grace an aborted agent gets is real time: a run whose step timed out on a virtual clock settles without the clock moving again', async () => {
    const clock = createVirtualClock();
    const deaf: RunnableAgent<string> = { run: () => new Promise(() => undefined) }; // ignores its signal
    const pipeline = new Pipeline({ name: 'virtual', steps: { ask: step({ timeout: 5 }, async (ctx) => (await ctx.run(deaf, 'q')).output) } });
    const running = pipeline.execute({}, undefined, { clock });
    await flush();
    clock.advance(5_000);
    const error = await rejectionOf(running);
    expect(StepExecutionError.isInstance(error)).toBe(true);
    expect((error as StepExecutionError).message).toMatch(/timed out after 5s/);
    expect((error as StepExecutionError).usage).toMatchObject({ requestCount: 1 });
  });
});
