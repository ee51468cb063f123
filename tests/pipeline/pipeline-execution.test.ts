import {
  ConversationState,
  ConversationStatus,
  Pipeline,
  PipelineAbortedError,
  PipelineConfig,
  PipelineUsage,
  StepExecutionError,
  StepUsage,
  step,
  type StepContext,
  type Tracer,
} from 'fastroai';
import { createMockAgent } from 'fastroai/testing';
import { deferred, flush, rejectionOf, sleep, within } from '../support/async-helpers';

const incomplete = (data?: unknown) => new ConversationState({ status: ConversationStatus.INCOMPLETE, data });

describe('Pipeline.execute: input', () => {
  const echo = () => new Pipeline({ name: 'echo', steps: { read: step((ctx) => ctx.getInput('data')) } });

  it.each([
    ['a string', 'hello'],
    ['a number', 42],
    ['an array', [1, 2]],
    ['null', null],
    ['a class instance', new Date(0)],
  ])('wraps %s as { data: input }', async (_label, input) => {
    const result = await echo().execute(input as never);
    expect(result.output).toBe(input);
  });

  it('passes a plain object through as the inputs', async () => {
    const pipeline = new Pipeline({ name: 'p', steps: { read: step((ctx) => [ctx.getInput('a'), ctx.getInput('data')]) } });
    expect((await pipeline.execute({ a: 1 })).output).toEqual([1, undefined]);
  });

  it('passes an object without prototype through as the inputs', async () => {
    const input = Object.assign(Object.create(null) as Record<string, unknown>, { a: 'bare' });
    const pipeline = new Pipeline({ name: 'p', steps: { read: step((ctx) => ctx.getInput('a')) } });
    expect((await pipeline.execute(input)).output).toBe('bare');
  });

  it('gives getInput its default only when the key is absent', async () => {
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        read: step((ctx) => ({
          missing: ctx.getInput('missing', 'default'),
          undefinedValue: ctx.getInput('u', 'default'),
          nullValue: ctx.getInput('n', 'default'),
          zero: ctx.getInput('z', 7),
          inherited: ctx.getInput('toString', 'default'),
        })),
      },
    });
    const result = await pipeline.execute({ u: undefined, n: null, z: 0 });
    expect(result.output).toEqual({ missing: 'default', undefinedValue: undefined, nullValue: null, zero: 0, inherited: 'default' });
  });

  it('hands deps to every step as ctx.deps', async () => {
    const deps = { db: 'fake-db' };
    const pipeline = new Pipeline<typeof deps>({ name: 'p', steps: { a: step((ctx: StepContext<typeof deps>) => ctx.deps) } });
    expect((await pipeline.execute({}, deps)).output).toBe(deps);
  });
});

describe('Pipeline.execute: result', () => {
  it('returns the output step output and every step output', async () => {
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a: step(() => 1), b: step(() => 2), sum: step((ctx) => ctx.getDependency<number>('a') + ctx.getDependency<number>('b')) },
      dependencies: { sum: ['a', 'b'] },
    });
    const result = await pipeline.execute({});
    expect(result.output).toBe(3);
    expect(result.stepOutputs).toEqual({ a: 1, b: 2, sum: 3 });
    expect(result.stoppedEarly).toBe(false);
    expect(result.errors).toEqual({});
    expect(result.skipped).toEqual([]);
    expect(result.conversationState).toBeUndefined();
    expect(typeof result.runId).toBe('string');
  });

  it('returns the output of an explicit outputStep that is not the deepest step', async () => {
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a: step(() => 'a'), b: step(() => 'b') },
      dependencies: { b: ['a'] },
      outputStep: 'a',
    });
    expect((await pipeline.execute({})).output).toBe('a');
  });

  it('leaves usage undefined when no step made a ctx.run call', async () => {
    const pipeline = new Pipeline({ name: 'p', steps: { a: step(() => 1) } });
    expect((await pipeline.execute({})).usage).toBeUndefined();
  });

  it('sums usage exactly over the steps that called ctx.run, keeping each step usage', async () => {
    const cheap = createMockAgent([{ output: 'x', inputTokens: 10, outputTokens: 5, costMicrocents: 1_234, model: 'm1' }]);
    const pricey = createMockAgent([{ output: 'y', inputTokens: 100, outputTokens: 50, costMicrocents: 98_765, toolCallCount: 2 }]);
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        a: step(async (ctx) => {
          await ctx.run(cheap, 'one');
          await ctx.run(cheap, 'two');
          return 'a';
        }),
        b: step(async (ctx) => (await ctx.run(pricey, 'three')).output),
        quiet: step(() => 'no calls'),
        end: step(() => 'end'),
      },
      dependencies: { end: ['a', 'b', 'quiet'] },
    });
    const { usage } = await pipeline.execute({});
    expect(usage).toBeInstanceOf(PipelineUsage);
    expect(Object.keys(usage!.steps).sort()).toEqual(['a', 'b']);
    expect(usage!.steps.a).toBeInstanceOf(StepUsage);
    expect(usage!.steps.a).toMatchObject({ inputTokens: 20, outputTokens: 10, costMicrocents: 2_468, requestCount: 2, model: 'm1' });
    expect(usage!.steps.b).toMatchObject({ inputTokens: 100, outputTokens: 50, costMicrocents: 98_765, toolCallCount: 2 });
    expect(usage!.totalCostMicrocents).toBe(101_233);
    expect(usage!.totalInputTokens).toBe(120);
    expect(usage!.totalOutputTokens).toBe(60);
    expect(usage!.totalRequestCount).toBe(3);
    expect(usage!.totalToolCallCount).toBe(2);
  });

  it('records timings of each step that ran, in ms since the run started', async () => {
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a: step(async () => sleep(5)), b: step(() => 'b') },
      dependencies: { b: ['a'] },
    });
    const { timings } = await pipeline.execute({});
    expect(Object.keys(timings)).toEqual(['a', 'b']);
    expect(timings.a.startMs).toBeGreaterThanOrEqual(0);
    expect(timings.a.endMs).toBeGreaterThanOrEqual(timings.a.startMs);
    expect(timings.b.startMs).toBeGreaterThanOrEqual(timings.a.endMs);
    expect(timings.a.attempts).toBe(1);
  });

  it('shows stepOutputs and timings to spread and JSON like plain records', async () => {
    const pipeline = new Pipeline({ name: 'p', steps: { a: step(() => 1) } });
    const result = await pipeline.execute({});
    const copy = { ...result };
    expect(copy.stepOutputs).toEqual({ a: 1 });
    expect(JSON.parse(JSON.stringify(result)).stepOutputs).toEqual({ a: 1 });
    result.stepOutputs = { replaced: true };
    expect(result.stepOutputs).toEqual({ replaced: true });
  });

  it('runs two executions of one pipeline independently and at the same time', async () => {
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        a: step(async (ctx) => {
          await sleep(5);
          return ctx.getInput<number>('n');
        }),
        b: step((ctx) => ctx.getDependency<number>('a') * 10),
      },
      dependencies: { b: ['a'] },
    });
    const [one, two] = await Promise.all([pipeline.execute({ n: 1 }), pipeline.execute({ n: 2 })]);
    expect(one.output).toBe(10);
    expect(two.output).toBe(20);
    expect(one.runId).not.toBe(two.runId);
  });

  it('uses options.runId as the run id', async () => {
    const pipeline = new Pipeline({ name: 'p', steps: { a: step(() => 1) } });
    expect((await pipeline.execute({}, undefined, { runId: 'run-42' })).runId).toBe('run-42');
  });
});

describe('Pipeline.execute: how a step is called', () => {
  it('calls a step(fn) function with the step as this, as its execute does', async () => {
    let self: unknown;
    const only = step(function (this: unknown) {
      self = this;
      return 1;
    });
    await new Pipeline({ name: 'p', steps: { only } }).execute({});
    expect(self).toBe(only);
  });

  it("calls a step's execute replaced after an earlier run (a test's spy), not the function it wrapped", async () => {
    const only = step(() => 'function');
    const pipeline = new Pipeline({ name: 'p', steps: { only } });
    expect((await pipeline.execute({})).output).toBe('function');
    only.execute = () => 'replaced';
    expect((await pipeline.execute({})).output).toBe('replaced');
  });
});

describe('Pipeline.execute: scheduling', () => {
  it('starts a step as soon as its own dependencies finished, not when its level did', async () => {
    const log: string[] = [];
    const dependentStarted = deferred();
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        slow: step(async () => {
          log.push('slow:start');
          // A level-by-level engine would never start `dependent` while `slow` runs: the gate
          // would then only open by its 2 s fallback, after which the order below breaks.
          await within(dependentStarted.promise, 2_000, undefined);
          log.push('slow:end');
        }),
        fast: step(() => {
          log.push('fast');
        }),
        dependent: step(() => {
          log.push('dependent');
          dependentStarted.resolve();
        }),
        end: step(() => 'end'),
      },
      dependencies: { dependent: ['fast'], end: ['slow', 'dependent'] },
    });
    const result = await pipeline.execute({});
    expect(log).toEqual(['slow:start', 'fast', 'dependent', 'slow:end']);
    expect(result.timings.dependent.startMs).toBeLessThan(result.timings.slow.endMs);
  });

  it('finishes a chain beside a slow step before that step ends (makespan = critical path)', async () => {
    const chainDone = deferred();
    const ends: string[] = [];
    const link = (id: string) =>
      step(async () => {
        await sleep(1);
        ends.push(id);
        if (id === 'c3') chainDone.resolve();
      });
    const pipeline = new Pipeline({
      name: 'skewed',
      steps: {
        slow: step(async () => {
          await within(chainDone.promise, 2_000, undefined);
          ends.push('slow');
        }),
        c1: link('c1'),
        c2: link('c2'),
        c3: link('c3'),
        join: step(() => 'joined'),
      },
      dependencies: { c2: ['c1'], c3: ['c2'], join: ['slow', 'c3'] },
    });
    const result = await pipeline.execute({});
    expect(ends).toEqual(['c1', 'c2', 'c3', 'slow']);
    expect(result.output).toBe('joined');
  });

  it('never runs more steps at once than maxConcurrency', async () => {
    let running = 0;
    let peak = 0;
    const work = () =>
      step(async () => {
        running++;
        peak = Math.max(peak, running);
        await sleep(3);
        running--;
      });
    const steps: Record<string, ReturnType<typeof work>> = {};
    for (let i = 0; i < 8; i++) steps[`s${i}`] = work();
    steps.end = work();
    const pipeline = new Pipeline({
      name: 'p',
      steps,
      dependencies: { end: Object.keys(steps).filter((id) => id !== 'end') },
      config: new PipelineConfig({ maxConcurrency: 3 }),
    });
    await pipeline.execute({});
    expect(peak).toBe(3);
  });

  it('starts ready steps in declaration order', async () => {
    const started: string[] = [];
    const record = () =>
      step(async (ctx) => {
        started.push(ctx.stepId);
        await sleep(1);
      });
    // `late` is declared first but becomes ready only when `a` finished.
    const pipeline = new Pipeline({
      name: 'p',
      steps: { late: record(), a: record(), b: record(), c: record() },
      dependencies: { late: ['a'] },
      outputStep: 'late',
      config: new PipelineConfig({ maxConcurrency: 1 }),
    });
    await pipeline.execute({});
    expect(started).toEqual(['a', 'late', 'b', 'c']);
  });

  it("frees a slot when a step fails under onError 'continue' and a cap of 1", async () => {
    const ran: string[] = [];
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        bad: step(() => {
          throw new Error('x');
        }),
        b: step(() => void ran.push('b')),
        c: step(() => void ran.push('c')),
      },
      outputStep: 'c',
      config: new PipelineConfig({ maxConcurrency: 1, onError: 'continue' }),
    });
    const result = await pipeline.execute({});
    expect(ran).toEqual(['b', 'c']);
    expect(Object.keys(result.errors)).toEqual(['bad']);
  });

  it('starts no queued step after an INCOMPLETE stop under a cap', async () => {
    const ran: string[] = [];
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        gather: step(() => incomplete()),
        queued: step(() => void ran.push('queued')),
      },
      outputStep: 'queued',
      config: new PipelineConfig({ maxConcurrency: 1 }),
    });
    const result = await pipeline.execute({});
    expect(result.stoppedEarly).toBe(true);
    expect(ran).toEqual([]);
  });

  it('starts steps of equal readiness in declaration order without a cap', async () => {
    const started: string[] = [];
    const record = () => step((ctx) => void started.push(ctx.stepId));
    const pipeline = new Pipeline({
      name: 'p',
      steps: { z: record(), y: record(), x: record(), end: record() },
      dependencies: { end: ['z', 'y', 'x'] },
    });
    await pipeline.execute({});
    expect(started).toEqual(['z', 'y', 'x', 'end']);
  });

  it('runs a 100,000-step chain without a stack overflow', async () => {
    const size = 100_000;
    const steps: Record<string, ReturnType<typeof step>> = {};
    const dependencies: Record<string, string[]> = {};
    const first = step(() => 0);
    const next = step((ctx: StepContext) => (ctx.getDependency<number>(`s${Number(ctx.stepId.slice(1)) - 1}`) as number) + 1);
    for (let i = 0; i < size; i++) {
      steps[`s${i}`] = i === 0 ? first : next;
      if (i > 0) dependencies[`s${i}`] = [`s${i - 1}`];
    }
    const pipeline = new Pipeline({ name: 'chain', steps, dependencies });
    expect(pipeline.levels).toHaveLength(size);
    const result = await pipeline.execute({});
    expect(result.output).toBe(size - 1);
  }, 60_000);

  it('runs a step that depends on 10,000 others and sees every one of their outputs', async () => {
    const steps: Record<string, ReturnType<typeof step>> = {};
    const ids: string[] = [];
    const leaf = step((ctx: StepContext) => Number(ctx.stepId.slice(1)));
    for (let i = 0; i < 10_000; i++) {
      ids.push(`s${i}`);
      steps[`s${i}`] = leaf;
    }
    steps.sink = step((ctx: StepContext) => ids.reduce((sum, id) => sum + ctx.getDependency<number>(id), 0));
    const pipeline = new Pipeline({ name: 'fan-in', steps, dependencies: { sink: ids } });
    const result = await pipeline.execute({});
    expect(result.output).toBe((9_999 * 10_000) / 2);
  }, 60_000);
});

describe('Pipeline.execute: dependency outputs', () => {
  it('lets a step read its direct and transitive dependencies', async () => {
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        a: step(() => 'A'),
        b: step((ctx) => `${ctx.getDependency('a')}B`),
        c: step((ctx) => [ctx.getDependency('a'), ctx.getDependency('b')]),
      },
      dependencies: { b: ['a'], c: ['b'] },
    });
    expect((await pipeline.execute({})).output).toEqual(['A', 'AB']);
  });

  it("does not show a step the output of a completed step it does not depend on, with the exact message", async () => {
    const siblingDone = deferred();
    let error: unknown;
    let orNone: unknown = 'unset';
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        sibling: step(() => {
          siblingDone.resolve();
          return 'secret';
        }),
        root: step(() => 'root'),
        mid: step(() => 'mid'),
        reader: step(async (ctx) => {
          await siblingDone.promise;
          orNone = ctx.getDependencyOrNone('sibling');
          try {
            ctx.getDependency('sibling');
          } catch (caught) {
            error = caught;
          }
          return 'read';
        }),
        end: step(() => 'end'),
      },
      dependencies: { mid: ['root'], reader: ['mid'], end: ['reader', 'sibling'] },
    });
    await pipeline.execute({});
    expect(orNone).toBeUndefined();
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe("Step 'sibling' not a dependency of 'reader' or hasn't completed. Available: ['root', 'mid']");
  });

  it('does not show a step its own dependents', async () => {
    let message = '';
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        a: step((ctx) => {
          message = (() => {
            try {
              ctx.getDependency('b');
              return 'visible';
            } catch (error) {
              return (error as Error).message;
            }
          })();
        }),
        b: step(() => 'b'),
      },
      dependencies: { b: ['a'] },
    });
    await pipeline.execute({});
    expect(message).toBe("Step 'b' not a dependency of 'a' or hasn't completed. Available: []");
  });

  it('reports an unknown step id the same way', async () => {
    const pipeline = new Pipeline({ name: 'p', steps: { a: step((ctx) => ctx.getDependency('nope')) } });
    const error = (await rejectionOf(pipeline.execute({}))) as StepExecutionError;
    expect(error.originalError.message).toBe("Step 'nope' not a dependency of 'a' or hasn't completed. Available: []");
  });
});

describe("Pipeline.execute: onError 'fail'", () => {
  it('rejects with StepExecutionError carrying the step id and the original error', async () => {
    const original = new Error('boom');
    const pipeline = new Pipeline({ name: 'p', steps: { a: step(() => 1), b: step(() => { throw original; }) }, dependencies: { b: ['a'] } });
    const error = (await rejectionOf(pipeline.execute({}))) as StepExecutionError;
    expect(error).toBeInstanceOf(StepExecutionError);
    expect(error.stepId).toBe('b');
    expect(error.originalError).toBe(original);
    expect(error.message).toBe("Step 'b' failed: boom");
  });

  it("aborts the other running steps' signals with the failure", async () => {
    const otherStarted = deferred();
    const otherSignal = deferred<AbortSignal>();
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        failing: step(async () => {
          await otherStarted.promise;
          throw new Error('fails first');
        }),
        other: step(async (ctx) => {
          otherSignal.resolve(ctx.signal);
          otherStarted.resolve();
          await sleep(10_000, ctx.signal);
        }),
        end: step(() => 'end'),
      },
      dependencies: { end: ['failing', 'other'] },
    });
    const startedAt = performance.now();
    const error = await rejectionOf(pipeline.execute({}));
    const signal = await otherSignal.promise;
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(error);
    expect(performance.now() - startedAt).toBeLessThan(2_000);
  });

  it('starts nothing new after the first failure', async () => {
    const started: string[] = [];
    const slowDone = deferred();
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        failing: step(() => {
          throw new Error('no');
        }),
        slow: step(async () => {
          started.push('slow');
          await sleep(20);
          slowDone.resolve();
        }),
        afterSlow: step(() => void started.push('afterSlow')),
        end: step(() => 'end'),
      },
      dependencies: { afterSlow: ['slow'], end: ['failing', 'afterSlow'] },
    });
    await expect(pipeline.execute({})).rejects.toBeInstanceOf(StepExecutionError);
    await slowDone.promise;
    await sleep(5);
    expect(started).toEqual(['slow']);
  });

  it('re-throws a StepExecutionError from a nested pipeline as it is', async () => {
    const inner = new Pipeline({ name: 'inner', steps: { deep: step(() => { throw new Error('deep failure'); }) } });
    let innerError: unknown;
    const outer = new Pipeline({
      name: 'outer',
      steps: {
        wrapper: step(async () => {
          try {
            return await inner.execute({});
          } catch (error) {
            innerError = error;
            throw error;
          }
        }),
      },
    });
    const error = (await rejectionOf(outer.execute({}))) as StepExecutionError;
    expect(error).toBe(innerError);
    expect(error.stepId).toBe('deep');
    expect(error.message).toBe("Step 'deep' failed: deep failure");
  });

  it('keeps the first failure when two steps fail', async () => {
    const firstFailed = deferred();
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        first: step(() => {
          firstFailed.resolve();
          throw new Error('first');
        }),
        second: step(async () => {
          await firstFailed.promise;
          await sleep(1);
          throw new Error('second');
        }),
        end: step(() => 'end'),
      },
      dependencies: { end: ['first', 'second'] },
    });
    const error = (await rejectionOf(pipeline.execute({}))) as StepExecutionError;
    expect(error.stepId).toBe('first');
    await sleep(10);
  });
});

describe('Pipeline.execute: a failed or aborted run keeps its cost', () => {
  /**
   * Steps: `done` made a paid call and completed; `sibling` made a paid call and is still
   * running (waiting on its signal); `failing` made a paid call and then fails (or waits too).
   */
  function threePaidSteps(failing: 'throws' | 'waits') {
    const paid = (costMicrocents: number) => createMockAgent([{ output: 'x', costMicrocents, inputTokens: 1, outputTokens: 1 }]);
    const siblingCalled = deferred();
    const waitForAbort = (ctx: StepContext) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
    const pipeline = new Pipeline({
      name: 'paid',
      steps: {
        done: step(async (ctx: StepContext) => (await ctx.run(paid(100), 'q')).output),
        sibling: step(async (ctx: StepContext) => {
          await ctx.run(paid(20), 'q');
          siblingCalled.resolve();
          return waitForAbort(ctx);
        }),
        failing: step(async (ctx: StepContext) => {
          await ctx.run(paid(3), 'q');
          await siblingCalled.promise;
          if (failing === 'throws') throw new Error('boom');
          return waitForAbort(ctx);
        }),
        join: step(() => 'never'),
      },
      dependencies: { failing: ['done'], join: ['sibling', 'failing'] },
    });
    return { pipeline, siblingCalled };
  }

  it("fail fast (no store): the error's runUsage counts the completed step, the failed one and the sibling cut off mid-run", async () => {
    const error = (await rejectionOf(threePaidSteps('throws').pipeline.execute({}))) as StepExecutionError;
    expect(StepExecutionError.isInstance(error)).toBe(true);
    expect(error.usage.costMicrocents).toBe(3);
    expect(error.runUsage).toBeInstanceOf(PipelineUsage);
    expect(error.runUsage!.totalCostMicrocents).toBe(123);
    expect(error.runUsage!.totalRequestCount).toBe(3);
    expect(Object.keys(error.runUsage!.steps).sort()).toEqual(['done', 'failing', 'sibling']);
  });

  it("an aborted run: PipelineAbortedError's runUsage counts every call made before the abort", async () => {
    const { pipeline, siblingCalled } = threePaidSteps('waits');
    const controller = new AbortController();
    const pending = rejectionOf(pipeline.execute({}, undefined, { signal: controller.signal }));
    await siblingCalled.promise;
    await flush();
    controller.abort();
    const error = (await pending) as PipelineAbortedError;
    expect(PipelineAbortedError.isInstance(error)).toBe(true);
    expect(error.runUsage?.totalCostMicrocents).toBe(123);
  });

  it("a nested pipeline's error, re-thrown as it is, keeps the nested run's cost beside the outer run's", async () => {
    const paid = (costMicrocents: number) => createMockAgent([{ output: 'x', costMicrocents }]);
    const inner = new Pipeline({
      name: 'inner',
      steps: {
        i: step(async (ctx: StepContext) => {
          await ctx.run(paid(500), 'q');
          throw new Error('inner boom');
        }),
      },
    });
    const outer = new Pipeline({
      name: 'outer',
      steps: {
        o: step(async (ctx: StepContext) => {
          await ctx.run(paid(100), 'q');
          return inner.execute({});
        }),
      },
    });
    const error = (await rejectionOf(outer.execute({}))) as StepExecutionError;
    expect(error).toMatchObject({ stepId: 'i', message: "Step 'i' failed: inner boom" }); // re-thrown as it is
    expect(error.usage.costMicrocents).toBe(500);
    expect(error.runUsage!.totalCostMicrocents).toBe(600);
    expect(error.runUsage!.steps.o.costMicrocents).toBe(100);
    expect(error.runUsage!.steps.i.costMicrocents).toBe(500);
  });

  it('a run aborted before any paid call has no runUsage', async () => {
    const controller = new AbortController();
    const pipeline = new Pipeline({ name: 'p', steps: { a: step((ctx: StepContext) => new Promise((resolve) => ctx.signal.addEventListener('abort', resolve))) } });
    const pending = rejectionOf(pipeline.execute({}, undefined, { signal: controller.signal }));
    await flush();
    controller.abort();
    expect(((await pending) as PipelineAbortedError).runUsage).toBeUndefined();
  });
});

describe("Pipeline.execute: onError 'continue'", () => {
  const continueConfig = new PipelineConfig({ onError: 'continue' });

  it('skips the failed step transitive dependents, runs every other step and resolves with errors and skipped', async () => {
    const ran: string[] = [];
    const ok = () => step((ctx) => void ran.push(ctx.stepId));
    const original = new Error('bad branch');
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        root: ok(),
        bad: step(() => {
          throw original;
        }),
        childOfBad: ok(),
        grandchildOfBad: ok(),
        good: ok(),
        childOfGood: ok(),
        end: ok(),
      },
      dependencies: {
        bad: ['root'],
        childOfBad: ['bad'],
        grandchildOfBad: ['childOfBad'],
        good: ['root'],
        childOfGood: ['good'],
        end: ['grandchildOfBad', 'childOfGood'],
      },
      config: continueConfig,
    });
    const result = await pipeline.execute({});
    expect(ran.sort()).toEqual(['childOfGood', 'good', 'root']);
    expect(Object.keys(result.errors)).toEqual(['bad']);
    expect(result.errors.bad).toBeInstanceOf(StepExecutionError);
    expect((result.errors.bad as StepExecutionError).originalError).toBe(original);
    expect(result.skipped).toEqual(['childOfBad', 'grandchildOfBad', 'end']);
    expect(result.output).toBeUndefined();
    expect(Object.keys(result.stepOutputs).sort()).toEqual(['childOfGood', 'good', 'root']);
    expect(result.timings.bad.attempts).toBe(1);
    expect(result.timings.childOfBad).toBeUndefined();
  });

  it('returns the output when the output step did not depend on the failure', async () => {
    const pipeline = new Pipeline({
      name: 'p',
      steps: { bad: step(() => { throw new Error('x'); }), out: step(() => 'fine') },
      outputStep: 'out',
      config: continueConfig,
    });
    const result = await pipeline.execute({});
    expect(result.output).toBe('fine');
    expect(Object.keys(result.errors)).toEqual(['bad']);
    expect(result.skipped).toEqual([]);
  });

  it('counts the usage of a step that failed after calling an agent', async () => {
    const agent = createMockAgent([{ output: 'x', costMicrocents: 500 }]);
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        bad: step(async (ctx) => {
          await ctx.run(agent, 'hi');
          throw new Error('after the call');
        }),
      },
      config: continueConfig,
    });
    const result = await pipeline.execute({});
    expect(result.usage?.steps.bad.costMicrocents).toBe(500);
    expect(result.usage?.totalCostMicrocents).toBe(500);
  });
});

describe('Pipeline.execute: cancellation', () => {
  it('rejects with PipelineAbortedError and aborts the running steps when the signal aborts', async () => {
    const controller = new AbortController();
    const started = deferred<AbortSignal>();
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        long: step(async (ctx) => {
          started.resolve(ctx.signal);
          await sleep(10_000, ctx.signal);
        }),
        after: step(() => 'never'),
      },
      dependencies: { after: ['long'] },
    });
    const running = pipeline.execute({}, undefined, { signal: controller.signal });
    const stepSignal = await started.promise;
    const startedAt = performance.now();
    controller.abort('user cancelled');
    const error = await rejectionOf(running);
    expect(error).toBeInstanceOf(PipelineAbortedError);
    expect(PipelineAbortedError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe("Pipeline 'p' was aborted");
    expect((error as Error).cause).toBe('user cancelled');
    expect(stepSignal.aborted).toBe(true);
    expect(performance.now() - startedAt).toBeLessThan(2_000);
  });

  it('starts nothing new after the signal aborted', async () => {
    const controller = new AbortController();
    const started: string[] = [];
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        first: step(async () => {
          started.push('first');
          controller.abort();
          await sleep(5);
        }),
        second: step(() => void started.push('second')),
      },
      dependencies: { second: ['first'] },
    });
    await expect(pipeline.execute({}, undefined, { signal: controller.signal })).rejects.toBeInstanceOf(PipelineAbortedError);
    await sleep(20);
    expect(started).toEqual(['first']);
  });

  it('runs nothing when the signal is already aborted', async () => {
    const ran = jest.fn();
    const pipeline = new Pipeline({ name: 'p', steps: { a: step(ran) } });
    const error = await rejectionOf(pipeline.execute({}, undefined, { signal: AbortSignal.abort('early') }));
    expect(error).toBeInstanceOf(PipelineAbortedError);
    await flush();
    expect(ran).not.toHaveBeenCalled();
  });

  it('ignores a signal that aborts after the run finished', async () => {
    const controller = new AbortController();
    const pipeline = new Pipeline({ name: 'p', steps: { a: step(() => 'done') } });
    const result = await pipeline.execute({}, undefined, { signal: controller.signal });
    controller.abort();
    await flush();
    expect(result.output).toBe('done');
  });

  it('cancels a step waiting to retry', async () => {
    const controller = new AbortController();
    let attempts = 0;
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        flaky: step({ retries: 3, retryDelay: 5 }, () => {
          attempts++;
          setTimeout(() => controller.abort(), 5);
          throw new Error('fails');
        }),
      },
    });
    const startedAt = performance.now();
    await expect(pipeline.execute({}, undefined, { signal: controller.signal })).rejects.toBeInstanceOf(PipelineAbortedError);
    expect(performance.now() - startedAt).toBeLessThan(2_000);
    await sleep(20);
    expect(attempts).toBe(1);
  });
});

describe('Pipeline.execute: early stop on INCOMPLETE', () => {
  it('stops the run: nothing new starts, output undefined, the state returned', async () => {
    const state = incomplete({ name: 'Ada' });
    const after = jest.fn();
    const pipeline = new Pipeline({
      name: 'p',
      steps: { gather: step(() => state), after: step(after) },
      dependencies: { after: ['gather'] },
    });
    const result = await pipeline.execute({});
    expect(result.stoppedEarly).toBe(true);
    expect(result.output).toBeUndefined();
    expect(result.conversationState).toBe(state);
    expect(result.stepOutputs).toEqual({ gather: state });
    expect(after).not.toHaveBeenCalled();
    expect(result.skipped).toEqual([]);
  });

  it('lets running steps finish and keep their outputs and usage, without aborting them', async () => {
    const gathered = deferred();
    const agent = createMockAgent([{ output: 'priced', costMicrocents: 42 }]);
    let siblingAbortedAtEnd: boolean | undefined;
    const notStarted = jest.fn();
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        gather: step(() => {
          gathered.resolve();
          return incomplete();
        }),
        sibling: step(async (ctx) => {
          await within(gathered.promise, 2_000, undefined);
          await sleep(5);
          const response = await ctx.run(agent, 'price it');
          siblingAbortedAtEnd = ctx.signal.aborted;
          return response.output;
        }),
        afterSibling: step(notStarted),
        end: step(() => 'end'),
      },
      dependencies: { afterSibling: ['sibling'], end: ['gather', 'afterSibling'] },
    });
    const result = await pipeline.execute({});
    expect(result.stoppedEarly).toBe(true);
    expect(result.stepOutputs.sibling).toBe('priced');
    expect(result.usage?.steps.sibling.costMicrocents).toBe(42);
    expect(siblingAbortedAtEnd).toBe(false);
    expect(notStarted).not.toHaveBeenCalled();
  });

  it('records a sibling failing after the stop in errors, and still resolves as stopped (first event wins)', async () => {
    const gathered = deferred();
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        gather: step(() => {
          gathered.resolve();
          return incomplete();
        }),
        sibling: step(async () => {
          await within(gathered.promise, 2_000, undefined);
          await sleep(2);
          throw new Error('late failure');
        }),
        end: step(() => 'end'),
      },
      dependencies: { end: ['gather', 'sibling'] },
    });
    const result = await pipeline.execute({});
    expect(result.stoppedEarly).toBe(true);
    expect(Object.keys(result.errors)).toEqual(['sibling']);
    expect(result.errors.sibling).toBeInstanceOf(StepExecutionError);
    expect(result.errors.sibling.message).toBe("Step 'sibling' failed: late failure");
  });

  it("rejects when a failure came before the stop (onError 'fail')", async () => {
    const failed = deferred();
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        failing: step(() => {
          failed.resolve();
          throw new Error('first');
        }),
        gather: step(async () => {
          await within(failed.promise, 2_000, undefined);
          await sleep(2);
          return incomplete();
        }),
        end: step(() => 'end'),
      },
      dependencies: { end: ['failing', 'gather'] },
    });
    const error = (await rejectionOf(pipeline.execute({}))) as StepExecutionError;
    expect(error).toBeInstanceOf(StepExecutionError);
    expect(error.stepId).toBe('failing');
  });

  it('does not stop on a COMPLETE state, but reports it', async () => {
    const state = new ConversationState({ status: ConversationStatus.COMPLETE, data: 'all there' });
    const pipeline = new Pipeline({
      name: 'p',
      steps: { gather: step(() => state), after: step(() => 'after') },
      dependencies: { after: ['gather'] },
    });
    const result = await pipeline.execute({});
    expect(result.stoppedEarly).toBe(false);
    expect(result.output).toBe('after');
    expect(result.conversationState).toBe(state);
  });

  it('keeps the INCOMPLETE state when a later step returns another state', async () => {
    const gathered = deferred();
    const stopping = incomplete('first');
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        gather: step(() => {
          gathered.resolve();
          return stopping;
        }),
        other: step(async () => {
          await within(gathered.promise, 2_000, undefined);
          await sleep(2);
          return new ConversationState({ status: ConversationStatus.COMPLETE });
        }),
        end: step(() => 'end'),
      },
      dependencies: { end: ['gather', 'other'] },
    });
    const result = await pipeline.execute({});
    expect(result.conversationState).toBe(stopping);
  });
});

describe('Pipeline.execute: tracing', () => {
  /** A tracer that records span names and nesting. */
  function recordingTracer() {
    const spans: Array<{ name: string; parent: string | undefined; attributes?: Record<string, unknown> }> = [];
    const stack: string[] = [];
    const tracer: Tracer = {
      async span(name, fn, attributes) {
        spans.push({ name, parent: stack[stack.length - 1], attributes });
        stack.push(name);
        try {
          return await fn(`trace-${spans.length}`);
        } finally {
          stack.pop();
        }
      },
      logMetric: jest.fn(),
      logError: jest.fn(),
    };
    return { tracer, spans };
  }

  it('opens pipeline.<name>, and step.<id> for each step attempt inside it', async () => {
    const { tracer, spans } = recordingTracer();
    const pipeline = new Pipeline({ name: 'doc', steps: { extract: step(() => 'x') } });
    await pipeline.execute({}, undefined, tracer);
    expect(spans.map((s) => s.name)).toEqual(['pipeline.doc', 'step.extract']);
    expect(spans[1].parent).toBe('pipeline.doc');
    expect(spans[1].attributes).toMatchObject({ stepId: 'extract', attempt: 1 });
  });

  it('opens one step span per attempt', async () => {
    const { tracer, spans } = recordingTracer();
    let calls = 0;
    const pipeline = new Pipeline({
      name: 'doc',
      steps: {
        flaky: step({ retries: 1, retryDelay: 0.001 }, () => {
          if (++calls === 1) throw new Error('once');
          return 'ok';
        }),
      },
    });
    await pipeline.execute({}, undefined, { tracer });
    expect(spans.filter((s) => s.name === 'step.flaky').map((s) => s.attributes?.attempt)).toEqual([1, 2]);
  });

  it('hands the tracer to steps and to agents through ctx.run', async () => {
    const { tracer } = recordingTracer();
    const agent = createMockAgent([{ output: 'x' }]);
    let seen: Tracer | undefined;
    const pipeline = new Pipeline({
      name: 'doc',
      steps: {
        a: step(async (ctx) => {
          seen = ctx.tracer;
          return (await ctx.run(agent, 'hi')).output;
        }),
      },
    });
    await pipeline.execute({}, undefined, tracer);
    expect(seen).toBe(tracer);
    expect(agent.calls[0].options.tracer).toBe(tracer);
  });

  it('runs with a NoOpTracer when PipelineConfig.trace is false', async () => {
    const { tracer, spans } = recordingTracer();
    let seen: Tracer | undefined;
    const pipeline = new Pipeline({
      name: 'doc',
      steps: { a: step((ctx) => void (seen = ctx.tracer)) },
      config: new PipelineConfig({ trace: false }),
    });
    await pipeline.execute({}, undefined, tracer);
    expect(spans).toEqual([]);
    expect(seen).toBeDefined();
    expect(seen).not.toBe(tracer);
  });

  it('gives steps a tracer even when none was passed', async () => {
    let seen: Tracer | undefined;
    await new Pipeline({ name: 'p', steps: { a: step((ctx) => void (seen = ctx.tracer)) } }).execute({});
    expect(typeof seen?.span).toBe('function');
    await expect(seen!.span('x', async () => 7)).resolves.toBe(7);
  });

  it('runs the step untraced, and warns once, when the tracer span throws synchronously (API.md §10)', async () => {
    const tracer: Tracer = {
      span: (name, fn) => {
        if (name.startsWith('step.')) throw new Error('tracer broke');
        return fn('t');
      },
      logMetric: () => undefined,
      logError: () => undefined,
    };
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const pipeline = new Pipeline({ name: 'p', steps: { a: step(() => 1), b: step(() => 2) }, outputStep: 'b' });
      const result = await pipeline.execute({}, undefined, tracer);
      expect(result.stepOutputs).toEqual({ a: 1, b: 2 });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toContain('tracer broke');
    } finally {
      warn.mockRestore();
    }
  });
});
