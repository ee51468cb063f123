import {
  BaseStep,
  CostBudgetExceededError,
  DispatchSkippedError,
  Pipeline,
  PipelineConfig,
  StepExecutionError,
  StepTimeoutError,
  step,
  type PipelineEvent,
  type StepRetryingEvent,
} from 'fastroai';
import { createMockAgent } from 'fastroai/testing';
import { lastValueFrom, toArray } from 'rxjs';
import { deferred, rejectionOf, sleep } from '../support/async-helpers';
import { transientError } from '../support/transient-error';

const continueOnError = new PipelineConfig({ onError: 'continue' });

/** Runs a one-step pipeline under onError 'continue' and returns its result. */
function runAlone(body: BaseStep<any, unknown>) {
  return new Pipeline({ name: 'p', steps: { a: body }, config: continueOnError }).execute({});
}

describe('executeStep: timeouts', () => {
  it('aborts ctx.signal and raises StepTimeoutError well before a 10 s sleep ends', async () => {
    const signal = deferred<AbortSignal>();
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        a: step({ timeout: 0.03 }, async (ctx) => {
          signal.resolve(ctx.signal);
          await sleep(10_000, ctx.signal);
        }),
      },
    });
    const startedAt = performance.now();
    const error = (await rejectionOf(pipeline.execute({}))) as StepExecutionError;
    expect(performance.now() - startedAt).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(StepExecutionError);
    expect(error.stepId).toBe('a');
    const timeout = error.originalError as StepTimeoutError;
    expect(timeout).toBeInstanceOf(StepTimeoutError);
    expect(timeout).toMatchObject({ stepId: 'a', timeoutSeconds: 0.03, attempt: 1 });
    expect(timeout.message).toBe("Step 'a' timed out after 0.03s (attempt 1)");
    const stepSignal = await signal.promise;
    expect(stepSignal.aborted).toBe(true);
    expect(stepSignal.reason).toBe(timeout);
  });

  it('aborts the signal handed to agent.run, cancelling the model call', async () => {
    const agent = createMockAgent([{ output: 'too late', delayMs: 10_000 }]);
    const pipeline = new Pipeline({ name: 'p', steps: { a: step({ timeout: 0.03 }, (ctx) => ctx.run(agent, 'hi')) } });
    const startedAt = performance.now();
    const error = (await rejectionOf(pipeline.execute({}))) as StepExecutionError;
    expect(performance.now() - startedAt).toBeLessThan(2_000);
    expect(agent.calls).toHaveLength(1);
    const agentSignal = agent.calls[0].options.signal!;
    expect(agentSignal.aborted).toBe(true);
    expect(agentSignal.reason).toBeInstanceOf(StepTimeoutError);
    // The step's deadline fired, so the failure is the step's.
    expect(error.originalError.message).toBe("Step 'a' timed out after 0.03s (attempt 1)");
  });

  it('bounds a ctx.run call with a longer per-call timeout by the step deadline', async () => {
    const agent = createMockAgent([{ output: 'too late', delayMs: 10_000 }]);
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a: step({ timeout: 0.03 }, (ctx) => ctx.run(agent, 'hi', { timeout: 10 })) },
    });
    const startedAt = performance.now();
    const error = (await rejectionOf(pipeline.execute({}))) as StepExecutionError;
    expect(performance.now() - startedAt).toBeLessThan(2_000);
    expect(error.originalError).toMatchObject({ stepId: 'a', timeoutSeconds: 0.03, attempt: 1 });
    expect(agent.calls[0].options.signal!.aborted).toBe(true);
  });

  it('fails with the step timeout, retried at step level, when a call inheriting the step timeout starts with the step', async () => {
    // The call has no timeout of its own: it is bounded by the step's deadline, which is the
    // one that fires, so the failure is the step's and the step retries (2 calls, not 1).
    const agent = createMockAgent([{ output: 'too late', delayMs: 10_000 }]);
    const result = await runAlone(
      step({ timeout: 0.03, retries: 1, retryDelay: 0.001 }, (ctx) => ctx.run(agent, 'hi', { retries: 0 })),
    );
    expect(agent.calls).toHaveLength(2);
    const error = (result.errors.a as StepExecutionError).originalError as StepTimeoutError;
    expect(error.message).toBe("Step 'a' timed out after 0.03s (attempt 2)");
    expect(result.timings.a.attempts).toBe(2);
  });

  it('fails with the call timeout, not retried at step level, when the per-call timeout is the shorter one', async () => {
    const agent = createMockAgent([{ output: 'too late', delayMs: 10_000 }]);
    const result = await runAlone(
      step({ timeout: 5, retries: 1, retryDelay: 0.001 }, (ctx) => ctx.run(agent, 'hi', { timeout: 0.02, retries: 0 })),
    );
    expect(agent.calls).toHaveLength(1);
    const error = (result.errors.a as StepExecutionError).originalError as StepTimeoutError;
    expect(error).toBeInstanceOf(StepTimeoutError);
    expect(error.message).toBe("Agent call in step 'a' timed out after 0.02s (attempt 1)");
    expect(result.timings.a.attempts).toBe(1);
  });

  it('retries a timed-out attempt at step level, the error naming the last attempt', async () => {
    const agent = createMockAgent([{ output: 'too late', delayMs: 10_000 }]);
    const result = await runAlone(step({ timeout: 0.02, retries: 1, retryDelay: 0.001 }, (ctx) => ctx.run(agent, 'hi')));
    expect(agent.calls).toHaveLength(2);
    expect(agent.calls.every((call) => call.options.signal!.aborted)).toBe(true);
    const error = result.errors.a as StepExecutionError;
    expect(error.originalError).toBeInstanceOf(StepTimeoutError);
    expect((error.originalError as StepTimeoutError).attempt).toBe(2);
    expect(result.timings.a.attempts).toBe(2);
  });

  it('fails a step that ignores its signal at the deadline, and ignores its late result', async () => {
    const lateReturn = deferred();
    const result = await runAlone(
      step({ timeout: 0.02 }, async () => {
        await sleep(60);
        lateReturn.resolve();
        return 'late';
      }),
    );
    expect((result.errors.a as StepExecutionError).originalError).toBeInstanceOf(StepTimeoutError);
    await lateReturn.promise;
    await sleep(5);
    expect(result.stepOutputs).toEqual({});
  });

  it('treats timeout 0 as no bound', async () => {
    const result = await runAlone(step({ timeout: 0 }, async () => {
      await sleep(30);
      return 'done';
    }));
    expect(result.output).toBe('done');
  });

  it('does not time out a step that finishes in time', async () => {
    const result = await runAlone(step({ timeout: 5 }, async () => {
      await sleep(2);
      return 'quick';
    }));
    expect(result.output).toBe('quick');
    expect(result.errors).toEqual({});
  });
});

describe('executeStep: retries', () => {
  it('retries a failing step up to retries times and resolves with the first success', async () => {
    let calls = 0;
    const result = await runAlone(step({ retries: 2, retryDelay: 0.001 }, () => {
      if (++calls < 3) throw new Error(`attempt ${calls}`);
      return 'third time';
    }));
    expect(result.output).toBe('third time');
    expect(result.timings.a.attempts).toBe(3);
    expect(calls).toBe(3);
  });

  it('fails with the last attempt error once the retries are spent', async () => {
    let calls = 0;
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        a: step({ retries: 2, retryDelay: 0.001 }, () => {
          calls++;
          throw new Error(`attempt ${calls}`);
        }),
      },
    });
    const error = (await rejectionOf(pipeline.execute({}))) as StepExecutionError;
    expect(calls).toBe(3);
    expect(error.message).toBe("Step 'a' failed: attempt 3");
  });

  it('waits retryDelay * 2 ** n between attempts (exponential backoff)', async () => {
    const startTimes: number[] = [];
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        a: step({ retries: 2, retryDelay: 0.02 }, () => {
          startTimes.push(performance.now());
          throw new Error('again');
        }),
      },
      config: continueOnError,
    });
    const events = await lastValueFrom(pipeline.run({}).pipe(toArray()));
    const retrying = events.filter((event): event is StepRetryingEvent => event.type === 'step.retrying');
    expect(retrying.map((event) => [event.attempt, event.delaySeconds])).toEqual([
      [1, 0.02],
      [2, 0.04],
    ]);
    // Timers may fire a little late, never much early.
    expect(startTimes[1] - startTimes[0]).toBeGreaterThanOrEqual(18);
    expect(startTimes[2] - startTimes[1]).toBeGreaterThanOrEqual(38);
  });

  it('does not retry again at step level an error that already went through ctx.run retries (retries: 2 => 3 calls, not 9)', async () => {
    const agent = createMockAgent([transientError('model down')]);
    let attempts = 0;
    const result = await runAlone(
      step({ retries: 2, retryDelay: 0.001 }, async (ctx) => {
        attempts++;
        return ctx.run(agent, 'hi');
      }),
    );
    expect(agent.calls).toHaveLength(3);
    expect(attempts).toBe(1);
    expect(result.timings.a.attempts).toBe(1);
    expect((result.errors.a as StepExecutionError).originalError.message).toBe('model down');
  });

  it('retries at step level an error the step raised itself after a successful call', async () => {
    const agent = createMockAgent([{ output: 'fine' }]);
    let attempts = 0;
    const result = await runAlone(
      step({ retries: 1, retryDelay: 0.001 }, async (ctx) => {
        await ctx.run(agent, 'hi');
        if (++attempts === 1) throw new Error('parse failed');
        return 'parsed';
      }),
    );
    expect(result.output).toBe('parsed');
    expect(agent.calls).toHaveLength(2);
  });

  it('never retries CostBudgetExceededError, at either level', async () => {
    const agent = createMockAgent([{ output: 'x', costMicrocents: 150 }]);
    let attempts = 0;
    const result = await runAlone(
      step({ retries: 3, retryDelay: 0.001, costBudget: 100 }, async (ctx) => {
        attempts++;
        await ctx.run(agent, 'first');
        await ctx.run(agent, 'second');
        return 'unreachable';
      }),
    );
    expect(attempts).toBe(1);
    expect(agent.calls).toHaveLength(1);
    const error = result.errors.a as StepExecutionError;
    expect(error.originalError).toBeInstanceOf(CostBudgetExceededError);
  });

  it('never retries a CostBudgetExceededError the step throws itself', async () => {
    let attempts = 0;
    const result = await runAlone(
      step({ retries: 3, retryDelay: 0.001 }, () => {
        attempts++;
        throw new CostBudgetExceededError(10, 20, 'a');
      }),
    );
    expect(attempts).toBe(1);
    expect(result.errors.a).toBeInstanceOf(StepExecutionError);
  });

  it('never retries DispatchSkippedError, at either level', async () => {
    const before = jest.fn(async () => {
      throw new DispatchSkippedError('circuit open');
    });
    const agent = { ...createMockAgent([{ output: 'x' }]), onBeforeDispatch: before };
    let attempts = 0;
    const result = await runAlone(
      step({ retries: 3, retryDelay: 0.001 }, async (ctx) => {
        attempts++;
        return ctx.run(agent, 'hi');
      }),
    );
    expect(attempts).toBe(1);
    expect(before).toHaveBeenCalledTimes(1);
    expect(agent.calls).toHaveLength(0);
    expect((result.errors.a as StepExecutionError).originalError.message).toBe('circuit open');
  });

  it('never retries a subclass of DispatchSkippedError', async () => {
    class RateLimited extends DispatchSkippedError {}
    let attempts = 0;
    const result = await runAlone(
      step({ retries: 2, retryDelay: 0.001 }, () => {
        attempts++;
        throw new RateLimited('slow down');
      }),
    );
    expect(attempts).toBe(1);
    expect((result.errors.a as StepExecutionError).originalError).toBeInstanceOf(RateLimited);
  });

  it('carries usage over from failed attempts into the step usage', async () => {
    const agent = createMockAgent([{ output: 'x', costMicrocents: 100, inputTokens: 7 }]);
    let attempts = 0;
    const result = await runAlone(
      step({ retries: 1, retryDelay: 0.001 }, async (ctx) => {
        await ctx.run(agent, 'hi');
        if (++attempts === 1) throw new Error('retry me');
        return 'ok';
      }),
    );
    expect(result.output).toBe('ok');
    expect(result.usage?.steps.a).toMatchObject({ costMicrocents: 200, inputTokens: 14, requestCount: 2 });
  });

  it("checks the step costBudget against earlier attempts' cost too", async () => {
    const agent = createMockAgent([{ output: 'x', costMicrocents: 100 }]);
    let attempts = 0;
    const result = await runAlone(
      step({ retries: 2, retryDelay: 0.001, costBudget: 100 }, async (ctx) => {
        attempts++;
        await ctx.run(agent, 'hi');
        throw new Error('retry me');
      }),
    );
    expect(attempts).toBe(2);
    expect(agent.calls).toHaveLength(1);
    expect((result.errors.a as StepExecutionError).originalError).toBeInstanceOf(CostBudgetExceededError);
  });

  it('does not start a retry once the run has failed', async () => {
    let flakyAttempts = 0;
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        flaky: step({ retries: 5, retryDelay: 0.01 }, () => {
          flakyAttempts++;
          throw new Error('flaky');
        }),
        fatal: step(async () => {
          await sleep(2);
          throw new Error('fatal');
        }),
        end: step(() => 'end'),
      },
      dependencies: { end: ['flaky', 'fatal'] },
    });
    const error = (await rejectionOf(pipeline.execute({}))) as StepExecutionError;
    expect(error.stepId).toBe('fatal');
    const attemptsAtFailure = flakyAttempts;
    await sleep(100);
    expect(flakyAttempts).toBe(attemptsAtFailure);
    expect(flakyAttempts).toBeLessThanOrEqual(2);
  });

  it('emits a step.started per attempt with its 1-based number', async () => {
    let calls = 0;
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        a: step({ retries: 2, retryDelay: 0.001 }, () => {
          if (++calls < 3) throw new Error('again');
          return 'ok';
        }),
      },
    });
    const events: PipelineEvent[] = await lastValueFrom(pipeline.run({}).pipe(toArray()));
    const attempts = events.filter((event) => event.type === 'step.started').map((event) => (event as { attempt: number }).attempt);
    expect(attempts).toEqual([1, 2, 3]);
  });
});
