import {
  ChatResponse,
  CostBudgetExceededError,
  DispatchSkippedError,
  Pipeline,
  PipelineConfig,
  StepConfig,
  StepContext,
  StepExecutionError,
  StepTimeoutError,
  attachReportedUsage,
  step,
  type AgentRunOptions,
  type RunnableAgent,
} from 'fastroai';
import { createMockAgent } from 'fastroai/testing';
import { rejectionOf, sleep } from '../support/async-helpers';
import { transientError } from '../support/transient-error';

/** A hand-built context, as a user's unit test would make one. */
function contextWith(config: ConstructorParameters<typeof StepConfig>[0] = {}, extra: { signal?: AbortSignal; deps?: unknown } = {}) {
  return new StepContext({
    stepId: 'classify',
    inputs: {},
    deps: extra.deps ?? { db: 'test-db' },
    stepOutputs: {},
    config: new StepConfig({ retryDelay: 0.001, ...config }),
    signal: extra.signal,
  });
}

/** An agent that logs its hooks and calls, answering from `replies` in turn. */
function loggingAgent(replies: Array<ChatResponse<string> | Error>) {
  const log: string[] = [];
  let calls = 0;
  const agent: RunnableAgent<string> = {
    async run(message) {
      const reply = replies[Math.min(calls++, replies.length - 1)];
      log.push(`run:${message}`);
      if (reply instanceof Error) throw reply;
      return reply;
    },
    async onBeforeDispatch() {
      log.push('before');
    },
    async onAfterDispatch(error) {
      log.push(`after:${error === undefined ? 'ok' : (error as Error).message}`);
    },
  };
  return { agent, log, calls: () => calls };
}

const response = (fields: Partial<ConstructorParameters<typeof ChatResponse<string>>[0]> = {}) =>
  new ChatResponse<string>({ output: 'answer', content: 'answer', ...fields });

describe('ctx.run: the call', () => {
  it('passes the message and { deps, tracer, signal } to agent.run and returns its response', async () => {
    const deps = { db: 'x' };
    const ctx = contextWith({}, { deps });
    const agent = createMockAgent([{ output: 'billing' }]);
    const result = await ctx.run(agent, 'Classify this');
    expect(result).toBeInstanceOf(ChatResponse);
    expect(result.output).toBe('billing');
    expect(agent.calls).toHaveLength(1);
    const { message, options } = agent.calls[0];
    expect(message).toBe('Classify this');
    expect(options.deps).toBe(deps);
    expect(options.tracer).toBe(ctx.tracer);
    expect(options.signal).toBeInstanceOf(AbortSignal);
    expect(options.signal!.aborted).toBe(false);
  });

  it('adds each response usage to ctx.usage', async () => {
    const ctx = contextWith();
    const agent = createMockAgent([
      { output: 'a', inputTokens: 10, outputTokens: 3, costMicrocents: 100, model: 'gpt-4o' },
      { output: 'b', inputTokens: 5, outputTokens: 2, costMicrocents: 50, cacheReadTokens: 4, toolCallCount: 1 },
    ]);
    await ctx.run(agent, 'one');
    await ctx.run(agent, 'two');
    expect(ctx.usage).toMatchObject({
      inputTokens: 15,
      outputTokens: 5,
      costMicrocents: 150,
      cacheReadTokens: 4,
      toolCallCount: 1,
      requestCount: 2,
      model: 'gpt-4o',
    });
  });

  it('treats an agent whose run throws synchronously as a failed attempt', async () => {
    const ctx = contextWith({ retries: 1 });
    let calls = 0;
    const agent = {
      run(): Promise<ChatResponse<string>> {
        if (++calls === 1) throw transientError('sync throw');
        return Promise.resolve(response());
      },
    };
    await expect(ctx.run(agent, 'hi')).resolves.toBeInstanceOf(ChatResponse);
    expect(calls).toBe(2);
  });

  it('wraps a non-Error the agent throws into an Error with its text', async () => {
    const ctx = contextWith();
    const agent = { run: () => Promise.reject('rate limited') };
    const error = await rejectionOf(ctx.run(agent as never, 'hi'));
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('rate limited');
  });

  it('rejects something that is not an agent with a clear TypeError', async () => {
    const ctx = contextWith();
    const error = await rejectionOf(ctx.run({} as never, 'hi'));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('ctx.run expects an agent with a run(message, options) method, got an object ([object Object])');
    await expect(ctx.run(undefined as never, 'hi')).rejects.toThrow(/got undefined/);
  });

  it.each([
    [{ timeout: -1 }, /^ctx\.run timeout must be a number of seconds >= 0, got -1$/],
    [{ timeout: Number.NaN }, /^ctx\.run timeout must be a number of seconds >= 0, got NaN$/],
    [{ retries: -1 }, /^ctx\.run retries must be an integer >= 0, got -1$/],
    [{ retries: 1.5 }, /^ctx\.run retries must be an integer >= 0, got 1.5$/],
    [{ retries: Number.NaN }, /^ctx\.run retries must be an integer >= 0, got NaN$/],
  ])('rejects bad per-call options %p without calling the agent', async (options, message) => {
    const ctx = contextWith();
    const agent = createMockAgent([{ output: 'x' }]);
    const error = await rejectionOf(ctx.run(agent, 'hi', options));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(message);
    expect(agent.calls).toHaveLength(0);
  });
});

describe('ctx.run: retries and timeouts', () => {
  it('retries a failed call up to the step retries and then rejects with the last error', async () => {
    const ctx = contextWith({ retries: 2 });
    const last = transientError('third');
    const agent = createMockAgent<string>([transientError('first'), transientError('second'), last]);
    const error = await rejectionOf(ctx.run(agent, 'hi'));
    expect(error).toBe(last);
    expect(agent.calls).toHaveLength(3);
  });

  it('resolves with the first successful attempt', async () => {
    const ctx = contextWith({ retries: 3 });
    const agent = createMockAgent([transientError('flaky'), { output: 'ok' }]);
    expect((await ctx.run(agent, 'hi')).output).toBe('ok');
    expect(agent.calls).toHaveLength(2);
  });

  it('lets per-call retries override the step retries, 0 included', async () => {
    const agent = createMockAgent<string>([transientError('down')]);
    await expect(contextWith({ retries: 3 }).run(agent, 'hi', { retries: 0 })).rejects.toThrow('down');
    expect(agent.calls).toHaveLength(1);
    const other = createMockAgent<string>([transientError('down')]);
    await expect(contextWith({ retries: 0 }).run(other, 'hi', { retries: 2 })).rejects.toThrow('down');
    expect(other.calls).toHaveLength(3);
  });

  it('waits retryDelay * 2 ** n between attempts', async () => {
    const ctx = contextWith({ retries: 2, retryDelay: 0.02 });
    const times: number[] = [];
    const agent = {
      async run(): Promise<ChatResponse<string>> {
        times.push(performance.now());
        throw transientError('again');
      },
    };
    await expect(ctx.run(agent, 'hi')).rejects.toThrow('again');
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(18);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(38);
  });

  it('bounds each attempt by the per-call timeout: aborts the agent signal and raises StepTimeoutError', async () => {
    const ctx = contextWith({ retries: 1 });
    const agent = createMockAgent([{ output: 'slow', delayMs: 10_000 }]);
    const startedAt = performance.now();
    const error = (await rejectionOf(ctx.run(agent, 'hi', { timeout: 0.02 }))) as StepTimeoutError;
    expect(performance.now() - startedAt).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(StepTimeoutError);
    expect(error).toMatchObject({ stepId: 'classify', timeoutSeconds: 0.02, attempt: 2 });
    expect(agent.calls).toHaveLength(2);
    for (const call of agent.calls) {
      expect(call.options.signal!.aborted).toBe(true);
      expect(call.options.signal!.reason).toBeInstanceOf(StepTimeoutError);
    }
  });

  it("bounds each attempt by the step's timeout when no per-call timeout is given", async () => {
    const ctx = contextWith({ timeout: 0.02 });
    const agent = createMockAgent([{ output: 'slow', delayMs: 10_000 }]);
    const error = await rejectionOf(ctx.run(agent, 'hi'));
    expect(error).toBeInstanceOf(StepTimeoutError);
    expect((error as StepTimeoutError).timeoutSeconds).toBe(0.02);
  });

  it('times out an agent that ignores its signal', async () => {
    const ctx = contextWith();
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    const agent = {
      run: () =>
        new Promise<ChatResponse<string>>((resolve) => {
          timer = setTimeout(() => {
            finished = true;
            resolve(response());
          }, 5_000);
        }),
    };
    const startedAt = performance.now();
    try {
      await expect(ctx.run(agent, 'hi', { timeout: 0.01 })).rejects.toBeInstanceOf(StepTimeoutError);
      expect(finished).toBe(false);
      expect(performance.now() - startedAt).toBeLessThan(2_000);
    } finally {
      clearTimeout(timer);
    }
  });

  it('stops at once, without retrying, when the step signal aborts', async () => {
    const controller = new AbortController();
    const ctx = contextWith({ retries: 3 }, { signal: controller.signal });
    const agent = createMockAgent([{ output: 'slow', delayMs: 10_000 }]);
    const running = ctx.run(agent, 'hi');
    await sleep(5);
    controller.abort('cancelled');
    expect(await rejectionOf(running)).toBe('cancelled');
    expect(agent.calls).toHaveLength(1);
    expect(agent.calls[0].options.signal!.aborted).toBe(true);
  });

  it('does not call the agent when the step signal is already aborted', async () => {
    const ctx = contextWith({}, { signal: AbortSignal.abort('gone') });
    const agent = createMockAgent([{ output: 'x' }]);
    expect(await rejectionOf(ctx.run(agent, 'hi'))).toBe('gone');
    expect(agent.calls).toHaveLength(0);
  });
});

describe('ctx.run: usage of failed attempts', () => {
  it('counts the usage a failed attempt reported (attachReportedUsage)', async () => {
    const ctx = contextWith({ retries: 1 });
    const failure = attachReportedUsage(transientError('invalid JSON'), response({ inputTokens: 40, outputTokens: 9, costMicrocents: 300 }));
    const agent = createMockAgent<string>([failure, { output: 'ok', inputTokens: 40, outputTokens: 10, costMicrocents: 310 }]);
    await ctx.run(agent, 'hi');
    expect(ctx.usage).toMatchObject({ inputTokens: 80, outputTokens: 19, costMicrocents: 610, requestCount: 2 });
  });

  it('counts reported usage even when every attempt fails', async () => {
    const ctx = contextWith({ retries: 1 });
    const agent = {
      async run(): Promise<ChatResponse<string>> {
        throw attachReportedUsage(transientError('bad output'), response({ costMicrocents: 25 }));
      },
    };
    await expect(ctx.run(agent, 'hi')).rejects.toThrow('bad output');
    expect(ctx.usage.costMicrocents).toBe(50);
    expect(ctx.usage.requestCount).toBe(2);
  });

  it('counts reported usage in the pipeline result of a failed step', async () => {
    const agent = {
      async run(): Promise<ChatResponse<string>> {
        throw attachReportedUsage(new Error('bad output'), response({ costMicrocents: 25 }));
      },
    };
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a: step((ctx) => ctx.run(agent, 'hi')) },
      config: new PipelineConfig({ onError: 'continue' }),
    });
    const result = await pipeline.execute({});
    expect(result.usage?.steps.a.costMicrocents).toBe(25);
    expect(result.usage?.totalCostMicrocents).toBe(25);
  });
});

describe('ctx.run: cost budgets', () => {
  it('lets one call cross the step costBudget and refuses the next', async () => {
    const ctx = contextWith({ costBudget: 100 });
    const agent = createMockAgent([{ output: 'x', costMicrocents: 60 }]);
    await ctx.run(agent, 'one'); // 60 spent
    await ctx.run(agent, 'two'); // 60 < 100: allowed, 120 spent
    const error = (await rejectionOf(ctx.run(agent, 'three'))) as CostBudgetExceededError;
    expect(error).toBeInstanceOf(CostBudgetExceededError);
    expect(error).toMatchObject({ budgetMicrocents: 100, actualMicrocents: 120, stepId: 'classify' });
    expect(agent.calls).toHaveLength(2);
  });

  it('refuses the first call under a costBudget of 0', async () => {
    const agent = createMockAgent([{ output: 'x' }]);
    await expect(contextWith({ costBudget: 0 }).run(agent, 'hi')).rejects.toBeInstanceOf(CostBudgetExceededError);
    expect(agent.calls).toHaveLength(0);
  });

  it('checks the budget before each retry, counting failed attempts, and never retries the refusal', async () => {
    const ctx = contextWith({ costBudget: 100, retries: 3 });
    const failure = attachReportedUsage(transientError('truncated'), response({ costMicrocents: 100 }));
    const agent = createMockAgent<string>([failure, { output: 'never' }]);
    const error = await rejectionOf(ctx.run(agent, 'hi'));
    expect(error).toBeInstanceOf(CostBudgetExceededError);
    expect(agent.calls).toHaveLength(1);
  });

  it('fires no dispatch hook for a call refused by the budget', async () => {
    const ctx = contextWith({ costBudget: 10 });
    const { agent, log } = loggingAgent([response({ costMicrocents: 10 })]);
    await ctx.run(agent, 'one');
    await expect(ctx.run(agent, 'two')).rejects.toBeInstanceOf(CostBudgetExceededError);
    expect(log).toEqual(['before', 'run:one', 'after:ok']);
  });

  it('applies a pipeline-level costBudget to every step as its own budget', async () => {
    const agent = createMockAgent([{ output: 'x', costMicrocents: 80 }]);
    const spend = step(async (ctx) => {
      await ctx.run(agent, 'one');
      await ctx.run(agent, 'two');
      return 'spent';
    });
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a: spend, b: spend },
      outputStep: 'b',
      config: new PipelineConfig({ costBudget: 50, onError: 'continue' }),
    });
    const result = await pipeline.execute({});
    expect(Object.keys(result.errors).sort()).toEqual(['a', 'b']);
    expect((result.errors.a as StepExecutionError).originalError).toMatchObject({ budgetMicrocents: 50, actualMicrocents: 80, stepId: 'a' });
    expect(agent.calls).toHaveLength(2); // one call per step: each step has its own budget
  });

  it('refuses a call once the whole run spent its runCostBudget, in another step', async () => {
    const agent = createMockAgent([{ output: 'x', costMicrocents: 150 }]);
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        first: step(async (ctx) => (await ctx.run(agent, 'crosses the run budget')).output),
        second: step(async (ctx) => (await ctx.run(agent, 'refused')).output),
      },
      dependencies: { second: ['first'] },
      config: new PipelineConfig({ runCostBudget: 100 }),
    });
    const error = (await rejectionOf(pipeline.execute({}))) as StepExecutionError;
    expect(error.stepId).toBe('second');
    expect(error.originalError).toBeInstanceOf(CostBudgetExceededError);
    expect(error.originalError).toMatchObject({ budgetMicrocents: 100, actualMicrocents: 150, stepId: 'second' });
    expect(agent.calls.map((call) => call.message)).toEqual(['crosses the run budget']);
  });

  it('counts failed attempts toward the runCostBudget', async () => {
    const failure = attachReportedUsage(transientError('bad'), response({ costMicrocents: 70 }));
    const agent = createMockAgent<string>([failure, failure, { output: 'never' }]);
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a: step((ctx) => ctx.run(agent, 'hi')) },
      config: new PipelineConfig({ runCostBudget: 100, retries: 5, retryDelay: 0.001 }),
    });
    const error = (await rejectionOf(pipeline.execute({}))) as StepExecutionError;
    expect(error.originalError).toMatchObject({ budgetMicrocents: 100, actualMicrocents: 140 });
    expect(agent.calls).toHaveLength(2);
  });

  it('checks the budgets again once onBeforeDispatch returns (a rate limiter held the call while others spent the budget), and still fires onAfterDispatch', async () => {
    // One call at a time: onBeforeDispatch waits for the call before it, onAfterDispatch lets the next one go.
    let queue = Promise.resolve();
    let release: (() => void) | undefined;
    const after: unknown[] = [];
    let sent = 0;
    const agent: RunnableAgent<string> = {
      async onBeforeDispatch() {
        const previous = queue;
        let done!: () => void;
        queue = new Promise<void>((resolve) => (done = resolve));
        await previous;
        release = done;
      },
      async onAfterDispatch(error) {
        after.push(error);
        release?.();
      },
      async run() {
        sent++;
        await sleep(5);
        return response({ costMicrocents: 100 });
      },
    };
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const pipeline = new Pipeline({
      name: 'limited',
      outputStep: 'a',
      steps: Object.fromEntries(ids.map((id) => [id, step(async (ctx) => (await ctx.run(agent, 'hi')).output)])),
      config: new PipelineConfig({ runCostBudget: 100, onError: 'continue' }),
    });
    const result = await pipeline.execute({});
    expect(sent).toBe(1);
    expect(result.usage?.totalCostMicrocents).toBe(100);
    expect(Object.values(result.errors).map((error) => CostBudgetExceededError.isInstance((error as StepExecutionError).originalError))).toEqual([true, true, true, true]);
    expect(after).toHaveLength(5); // every onBeforeDispatch paired: the limiter is free again
    expect(after.filter((error) => CostBudgetExceededError.isInstance(error))).toHaveLength(4);
  });

  it('does not share the runCostBudget between two runs', async () => {
    const agent = createMockAgent([{ output: 'x', costMicrocents: 60 }]);
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a: step(async (ctx) => (await ctx.run(agent, 'hi')).output) },
      config: new PipelineConfig({ runCostBudget: 100 }),
    });
    await pipeline.execute({});
    await expect(pipeline.execute({})).resolves.toMatchObject({ output: 'x' });
  });
});

describe('ctx.run: dispatch hooks', () => {
  it('fires onBeforeDispatch before and onAfterDispatch after every attempt, with the attempt error', async () => {
    const ctx = contextWith({ retries: 2 });
    const { agent, log } = loggingAgent([transientError('e1'), response()]);
    await ctx.run(agent, 'hi');
    expect(log).toEqual(['before', 'run:hi', 'after:e1', 'before', 'run:hi', 'after:ok']);
  });

  it('propagates an onBeforeDispatch error at once: no call, no retry, no after-hook', async () => {
    const ctx = contextWith({ retries: 3 });
    const { agent, log } = loggingAgent([response()]);
    const failure = new Error('hook broke');
    agent.onBeforeDispatch = async () => {
      log.push('before');
      throw failure;
    };
    expect(await rejectionOf(ctx.run(agent, 'hi'))).toBe(failure);
    expect(log).toEqual(['before']);
  });

  it('propagates DispatchSkippedError from onBeforeDispatch, never retried', async () => {
    const ctx = contextWith({ retries: 3 });
    const { agent, log } = loggingAgent([response()]);
    agent.onBeforeDispatch = async () => {
      log.push('before');
      throw new DispatchSkippedError('kill switch');
    };
    const error = await rejectionOf(ctx.run(agent, 'hi'));
    expect(DispatchSkippedError.isInstance(error)).toBe(true);
    expect(log).toEqual(['before']);
  });

  it('propagates an onAfterDispatch error at once, without retrying', async () => {
    const ctx = contextWith({ retries: 3 });
    const { agent, log } = loggingAgent([new Error('call failed')]);
    agent.onAfterDispatch = async (error) => {
      log.push(`after:${(error as Error).message}`);
      throw new Error('after-hook broke');
    };
    await expect(ctx.run(agent, 'hi')).rejects.toThrow('after-hook broke');
    expect(log).toEqual(['before', 'run:hi', 'after:call failed']);
  });

  it('propagates an onAfterDispatch error even after a successful call', async () => {
    const ctx = contextWith();
    const { agent } = loggingAgent([response()]);
    agent.onAfterDispatch = async () => {
      throw new Error('after-hook broke');
    };
    await expect(ctx.run(agent, 'hi')).rejects.toThrow('after-hook broke');
  });

  it("bounds a dispatch hook that never settles by the call's timeout, and counts the billed call the hook held up", async () => {
    const never = () => new Promise<void>(() => undefined);
    const hung = loggingAgent([response({ costMicrocents: 70 })]);
    hung.agent.onBeforeDispatch = never;
    const beforeError = await rejectionOf(contextWith({ retries: 2 }).run(hung.agent, 'hi', { timeout: 0.05 }));
    expect(StepTimeoutError.isInstance(beforeError)).toBe(true);
    expect((beforeError as Error).message).toBe("Agent call's onBeforeDispatch in step 'classify' timed out after 0.05s (attempt 1)");
    expect(hung.calls()).toBe(0); // not retried: a hook's failure is final

    const ctx = contextWith();
    const afterHung = loggingAgent([response({ costMicrocents: 70 })]);
    afterHung.agent.onAfterDispatch = never;
    const afterError = await rejectionOf(ctx.run(afterHung.agent, 'hi', { timeout: 0.05 }));
    expect((afterError as Error).message).toBe("Agent call's onAfterDispatch in step 'classify' timed out after 0.05s (attempt 1)");
    expect(ctx.usage.costMicrocents).toBe(70);
  });

  it('does not retry a hook error at step level either', async () => {
    const before = jest.fn(async () => {
      throw new Error('hook broke');
    });
    const agent = { ...createMockAgent([{ output: 'x' }]), onBeforeDispatch: before };
    let attempts = 0;
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        a: step({ retries: 2, retryDelay: 0.001 }, async (ctx) => {
          attempts++;
          return ctx.run(agent, 'hi');
        }),
      },
    });
    const error = (await rejectionOf(pipeline.execute({}))) as StepExecutionError;
    expect(error.originalError.message).toBe('hook broke');
    expect(before).toHaveBeenCalledTimes(1);
    expect(attempts).toBe(1);
  });

  it('does not retry an onAfterDispatch error at step level either', async () => {
    const agent = {
      ...createMockAgent([{ output: 'x' }]),
      onAfterDispatch: jest.fn(async () => {
        throw new Error('after-hook broke');
      }),
    };
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a: step({ retries: 2, retryDelay: 0.001 }, (ctx) => ctx.run(agent, 'hi')) },
    });
    const error = (await rejectionOf(pipeline.execute({}))) as StepExecutionError;
    expect(error.originalError.message).toBe('after-hook broke');
    expect(agent.calls).toHaveLength(1);
  });

  it('turns a non-Error thrown by a hook into an Error', async () => {
    const ctx = contextWith();
    const agent = { ...createMockAgent([{ output: 'x' }]), onBeforeDispatch: () => Promise.reject('closed') };
    const error = await rejectionOf(ctx.run(agent, 'hi'));
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('closed');
  });

  it('hands the attempt error (a timeout) to onAfterDispatch', async () => {
    const ctx = contextWith();
    const seen: unknown[] = [];
    const agent: RunnableAgent<string> = {
      run: (_message: string, options?: AgentRunOptions) => sleep(10_000, options?.signal).then(() => response()),
      onAfterDispatch: async (error) => void seen.push(error),
    };
    await expect(ctx.run(agent, 'hi', { timeout: 0.01 })).rejects.toBeInstanceOf(StepTimeoutError);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(StepTimeoutError);
  });
});

describe('ctx.run: bad options', () => {
  it.each([
    [{ timout: 5 }, "ctx.run options: unknown option 'timout' (known: timeout, retries). Did you mean 'timeout'?"],
    [{ retires: 1 }, "ctx.run options: unknown option 'retires' (known: timeout, retries). Did you mean 'retries'?"],
  ])('refuses the misspelt option %p before any call, naming the nearest', async (options, message) => {
    const agent = createMockAgent([{ output: 'x' }]);
    const error = await rejectionOf(contextWith().run(agent, 'hi', options as never));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe(message);
    expect(agent.calls).toHaveLength(0);
  });

  it.each([1e7, 2_147_484, Infinity])('refuses a per-call timeout of %p s, above what a Node timer can wait', async (timeout) => {
    const agent = createMockAgent([{ output: 'x' }]);
    const error = await rejectionOf(contextWith().run(agent, 'hi', { timeout }));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/^ctx\.run timeout must be at most 2147483\.647 seconds \(about 24\.8 days/);
    expect(agent.calls).toHaveLength(0);
  });

  it('takes a per-call timeout of 0 as no bound', async () => {
    const agent = createMockAgent([{ output: 'x' }]);
    expect((await contextWith().run(agent, 'hi', { timeout: 0 })).output).toBe('x');
  });

  it('fails the step without retrying it for a misspelt option', async () => {
    const agent = createMockAgent([{ output: 'x' }]);
    let attempts = 0;
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        a: step({ retries: 2, retryDelay: 0.001 }, (ctx) => {
          attempts++;
          return ctx.run(agent, 'hi', { timout: 1 } as never);
        }),
      },
    });
    const error = await rejectionOf(pipeline.execute({}));
    expect(error).toBeInstanceOf(StepExecutionError);
    expect((error as Error).message).toMatch(/^Step 'a' failed: ctx\.run options: unknown option 'timout'/);
    expect(attempts).toBe(1);
  });
});

describe('ctx.run: bad input is refused before any call', () => {
  it.each([
    [42, /^ctx\.run expects the message as a string, got 42$/],
    [undefined, /^ctx\.run expects the message as a string, got undefined$/],
    [{ text: 'hi' }, /^ctx\.run expects the message as a string, got an object/],
  ])('refuses the message %p with a TypeError', async (message, expected) => {
    const agent = createMockAgent([{ output: 'x' }]);
    const error = await rejectionOf(contextWith().run(agent, message as never));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(expected);
    expect(agent.calls).toHaveLength(0);
  });

  it.each([
    [null, /^ctx\.run options must be an object \(\{ timeout\?, retries\? \}\), got null$/],
    [5, /got 5$/],
    ['fast', /got 'fast'$/],
  ])('refuses the options %p with a TypeError', async (options, expected) => {
    const agent = createMockAgent([{ output: 'x' }]);
    const error = await rejectionOf(contextWith().run(agent, 'hi', options as never));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(expected);
    expect(agent.calls).toHaveLength(0);
  });

  it.each(['onBeforeDispatch', 'onAfterDispatch'] as const)('refuses a %s that is not a function, before the paid call', async (hook) => {
    const agent = { ...createMockAgent([{ output: 'x' }]), [hook]: 'yes please' };
    const error = await rejectionOf(contextWith({ retries: 2 }).run(agent as never, 'hi'));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe(`ctx.run expects the agent's ${hook} to be a function, got 'yes please'`);
    expect(agent.calls).toHaveLength(0);
  });

  it('does not retry a bad-input TypeError at step level', async () => {
    const agent = createMockAgent([{ output: 'x' }]);
    let attempts = 0;
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        a: step({ retries: 2, retryDelay: 0.001 }, (ctx) => {
          attempts++;
          return ctx.run(agent, 42 as never);
        }),
      },
    });
    const error = (await rejectionOf(pipeline.execute({}))) as StepExecutionError;
    expect(error.originalError).toBeInstanceOf(TypeError);
    expect(attempts).toBe(1);
  });

  it.each([null, undefined])('fails with a TypeError, once, when the agent resolves %p', async (value) => {
    const ctx = contextWith({ retries: 2 });
    let calls = 0;
    const agent = {
      async run(): Promise<ChatResponse<string>> {
        calls++;
        return value as never;
      },
    };
    const error = await rejectionOf(ctx.run(agent, 'hi'));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe(`agent.run resolved ${String(value)}; expected a ChatResponse`);
    expect(calls).toBe(1);
    expect(ctx.usage.requestCount).toBe(1);
  });
});

describe('ctx.run: malformed responses are refused at the boundary', () => {
  it('stops at the first response with a NaN cost: the costBudget is not disabled', async () => {
    const ctx = contextWith({ costBudget: 100, retries: 2 });
    const agent = createMockAgent([response({ costMicrocents: Number.NaN, inputTokens: 50 })]);
    const error = await rejectionOf(ctx.run(agent, 'one'));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('agent.run resolved a ChatResponse whose costMicrocents is NaN (expected an integer >= 0)');
    expect(agent.calls).toHaveLength(1);
    // It was paid: its valid fields count, the invalid cost counts 0.
    expect(ctx.usage).toMatchObject({ requestCount: 1, inputTokens: 50, costMicrocents: 0 });
  });

  it.each([
    ['inputTokens', Number.NaN, 'NaN', 'an integer'],
    ['outputTokens', 1.5, '1.5', 'an integer'],
    ['costMicrocents', -500, '-500', 'an integer'],
    ['costMicrocents', '500', "'500'", 'an integer'],
    ['requestCount', Infinity, 'Infinity', 'an integer'],
    ['processingTimeMs', -1, '-1', 'a number'],
  ])('names the field: %s = %p', async (field, value, shown, expected) => {
    const bad = response();
    (bad as unknown as Record<string, unknown>)[field] = value;
    const ctx = contextWith({ retries: 1 });
    const agent = createMockAgent([bad]);
    const error = await rejectionOf(ctx.run(agent, 'hi'));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe(`agent.run resolved a ChatResponse whose ${field} is ${shown} (expected ${expected} >= 0)`);
    expect(agent.calls).toHaveLength(1);
    for (const counter of ['inputTokens', 'outputTokens', 'costMicrocents', 'requestCount', 'processingTimeMs'] as const) {
      expect(Number.isFinite(ctx.usage[counter]) && ctx.usage[counter] >= 0).toBe(true);
    }
  });

  it('keeps run totals exact numbers in a pipeline: no NaN, negative or string concatenation', async () => {
    const good = createMockAgent([{ output: 'ok', costMicrocents: 300 }]);
    const bad = createMockAgent([response({ costMicrocents: '500' as never })]);
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a: step((ctx) => ctx.run(good, 'hi')), b: step((ctx) => ctx.run(bad, 'hi')) },
      outputStep: 'a',
      config: new PipelineConfig({ onError: 'continue' }),
    });
    const result = await pipeline.execute({});
    expect((result.errors.b as StepExecutionError).originalError).toBeInstanceOf(TypeError);
    expect(result.usage?.totalCostMicrocents).toBe(300);
    expect(result.usage?.totalRequestCount).toBe(2);
  });

  it('refuses malformed usage attached to a failed attempt, without retrying', async () => {
    const ctx = contextWith({ retries: 2 });
    const failure = attachReportedUsage(new Error('bad output'), response({ costMicrocents: -7, inputTokens: 10 }));
    const agent = createMockAgent<string>([failure]);
    const error = await rejectionOf(ctx.run(agent, 'hi'));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/costMicrocents is -7 \(expected an integer >= 0\)/);
    expect((error as Error).cause).toBe(failure);
    expect(agent.calls).toHaveLength(1);
    expect(ctx.usage).toMatchObject({ inputTokens: 10, costMicrocents: 0, requestCount: 1 });
  });
});

describe('ctx.run: what is retried, and what is counted', () => {
  it('retries a transient error (a 503, a network error) from any client', async () => {
    const agent = createMockAgent<string>([transientError('flaky'), Object.assign(new Error('reset'), { code: 'ECONNRESET' }), { output: 'ok' }]);
    await expect(contextWith({ retries: 2 }).run(agent, 'hi')).resolves.toMatchObject({ output: 'ok' });
    expect(agent.calls).toHaveLength(3);
  });

  it('does not retry an error it cannot classify (a plain Error from a hand-written agent), at step level either: only transient ones are (API.md §2)', async () => {
    const failure = new TypeError('x is not a function');
    const agent = createMockAgent<string>([failure, { output: 'never' }]);
    let attempts = 0;
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a: step({ retries: 2, retryDelay: 0.001 }, (ctx) => (attempts++, ctx.run(agent, 'hi'))) },
    });
    const error = (await rejectionOf(pipeline.execute({}))) as StepExecutionError;
    expect(error.originalError).toBe(failure);
    expect(agent.calls).toHaveLength(1);
    expect(attempts).toBe(1);
  });

  it.each([
    ['a status 401', Object.assign(new Error('unauthorized'), { status: 401 })],
    ['a statusCode 400', Object.assign(new Error('bad request'), { statusCode: 400 })],
  ])('does not retry %s from any client', async (_name, failure) => {
    const agent = createMockAgent<string>([failure, { output: 'never' }]);
    expect(await rejectionOf(contextWith({ retries: 2 }).run(agent, 'hi'))).toBe(failure);
    expect(agent.calls).toHaveLength(1);
  });

  it('counts one request for a failed attempt that reported no usage', async () => {
    const ctx = contextWith({ retries: 2 });
    const agent = createMockAgent<string>([transientError('e1'), transientError('e2'), { output: 'ok', costMicrocents: 5 }]);
    await ctx.run(agent, 'hi');
    expect(ctx.usage).toMatchObject({ requestCount: 3, costMicrocents: 5 });
  });

  it('reports each retry to the run as call.retrying, with the backoff', async () => {
    const agent = createMockAgent<string>([transientError('e1'), transientError('e2'), { output: 'ok' }]);
    const pipeline = new Pipeline({ name: 'p', steps: { a: step({ retries: 2, retryDelay: 0.001 }, (ctx) => ctx.run(agent, 'hi')) } });
    const events: unknown[] = [];
    await new Promise<void>((resolve, reject) =>
      pipeline.run({}).subscribe({ next: (event) => event.type === 'call.retrying' && events.push(event), error: reject, complete: resolve }),
    );
    expect(events).toEqual([
      { type: 'call.retrying', stepId: 'a', attempt: 1, error: expect.objectContaining({ message: 'e1' }), delaySeconds: 0.001 },
      { type: 'call.retrying', stepId: 'a', attempt: 2, error: expect.objectContaining({ message: 'e2' }), delaySeconds: 0.002 },
    ]);
  });
});
